// The popup's "Test my lock" (its own WebRTC checks and the verdict) and the options page's 7-day timeline.
import { describe, expect, it } from 'vitest';
import { candidateAddress, extensionChecks, selfTestView, webrtcCandidatesCheck, webrtcPolicyCheck } from '../../extension/src/popup/self-test-model.js';
import { timeline, WEEK_MS } from '../../extension/src/options/history-model.js';
import type { HistoryEventT, SelfTestResultT } from '../../extension/src/shared/protocol.js';
import type { WebrtcView } from '../../extension/src/shared/snapshot.js';

const webrtc = (over: Partial<WebrtcView> = {}): WebrtcView => ({
  policy: 'disable_non_proxied_udp',
  levelOfControl: 'controlled_by_this_extension',
  peerConnectionBlocked: false,
  relaxed: false,
  captiveForced: false,
  reason: '',
  problem: null,
  ...over,
});
const daemon: SelfTestResultT = {
  ok: true,
  checks: ['lock', 'kernel', 'escapes', 'endpoint', 'tunnel'].map((name) => ({ name, ok: true, evidence: 'x' })),
  notes: [],
  tunnelAddresses: ['10.64.0.2', 'fe80::1'],
  ms: 900,
};

describe('popup self-test', () => {
  it('the WebRTC policy must be ours', () => {
    expect(webrtcPolicyCheck(webrtc()).ok).toBe(true);
    expect(webrtcPolicyCheck(webrtc({ levelOfControl: 'controlled_by_other_extensions' }))).toMatchObject({ ok: false, fix: expect.stringContaining('another extension') });
    expect(webrtcPolicyCheck(webrtc({ levelOfControl: 'controllable_by_this_extension' }))).toMatchObject({ ok: false, fix: expect.stringContaining('Protect') });
  });

  it('reads the address of a candidate line', () => {
    expect(candidateAddress('candidate:1 1 udp 2122260223 192.0.2.7 54400 typ host generation 0')).toBe('192.0.2.7');
    expect(candidateAddress('a=candidate:1 1 UDP 2122252543 2001:DB8::7 54401 typ host')).toBe('2001:db8::7');
    expect(candidateAddress('candidate:1 1 udp 1 2001:db8:0:0:0:0:0:7 5000 typ host')).toBe('2001:db8::7');
    expect(candidateAddress('candidate:1 1 udp 1 3F2B.local 5000 typ host')).toBe('3f2b.local');
    expect(candidateAddress('garbage')).toBeNull();
  });

  it('a gathered address outside the tunnel fails; tunnel addresses and mDNS names pass', () => {
    const pass = webrtcCandidatesCheck({ available: true, candidates: ['candidate:1 1 udp 1 10.64.0.2 5000 typ host', 'candidate:2 1 udp 1 3f2b.local 5001 typ host'] }, daemon.tunnelAddresses);
    expect(pass.ok).toBe(true);
    const fail = webrtcCandidatesCheck({ available: true, candidates: ['candidate:1 1 udp 1 192.168.1.20 5000 typ host'] }, daemon.tunnelAddresses);
    expect(fail).toMatchObject({ ok: false, evidence: expect.stringContaining('outside the tunnel: 192.168.1.20') });
    // The tunnel's address written another way is still the tunnel's (the daemon's canonical text on both sides).
    expect(webrtcCandidatesCheck({ available: true, candidates: ['candidate:1 1 udp 1 2001:DB8:0:0::2 5000 typ host'] }, ['2001:db8::2']).ok).toBe(true);
    expect(webrtcCandidatesCheck({ available: true, candidates: [] }, []).evidence).toMatch(/no candidate gathered/);
    expect(webrtcCandidatesCheck({ available: false, candidates: [] }, []).ok).toBe(true);
    expect(webrtcCandidatesCheck({ available: true, candidates: [], error: 'boom' }, []).ok).toBe(false);
  });

  it('Chromium: only the policy check, and a note on why nothing is gathered', () => {
    const own = extensionChecks(webrtc(), null, []);
    expect(own.checks.map((c) => c.name)).toEqual(['webrtc-policy']);
    expect(selfTestView(daemon, own.checks, own.notes)).toMatchObject({ verdict: 'Locked — 6 of 6 checks passed', notes: [expect.stringContaining('not to extension pages')] });
    expect(extensionChecks(webrtc(), { available: true, candidates: [] }, []).checks).toHaveLength(2);
  });

  it('verdicts: "Locked — 7 of 7", a failure counted, "Not protected" without the extension checks', () => {
    const ext = [webrtcPolicyCheck(webrtc()), webrtcCandidatesCheck({ available: true, candidates: [] }, [])];
    expect(selfTestView(daemon, ext).verdict).toBe('Locked — 7 of 7 checks passed');
    expect(selfTestView(daemon, [ext[0]!, { name: 'webrtc-leak', ok: false, evidence: 'x' }]).verdict).toBe('Not locked as it should be — 6 of 7 checks passed');
    const off = selfTestView({ ...daemon, ok: false, checks: [{ name: 'lock', ok: false, evidence: 'off', fix: 'tunlock lock on' }] }, ext);
    expect(off.verdict).toBe('Not protected');
    expect(off.checks).toHaveLength(1);
  });
});

describe('history timeline', () => {
  const now = new Date(2026, 0, 8, 12).getTime(); // local noon: "today" is the local day
  const h = 3600_000;
  const events: HistoryEventT[] = [
    { at: now - 9 * 24 * h, type: 'protected', cause: 'start' },
    { at: now - 2 * h, type: 'blocking', cause: 'link', previous: { state: 'protected', ms: 1 } },
    { at: now - 2 * h + 12_000, type: 'protected', cause: 'link', previous: { state: 'blocking', ms: 12_000 } },
    { at: now - h, type: 'blocking', cause: 'link', previous: { state: 'protected', ms: 1 } },
    { at: now - h + 3000, type: 'protected', cause: 'link', previous: { state: 'blocking', ms: 3000 } },
    { at: now - 30 * 60_000, type: 'test', ok: true, passed: 5, total: 5, failed: [] },
    { at: now - 10 * 60_000, type: 'tamper', detail: 'table removed' },
  ];

  it('bands clipped to the last 7 days, drops and tests as marks', () => {
    const t = timeline(events, now);
    expect(t.from).toBe(now - WEEK_MS);
    expect(t.bands[0]).toEqual({ state: 'protected', from: now - WEEK_MS, to: now - 2 * h });
    expect(t.bands.at(-1)).toEqual({ state: 'protected', from: now - h + 3000, to: now });
    expect(t.drops.map((d) => d.ms)).toEqual([12_000, 3000]);
    expect(t.marks.map((m) => m.kind).sort()).toEqual(['drop', 'drop', 'tamper', 'test-ok']);
  });

  it('a summary people can read', () => {
    expect(timeline(events, now).summary).toBe('2 drops today, longest 12 s blocked, every one blocked by the kernel; protected 100% of the recorded time this week; 1 self-test, all passed.');
    expect(timeline([], now).summary).toMatch(/No history yet/);
    expect(timeline(events.slice(0, 1), now).summary).toMatch(/^No tunnel drop today; protected 100%/);
    const withBlocked: HistoryEventT[] = [...events, { at: now - 60_000, type: 'blocked', packets: 1234, periodMs: 3_600_000 }];
    expect(timeline(withBlocked, now).summary).toContain('; 1,234 packets refused by the lock; 1 self-test');
  });
});

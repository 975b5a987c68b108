import { describe, expect, it } from 'vitest';
import { daemonDownResult, formatHistory, formatSelfTest, verdict } from '../../host/src/cli/self-test-output.js';
import { SelfTestResult } from '../../host/src/protocol/schema.js';
import type { SelfTestResult as Result } from '../../host/src/protocol/schema.js';

const pass: Result = {
  ok: true,
  checks: [
    { name: 'lock', ok: true, evidence: 'engaged (state protected)' },
    { name: 'escapes', ok: true, evidence: 'udp4 → dropped (EPERM); counter moved by 1 for 1 probes' },
  ],
  notes: ['IPv6 is present on eth0'],
  tunnelAddresses: ['10.64.0.2'],
  ms: 812,
};

describe('tunlock test / history output', () => {
  it('verdicts', () => {
    expect(verdict(pass)).toBe('Locked — 2 of 2 checks passed');
    expect(verdict({ ...pass, ok: false, checks: [{ name: 'lock', ok: false, evidence: 'off', fix: 'tunlock lock on' }] })).toBe('Not protected');
    expect(verdict({ ...pass, ok: false, checks: [pass.checks[0]!, { name: 'kernel', ok: false, evidence: 'x' }] })).toMatch(/failed: kernel/);
  });

  it('prints marks, evidence, the fix of a failed check, notes and the time', () => {
    const text = formatSelfTest({ ...pass, ok: false, checks: [...pass.checks, { name: 'tunnel', ok: false, evidence: 'no answer', fix: 'reconnect the VPN' }] });
    expect(text).toContain('✔ lock: engaged');
    expect(text).toContain('✘ tunnel: no answer\n    → reconnect the VPN');
    expect(text).toContain('ℹ IPv6 is present');
    expect(text).toContain('(812 ms)');
  });

  it('no daemon: a valid result naming the daemon check and its fix', () => {
    const r = daemonDownResult('tunlockd is not running', 'sudo systemctl start tunlockd', 3);
    expect(SelfTestResult.safeParse(r).success).toBe(true);
    expect(r.checks).toEqual([expect.objectContaining({ name: 'daemon', ok: false, fix: 'sudo systemctl start tunlockd' })]);
  });

  it('history lines say what happened, a tunnel drop included', () => {
    const text = formatHistory([
      { at: Date.UTC(2026, 0, 1, 10), type: 'blocking', cause: 'link', previous: { state: 'protected', ms: 3_600_000 } },
      { at: Date.UTC(2026, 0, 1, 10, 0, 12), type: 'protected', cause: 'link', previous: { state: 'blocking', ms: 12_000 } },
      { at: Date.UTC(2026, 0, 1, 11), type: 'exception', cause: 'request', uid: 1000, seconds: 120, previous: { state: 'blocking', ms: 5000 } },
      { at: Date.UTC(2026, 0, 1, 12), type: 'test', ok: false, passed: 4, total: 5, failed: ['tunnel'] },
      { at: Date.UTC(2026, 0, 1, 13), type: 'blocked', packets: 42, periodMs: 3_600_000 },
    ]);
    expect(text).toContain('2026-01-01 10:00:00  blocking   (link) after 1.0 h protected — tunnel dropped, traffic blocked by the kernel');
    expect(text).toContain('after 12 s blocking');
    expect(text).toContain('portal hole for uid 1000, 120 s');
    expect(text).toContain('FAILED (tunnel) 4/5');
    expect(text).toContain('42 packets in 1.0 h');
    expect(formatHistory([])).toBe('No history yet.');
  });
});

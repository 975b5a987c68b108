// "Test my lock" in the popup: the daemon's checks plus the extension's own (the WebRTC policy is ours, and in
// Firefox a real RTCPeerConnection gathered in this page shows no address outside the tunnel), and the one-line
// verdict. Chromium exempts extension pages from the WebRTC routing policy (its renderer enforces it only for web
// content), so a gathering there shows this computer's addresses whatever the policy: it would prove nothing
// about web pages, and the popup says so instead of counting it. Pure: SelfTest.svelte renders it; the
// gathering itself is in webrtc-gather.ts.
import type { SelfTestCheckT, SelfTestResultT } from '../shared/protocol.js';
import type { WebrtcView } from '../shared/snapshot.js';

export interface Gathered {
  /** false: this browser has no RTCPeerConnection here (Firefox with WebRTC turned off) */
  available: boolean;
  /** candidate lines as the browser gave them (`candidate:… 192.0.2.7 5000 typ host …`) */
  candidates: string[];
  error?: string;
}

export interface SelfTestView {
  verdict: string;
  ok: boolean;
  checks: SelfTestCheckT[];
  notes: string[];
  ms: number;
}

export function webrtcPolicyCheck(w: WebrtcView): SelfTestCheckT {
  const evidence = `webRTCIPHandlingPolicy = ${w.policy ?? 'unknown'}, levelOfControl = ${w.levelOfControl ?? 'unknown'}`;
  if (w.levelOfControl === 'controlled_by_this_extension') return { name: 'webrtc-policy', ok: true, evidence: `${evidence} (set by tunlock)` };
  const fix =
    w.levelOfControl === 'controlled_by_other_extensions'
      ? 'another extension controls the WebRTC setting: disable that extension, then open this popup again'
      : w.levelOfControl === 'not_controllable'
        ? 'a browser policy fixes the WebRTC setting: ask your administrator'
        : 'turn WebRTC protection on (WebRTC: Protect) in this popup';
  return { name: 'webrtc-policy', ok: false, evidence, fix };
}

/** The address in an ICE candidate line (a host name ending in .local is an mDNS name that hides it). */
export function candidateAddress(line: string): string | null {
  const parts = line.replace(/^a=/, '').split(/\s+/);
  return parts.length >= 8 && parts[0]!.startsWith('candidate:') ? parts[4]!.toLowerCase() : null;
}

export function webrtcCandidatesCheck(g: Gathered, tunnelAddresses: string[]): SelfTestCheckT {
  if (!g.available) return { name: 'webrtc-leak', ok: true, evidence: 'RTCPeerConnection is off in this browser: nothing to gather' };
  if (g.error) return { name: 'webrtc-leak', ok: false, evidence: `gathering failed: ${g.error}`, fix: 'open the popup again and repeat the test' };
  const allowed = new Set(tunnelAddresses.map((a) => a.toLowerCase()));
  const addresses = [...new Set(g.candidates.map(candidateAddress).filter((a): a is string => a !== null))];
  const outside = addresses.filter((a) => !allowed.has(a) && !a.endsWith('.local'));
  const seen = addresses.length ? `candidates gathered: ${addresses.join(', ')}` : 'no candidate gathered (no UDP outside a proxy)';
  if (outside.length) {
    return { name: 'webrtc-leak', ok: false, evidence: `${seen}; outside the tunnel: ${outside.join(', ')}`, fix: 'set WebRTC to Protect or Block in this popup' };
  }
  return { name: 'webrtc-leak', ok: true, evidence: `a real RTCPeerConnection in this page: ${seen}` };
}

export const CHROMIUM_GATHER_NOTE =
  'Chromium applies the WebRTC setting to web pages, not to extension pages: a gathering in this popup would show this computer\'s addresses whatever the setting, so it is not counted (the policy check covers web pages).';

/** The extension's own checks; `gathered` is null where gathering here proves nothing (Chromium). */
export function extensionChecks(w: WebrtcView, gathered: Gathered | null, tunnelAddresses: string[]): { checks: SelfTestCheckT[]; notes: string[] } {
  const policy = webrtcPolicyCheck(w);
  if (!gathered) return { checks: [policy], notes: [CHROMIUM_GATHER_NOTE] };
  return { checks: [policy, webrtcCandidatesCheck(gathered, tunnelAddresses)], notes: [] };
}

export function selfTestView(daemon: SelfTestResultT, extension: SelfTestCheckT[], extensionNotes: string[] = []): SelfTestView {
  const checks = [...daemon.checks, ...(daemon.checks.some((c) => c.name === 'lock' && !c.ok) ? [] : extension)];
  const passed = checks.filter((c) => c.ok).length;
  const ok = checks.every((c) => c.ok);
  const verdict = daemon.checks.some((c) => c.name === 'lock' && !c.ok)
    ? 'Not protected'
    : ok
      ? `Locked — ${passed} of ${checks.length} checks passed`
      : `Not locked as it should be — ${passed} of ${checks.length} checks passed`;
  return { verdict, ok, checks, notes: [...daemon.notes, ...extensionNotes], ms: daemon.ms };
}

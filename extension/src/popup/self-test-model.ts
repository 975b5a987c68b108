// "Test my lock" in the popup: the daemon's checks plus the extension's own (the WebRTC policy is ours, and in
// Firefox a real RTCPeerConnection gathered in this page shows no address outside the tunnel), and the one-line
// verdict. Chromium exempts extension pages from the WebRTC routing policy (its renderer enforces it only for web
// content), so a gathering there shows this computer's addresses whatever the policy: it would prove nothing
// about web pages, and the popup says so instead of counting it. Pure: SelfTest.svelte renders it; the
// gathering itself is in webrtc-gather.ts.
import { t } from '../shared/i18n.js';
import { parseAddress } from '../shared/protocol.js';
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
  if (w.levelOfControl === 'controlled_by_this_extension') return { name: 'webrtc-policy', ok: true, evidence: t('checkPolicyOurs', evidence) };
  const fix =
    w.levelOfControl === 'controlled_by_other_extensions'
      ? t('checkPolicyOtherFix')
      : w.levelOfControl === 'not_controllable'
        ? t('checkPolicyAdminFix')
        : t('checkPolicyOffFix');
  return { name: 'webrtc-policy', ok: false, evidence, fix };
}

/**
 * An address in the daemon's canonical text (the same parser), so one address written two ways compares
 * equal; anything else (an mDNS name) lower-cased.
 */
function canonical(text: string): string {
  try {
    return parseAddress(text).text;
  } catch {
    return text.toLowerCase();
  }
}

/** The address in an ICE candidate line (a host name ending in .local is an mDNS name that hides it). */
export function candidateAddress(line: string): string | null {
  const parts = line.replace(/^a=/, '').split(/\s+/);
  return parts.length >= 8 && parts[0]!.startsWith('candidate:') ? canonical(parts[4]!) : null;
}

export function webrtcCandidatesCheck(g: Gathered, tunnelAddresses: string[]): SelfTestCheckT {
  if (!g.available) return { name: 'webrtc-leak', ok: true, evidence: t('gatherOff') };
  if (g.error) return { name: 'webrtc-leak', ok: false, evidence: t('gatherFailed', g.error), fix: t('gatherFailedFix') };
  const allowed = new Set(tunnelAddresses.map(canonical));
  const addresses = [...new Set(g.candidates.map(candidateAddress).filter((a): a is string => a !== null))];
  const outside = addresses.filter((a) => !allowed.has(a) && !a.endsWith('.local'));
  const seen = addresses.length ? t('gatherSeen', addresses.join(', ')) : t('gatherNone');
  if (outside.length) return { name: 'webrtc-leak', ok: false, evidence: t('gatherOutside', seen, outside.join(', ')), fix: t('gatherOutsideFix') };
  return { name: 'webrtc-leak', ok: true, evidence: t('gatherOk', seen) };
}

/** The extension's own checks; `gathered` is null where gathering here proves nothing (Chromium). */
export function extensionChecks(w: WebrtcView, gathered: Gathered | null, tunnelAddresses: string[]): { checks: SelfTestCheckT[]; notes: string[] } {
  const policy = webrtcPolicyCheck(w);
  if (!gathered) return { checks: [policy], notes: [t('chromiumGatherNote')] };
  return { checks: [policy, webrtcCandidatesCheck(gathered, tunnelAddresses)], notes: [] };
}

export function selfTestView(daemon: SelfTestResultT, extension: SelfTestCheckT[], extensionNotes: string[] = []): SelfTestView {
  const checks = [...daemon.checks, ...(daemon.checks.some((c) => c.name === 'lock' && !c.ok) ? [] : extension)];
  const passed = checks.filter((c) => c.ok).length;
  const ok = checks.every((c) => c.ok);
  const verdict = daemon.checks.some((c) => c.name === 'lock' && !c.ok)
    ? t('verdictNotProtected')
    : t(ok ? 'verdictLocked' : 'verdictNotLocked', passed, checks.length);
  return { verdict, ok, checks, notes: [...daemon.notes, ...extensionNotes], ms: daemon.ms };
}

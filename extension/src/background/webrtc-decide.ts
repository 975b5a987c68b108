// Which WebRTC setting the browser should hold, as a pure function of the user's choice and the lock state.
//
// The browsers' WebRTC settings are global (no per-origin policy exists), so the video-call relaxation is
// global too while it lasts. It is therefore allowed only while all of these hold:
//   - the user chose `protect` (block means block, everywhere),
//   - the firewall lock is `protected`: the kernel then lets traffic out only through the tunnel, so a
//     relaxed browser still has no path outside it (in `blocking`, `standby`, `off` or with a portal hole
//     open there could be one, or there is nothing to call over),
//   - a tab of a site the user allowed is open (it ends when the last such tab closes),
//   - the link to the daemon is up (a stale "protected" is not proof).
// Relaxed means `default_public_interface_only`: candidates only from the default-route interface, UDP
// allowed. What that still reveals to every page (not only the allowed one) is in docs/extension.md.
//
// A captive-portal hole overrides everything, the user's `off` included: while it is open the browser is the
// weakest point (a portal page could run WebRTC/STUN out of the physical interface and unmask the user), so
// the strictest setting the browser offers is forced — the strict policy plus WebRTC removed from pages where
// that is possible (Firefox always; Chromium when block mode's page-script permission is granted). When the
// hole closes the decision is the user's again, so the previous setting comes back by itself.
import type { LockState } from '../shared/protocol.js';
import type { WebrtcMode } from '../shared/settings.js';
import type { WebrtcPolicy } from '../shared/snapshot.js';

export const STRICT_POLICY: WebrtcPolicy = 'disable_non_proxied_udp';
export const RELAXED_POLICY: WebrtcPolicy = 'default_public_interface_only';

export interface WebrtcInputs {
  mode: WebrtcMode;
  /** null when the daemon is unreachable (state unknown) */
  lockState: LockState | null;
  allowedSiteOpen: boolean;
  /** the browser's strictest non-blocking value (Firefox needs proxy_only: see browser-firefox.ts) */
  strict?: WebrtcPolicy;
  /**
   * A captive-portal hole is (or may still be) open: the daemon says `exception`, or the last status had a
   * hole whose kernel timer has not run out (the link may be down while the hole is still open).
   */
  captiveHoleOpen?: boolean;
  /** whether this browser can remove RTCPeerConnection from pages right now (Chromium: permission granted) */
  canBlockPeerConnection?: boolean;
}

export interface WebrtcDecision {
  /** null: give the setting back to the browser (`clear()`) */
  policy: WebrtcPolicy | null;
  /** remove RTCPeerConnection from pages */
  blockPeerConnection: boolean;
  relaxed: boolean;
  /** forced strictest while a captive hole is open */
  captiveForced: boolean;
  reason: string;
}

export function decideWebrtc(i: WebrtcInputs): WebrtcDecision {
  const strict = i.strict ?? STRICT_POLICY;
  if (i.captiveHoleOpen) {
    const block = i.canBlockPeerConnection ?? false;
    return {
      policy: strict,
      blockPeerConnection: block,
      relaxed: false,
      captiveForced: true,
      reason: block
        ? 'A Wi-Fi login hole is open: WebRTC is off in every page until it closes.'
        : 'A Wi-Fi login hole is open: WebRTC may not use UDP outside a proxy until it closes.',
    };
  }
  const base = { relaxed: false, captiveForced: false };
  switch (i.mode) {
    case 'off':
      return { ...base, policy: null, blockPeerConnection: false, reason: 'WebRTC protection is off: the browser decides.' };
    case 'block':
      return { ...base, policy: strict, blockPeerConnection: true, reason: 'WebRTC is turned off in every page.' };
    case 'protect':
      break;
  }
  if (i.allowedSiteOpen && i.lockState === 'protected') {
    return {
      policy: RELAXED_POLICY,
      blockPeerConnection: false,
      relaxed: true,
      captiveForced: false,
      reason: 'Relaxed for a video call: an allowed site is open and the lock keeps all traffic in the tunnel.',
    };
  }
  const why = !i.allowedSiteOpen
    ? ''
    : i.lockState === null
      ? ' (an allowed site is open, but the lock state is unknown, so no relaxation)'
      : ` (an allowed site is open, but the lock is ${i.lockState}, not protected, so no relaxation)`;
  return { ...base, policy: strict, blockPeerConnection: false, reason: `WebRTC may not use UDP outside a proxy${why}.` };
}

// The captive-portal part of the popup ("Log in to this network"), derived from a snapshot. The Svelte
// component (CaptiveSlot.svelte) only renders this and sends the requests named here.
//
// Shown while the lock blocks (tunnel down): the only state in which a login page cannot be reached and a hole
// can help. Chromium has no way to tell whether the network has a login page, so the button is always there
// while blocking; Firefox's own detection (captivePortal API) makes it stand out when it sees one. Nothing
// here probes the network: the hole opens, and the login page loads, only when the user asks.
import { CAPTIVE_DEFAULT_SECONDS, CAPTIVE_MAX_SECONDS } from '../shared/protocol.js';
import type { Snapshot } from '../shared/snapshot.js';
import { formatCountdown } from '../shared/state-view.js';
import type { UiDaemonRequest } from '../shared/ui-messages.js';

export const EXTEND_SECONDS = 60;

export type CaptiveModel =
  | { kind: 'none' }
  | {
      kind: 'offer';
      /** the browser detected a login page: make the button stand out */
      highlight: boolean;
      lead: string;
      /** what pressing the button does, for everyone (and as the button's description) */
      note: string;
    }
  | {
      kind: 'open';
      secondsLeft: number;
      countdown: string;
      /** +1 minute would stay within the daemon's 10-minute cap */
      canExtend: boolean;
      extendNote: string | null;
      webrtcNote: string;
    };

export function captiveModel(s: Snapshot, now = Date.now()): CaptiveModel {
  const st = s.status;
  if (s.connection.kind !== 'ready' || !st) return { kind: 'none' };
  if (st.state === 'blocking') {
    const detected = s.portalState === 'locked_portal';
    return {
      kind: 'offer',
      highlight: detected,
      lead: detected
        ? 'Firefox found a Wi-Fi login page on this network, and the lock blocks it.'
        : 'Hotel or airport Wi-Fi? Its login page is blocked while the VPN is down.',
      note: `Opens a ${formatMinutes(CAPTIVE_DEFAULT_SECONDS)} hole for this browser's user only (web and the network's DNS, outside the VPN); the kernel closes it by itself.`,
    };
  }
  if (st.state === 'exception' && st.captive) {
    const secondsLeft = Math.max(0, Math.round((st.captive.expiresAt - now) / 1000));
    const canExtend = secondsLeft + EXTEND_SECONDS <= CAPTIVE_MAX_SECONDS;
    const w = s.webrtc;
    return {
      kind: 'open',
      secondsLeft,
      countdown: formatCountdown(secondsLeft),
      canExtend,
      extendNote: canExtend ? null : `A hole lasts at most ${CAPTIVE_MAX_SECONDS / 60} minutes.`,
      webrtcNote: !w.captiveForced
        ? 'WebRTC is being set to its strictest setting while the hole is open…'
        : w.peerConnectionBlocked
          ? 'While the hole is open, WebRTC is off in every page (a login page could otherwise reveal your address); your own setting comes back when it closes.'
          : 'While the hole is open, WebRTC may not use UDP outside a proxy (a login page could otherwise reveal your address); your own setting comes back when it closes.',
    };
  }
  return { kind: 'none' };
}

function formatMinutes(seconds: number): string {
  const m = Math.round(seconds / 60);
  return m === 1 ? '1-minute' : `${m}-minute`;
}

export const openRequest = (): UiDaemonRequest => ({ type: 'captiveOpen', seconds: CAPTIVE_DEFAULT_SECONDS });
export const extendRequest = (): UiDaemonRequest => ({ type: 'captiveExtend', seconds: EXTEND_SECONDS });
export const closeRequest = (): UiDaemonRequest => ({ type: 'captiveClose' });

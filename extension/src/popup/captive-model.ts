// The captive-portal part of the popup ("Log in to this network"), derived from a snapshot. The Svelte
// component (CaptiveSlot.svelte) only renders this and sends the requests named here.
//
// Shown while the lock blocks (tunnel down): the only state in which a login page cannot be reached and a hole
// can help. Chromium has no way to tell whether the network has a login page, so the button is always there
// while blocking; Firefox's own detection (captivePortal API) makes it stand out when it sees one. Nothing
// here probes the network: the hole opens, and the login page loads, only when the user asks.
import { CAPTIVE_DEFAULT_SECONDS, CAPTIVE_MAX_SECONDS, captiveSecondsLeft } from '../shared/protocol.js';
import type { Snapshot } from '../shared/snapshot.js';
import { formatCountdown, formatMinutes, t } from '../shared/i18n.js';
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
    };

export function captiveModel(s: Snapshot, now = Date.now()): CaptiveModel {
  const st = s.status;
  if (s.connection.kind !== 'ready' || !st) return { kind: 'none' };
  if (st.state === 'blocking') {
    const detected = s.portalState === 'locked_portal';
    return {
      kind: 'offer',
      highlight: detected,
      lead: detected ? t('captiveLeadDetected') : t('captiveLead'),
      note: t('captiveNote', formatMinutes(CAPTIVE_DEFAULT_SECONDS)),
    };
  }
  if (st.state === 'exception' && st.captive) {
    const secondsLeft = captiveSecondsLeft(st.captive, now);
    const canExtend = secondsLeft + EXTEND_SECONDS <= CAPTIVE_MAX_SECONDS;
    return {
      kind: 'open',
      secondsLeft,
      countdown: formatCountdown(secondsLeft),
      canExtend,
      extendNote: canExtend ? null : t('captiveMax', formatMinutes(CAPTIVE_MAX_SECONDS)),
    };
  }
  return { kind: 'none' };
}

export const openRequest = (): UiDaemonRequest => ({ type: 'captiveOpen', seconds: CAPTIVE_DEFAULT_SECONDS });
export const extendRequest = (): UiDaemonRequest => ({ type: 'captiveExtend', seconds: EXTEND_SECONDS });
export const closeRequest = (): UiDaemonRequest => ({ type: 'captiveClose' });

// Everything the popup shows, derived from a snapshot. The Svelte component only renders this.
import { plural, t } from '../shared/i18n.js';
import type { Mode } from '../shared/protocol.js';
import { captiveSecondsLeft } from '../shared/protocol.js';
import type { WebrtcMode } from '../shared/settings.js';
import type { Snapshot } from '../shared/snapshot.js';
import type { StateView } from '../shared/state-view.js';
import { stateView } from '../shared/state-view.js';
import type { UiDaemonRequest } from '../shared/ui-messages.js';

export interface TunnelLine {
  iface: string;
  up: boolean;
  /** "connected" / "disconnected" */
  state: string;
  endpoints: string;
}

export interface PopupModel {
  view: StateView;
  /** the service answers: the lock controls work */
  live: boolean;
  /** the big switch: the lock's mode is not off (the last known one while the service is down) */
  lockOn: boolean;
  /** the words under the switch; in Standby the switch is on but the lock waits: say so */
  switchCaption: string;
  mode: Mode | null;
  lanAllowed: boolean | null;
  tunnels: TunnelLine[];
  blocked: string | null;
  webrtc: { mode: WebrtcMode; text: string; problem: string | null; relaxed: boolean };
  captiveSecondsLeft: number | null;
}

export function webrtcText(s: Snapshot): string {
  const w = s.webrtc;
  if (w.captiveForced) return w.peerConnectionBlocked ? t('webrtcForcedOff') : t('webrtcForcedStrict');
  if (s.settings.webrtc === 'off') return t('webrtcOffText');
  if (w.relaxed) return t('webrtcRelaxed');
  if (s.settings.webrtc === 'block') return w.peerConnectionBlocked ? t('webrtcBlocked') : t('webrtcRestricted');
  return t('webrtcProtected');
}

function caption(s: Snapshot, live: boolean, on: boolean): string {
  if (!live) return s.status ? t('switchLastKnown') : t('switchUnknown');
  if (s.status?.state === 'standby') return t('switchStandby');
  return on ? t('switchOn') : t('switchOff');
}

export function popupModel(s: Snapshot, now = Date.now()): PopupModel {
  const st = s.status;
  const live = s.connection.kind === 'ready' && st !== null;
  const captive = live && st.state === 'exception' && st.captive ? captiveSecondsLeft(st.captive, now) : null;
  const view = stateView(s.connection, st, captive ?? undefined, now);
  const n = st?.blockedPackets ?? null;
  const lockOn = st ? st.mode !== 'off' : false;
  return {
    view,
    live,
    lockOn,
    switchCaption: caption(s, live, lockOn),
    mode: live ? st.mode : null,
    lanAllowed: live ? st.lan === 'allow' : null,
    tunnels: live
      ? st.tunnels.map((x) => ({
          iface: x.iface,
          up: x.up,
          state: x.up ? t('tunnelUp') : t('tunnelDown'),
          endpoints: [...new Set([...x.endpoints, ...x.learned])].join(', '),
        }))
      : [],
    blocked: live && n !== null ? plural(n, 'blockedPackets_one', 'blockedPackets_other') : null,
    webrtc: { mode: s.settings.webrtc, text: webrtcText(s), problem: s.webrtc.problem, relaxed: s.webrtc.relaxed },
    captiveSecondsLeft: captive,
  };
}

/** The request behind the lock switch: on uses the chosen mode (`on` unless the user picked `always`). */
export function lockRequest(turnOn: boolean, chosen: 'on' | 'always'): UiDaemonRequest {
  return { type: 'setMode', mode: turnOn ? chosen : 'off' };
}

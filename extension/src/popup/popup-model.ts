// Everything the popup shows, derived from a snapshot. The Svelte component only renders this.
import type { Mode } from '../shared/protocol.js';
import type { WebrtcMode } from '../shared/settings.js';
import type { Snapshot } from '../shared/snapshot.js';
import type { IconKind } from '../shared/state-view.js';
import { stateView } from '../shared/state-view.js';
import type { UiDaemonRequest } from '../shared/ui-messages.js';

export interface TunnelLine {
  iface: string;
  up: boolean;
  endpoints: string[];
}

export interface PopupModel {
  icon: IconKind;
  label: string;
  detail: string;
  fix: string | null;
  /** the daemon answers: the lock controls work */
  live: boolean;
  lockOn: boolean;
  mode: Mode | null;
  lanAllowed: boolean | null;
  tunnels: TunnelLine[];
  blocked: string | null;
  webrtc: { mode: WebrtcMode; text: string; problem: string | null; relaxed: boolean };
  captiveSecondsLeft: number | null;
}

export function webrtcText(s: Snapshot): string {
  const w = s.webrtc;
  if (w.captiveForced) {
    return w.peerConnectionBlocked
      ? 'Forced off in every page while the Wi-Fi login hole is open; your setting comes back when it closes.'
      : 'Forced to no UDP outside a proxy while the Wi-Fi login hole is open; your setting comes back when it closes.';
  }
  if (s.settings.webrtc === 'off') return 'WebRTC protection is off.';
  if (w.relaxed) return 'Relaxed for a video call: every site may use WebRTC over UDP now (the lock keeps it in the tunnel).';
  if (s.settings.webrtc === 'block') return w.peerConnectionBlocked ? 'WebRTC is off in every page.' : 'WebRTC is restricted to proxied connections.';
  return 'WebRTC cannot reveal your address: no UDP outside a proxy.';
}

export function popupModel(s: Snapshot, now = Date.now()): PopupModel {
  const st = s.status;
  const live = s.connection.kind === 'ready' && st !== null;
  const captive = live && st.state === 'exception' && st.captive ? Math.max(0, Math.round((st.captive.expiresAt - now) / 1000)) : null;
  const view = stateView(s.connection, st, captive ?? undefined);
  const n = st?.blockedPackets ?? null;
  return {
    icon: view.icon,
    label: view.label,
    detail: view.detail,
    fix: view.fix,
    live,
    lockOn: live ? st.mode !== 'off' : false,
    mode: live ? st.mode : null,
    lanAllowed: live ? st.lan === 'allow' : null,
    tunnels: live ? st.tunnels.map((t) => ({ iface: t.iface, up: t.up, endpoints: [...new Set([...t.endpoints, ...t.learned])] })) : [],
    blocked: live && n !== null ? `Blocked ${n.toLocaleString('en-US')} packet${n === 1 ? '' : 's'} since the daemon started` : null,
    webrtc: { mode: s.settings.webrtc, text: webrtcText(s), problem: s.webrtc.problem, relaxed: s.webrtc.relaxed },
    captiveSecondsLeft: captive,
  };
}

/** The request behind the lock switch: on uses the chosen mode (`on` unless the user picked `always`). */
export function lockRequest(turnOn: boolean, chosen: 'on' | 'always'): UiDaemonRequest {
  return { type: 'setMode', mode: turnOn ? chosen : 'off' };
}

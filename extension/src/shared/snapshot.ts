// What the background knows and the popup/options show: one plain, structured-clone-safe object.
import type { ErrorBodyT, StatusT } from './protocol.js';
import type { Settings } from './settings.js';

/**
 * The link to tunlock-host and, through it, to tunlockd. Every kind except `connecting` and `ready` is an
 * error the user can act on, so each carries what to do (`fix`: a command or a step).
 */
export type Connection =
  | { kind: 'connecting'; since: number }
  | { kind: 'ready' }
  | { kind: 'host_missing'; message: string; fix: string }
  | { kind: 'host_forbidden'; message: string; fix: string }
  | { kind: 'host_failed'; message: string; fix: string }
  | { kind: 'daemon_down'; message: string; fix: string }
  | { kind: 'incompatible'; message: string; fix: string };

export type ConnectionKind = Connection['kind'];

export type WebrtcPolicy = 'default' | 'default_public_and_private_interfaces' | 'default_public_interface_only' | 'disable_non_proxied_udp' | 'proxy_only';
export type LevelOfControl = 'not_controllable' | 'controlled_by_other_extensions' | 'controllable_by_this_extension' | 'controlled_by_this_extension';

export interface WebrtcView {
  /** what the browser reports after our last apply (null: not read yet or API missing) */
  policy: WebrtcPolicy | null;
  levelOfControl: LevelOfControl | null;
  /** WebRTC removed from pages (Firefox pref / Chromium page script) */
  peerConnectionBlocked: boolean;
  /** the video-call relaxation is in effect right now */
  relaxed: boolean;
  /** a captive-portal hole is open: the strictest setting is forced, the user's own comes back after */
  captiveForced: boolean;
  /** one sentence on why the setting is what it is */
  reason: string;
  /** set when the wanted setting could not be applied (another extension, enterprise policy, missing permission) */
  problem: string | null;
}

/** Firefox's captivePortal.getState() values; null where the browser has no such API (Chromium). */
export type BrowserPortalState = 'unknown' | 'not_captive' | 'unlocked_portal' | 'locked_portal';

export interface Snapshot {
  connection: Connection;
  /** last status from the daemon; kept (and marked stale by `connection`) while the link is down */
  status: StatusT | null;
  webrtc: WebrtcView;
  settings: Settings;
  browser: 'chrome' | 'firefox';
  /** what the browser's own captive-portal detection says (Firefox only; it never probes for us) */
  portalState: BrowserPortalState | null;
}

export type { ErrorBodyT };

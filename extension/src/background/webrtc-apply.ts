// Applies a WebRTC decision to the browser and reads back what the browser actually holds. The browser APIs
// come in as parameters (see browser-chrome.ts / browser-firefox.ts for the real ones).
import { t } from '../shared/i18n.js';
import type { LevelOfControl, WebrtcPolicy, WebrtcView } from '../shared/snapshot.js';
import type { WebrtcDecision } from './webrtc-decide.js';

/** The part of types.BrowserSetting we use. */
export interface BrowserSettingLike {
  get(details: Record<string, never>): Promise<{ value: unknown; levelOfControl: string }>;
  set(details: { value: unknown }): Promise<unknown>;
  clear(details: Record<string, never>): Promise<unknown>;
}

/** Removes RTCPeerConnection from pages, or gives it back. Returns a problem sentence, or null when done. */
export interface PeerConnectionBlocker {
  setBlocked(blocked: boolean): Promise<string | null>;
}

export interface WebrtcApi {
  /** null when the browser has no such setting */
  ipHandling: BrowserSettingLike | null;
  blocker: PeerConnectionBlocker;
}

function controlProblem(level: string, wanted: boolean): string | null {
  if (level === 'controlled_by_other_extensions') {
    return wanted
      ? t('problemOtherExtension')
      : t('problemOtherExtensionShort');
  }
  if (level === 'not_controllable') {
    return t('problemPolicy');
  }
  return null;
}

export async function applyWebrtc(api: WebrtcApi, decision: WebrtcDecision): Promise<WebrtcView> {
  let problem: string | null = null;
  let policy: WebrtcPolicy | null = null;
  let levelOfControl: LevelOfControl | null = null;
  if (!api.ipHandling) {
    problem = decision.policy ? t('problemNoSetting') : null;
  } else {
    try {
      if (decision.policy === null) await api.ipHandling.clear({});
      else await api.ipHandling.set({ value: decision.policy });
    } catch (e) {
      problem = t('problemRefused', e instanceof Error ? e.message : String(e));
    }
    try {
      const now = await api.ipHandling.get({});
      policy = now.value as WebrtcPolicy;
      levelOfControl = now.levelOfControl as LevelOfControl;
      problem = controlProblem(now.levelOfControl, decision.policy !== null) ?? problem;
      if (decision.policy !== null && now.value !== decision.policy && problem === null) {
        problem = t('problemHolds', String(now.value), String(decision.policy));
      }
    } catch (e) {
      problem ??= t('problemRead', e instanceof Error ? e.message : String(e));
    }
  }
  const blockProblem = await api.blocker.setBlocked(decision.blockPeerConnection).catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
  return {
    policy,
    levelOfControl,
    peerConnectionBlocked: decision.blockPeerConnection && blockProblem === null,
    relaxed: decision.relaxed,
    captiveForced: decision.captiveForced,
    reason: decision.reason,
    problem: problem ?? blockProblem,
  };
}

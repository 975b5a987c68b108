// Firefox quirks, in one place:
// - privacy.network.peerConnectionEnabled=false removes RTCPeerConnection from every page (the
//   media.peerconnection.enabled pref): block mode needs no page script and no host permission.
// - Firefox's `disable_non_proxied_udp` is weaker than Chromium's: it maps to default_address_only + no_host
//   + proxy_only_if_behind_proxy, so without a proxy it still gathers server-reflexive candidates, and the lab
//   showed the real IPv4 and IPv6 in them (test/browser/firefox.test.ts). `proxy_only` is what gathers no UDP
//   outside a proxy, i.e. what Chromium's disable_non_proxied_udp does; protect mode uses it here.
// - The reason a native port closed is in port.error.
// - captivePortal (permission `captivePortal`): Firefox's own detection of a login page, and the address it
//   probes (canonicalURL). Chromium has no such API.
import { t } from '../shared/i18n.js';
import type browser from 'webextension-polyfill';
import type { NativePort } from './native-client.js';
import type { BrowserPortalState, WebrtcPolicy } from '../shared/snapshot.js';
import type { PeerConnectionBlocker } from './webrtc-apply.js';

export const FIREFOX_STRICT_POLICY: WebrtcPolicy = 'proxy_only';

export function firefoxDisconnectReason(port: NativePort): string | undefined {
  return (port as unknown as { error?: { message?: string } | null }).error?.message;
}

export function firefoxBlocker(api: typeof browser): PeerConnectionBlocker {
  return {
    async setBlocked(blocked) {
      const setting = api.privacy.network.peerConnectionEnabled;
      if (!setting) return t('problemNoPeerConnectionSetting');
      if (blocked) await setting.set({ value: false });
      else await setting.clear({});
      const now = await setting.get({});
      if (now.levelOfControl === 'controlled_by_other_extensions') return t('problemOtherExtensionPc');
      if (blocked && now.value !== false) return t('problemPolicyPc');
      return null;
    },
  };
}

const PORTAL_STATES: readonly BrowserPortalState[] = ['unknown', 'not_captive', 'unlocked_portal', 'locked_portal'];
const portalState = (v: unknown): BrowserPortalState | null => (PORTAL_STATES.includes(v as BrowserPortalState) ? (v as BrowserPortalState) : null);

interface CaptivePortalApi {
  getState(): Promise<string>;
  onStateChanged: { addListener(cb: (details: { state: string }) => void): void };
  canonicalURL?: { get(details: Record<string, never>): Promise<{ value: unknown }> };
}

export interface CaptivePortalWatch {
  getState(): Promise<BrowserPortalState | null>;
  onStateChanged(cb: (state: BrowserPortalState) => void): void;
  canonicalUrl(): Promise<string | null>;
}

export function firefoxCaptivePortal(api: typeof browser): CaptivePortalWatch | null {
  const cp = (api as unknown as { captivePortal?: CaptivePortalApi }).captivePortal;
  if (!cp) return null;
  return {
    getState: async () => portalState(await cp.getState().catch(() => null)),
    onStateChanged(cb) {
      cp.onStateChanged.addListener((d) => {
        const s = portalState(d?.state);
        if (s) cb(s);
      });
    },
    async canonicalUrl() {
      const v = (await cp.canonicalURL?.get({}).catch(() => null))?.value;
      return typeof v === 'string' && /^https?:\/\//.test(v) ? v : null;
    },
  };
}

// Firefox quirks, in one place:
// - privacy.network.peerConnectionEnabled=false removes RTCPeerConnection from every page (the
//   media.peerconnection.enabled pref): block mode needs no page script and no host permission.
// - The reason a native port closed is in port.error.
import type browser from 'webextension-polyfill';
import type { NativePort } from './native-client.js';
import type { PeerConnectionBlocker } from './webrtc-apply.js';

export function firefoxDisconnectReason(port: NativePort): string | undefined {
  return (port as unknown as { error?: { message?: string } | null }).error?.message;
}

export function firefoxBlocker(api: typeof browser): PeerConnectionBlocker {
  return {
    async setBlocked(blocked) {
      const setting = api.privacy.network.peerConnectionEnabled;
      if (!setting) return 'This browser has no peerConnectionEnabled setting.';
      if (blocked) await setting.set({ value: false });
      else await setting.clear({});
      const now = await setting.get({});
      if (now.levelOfControl === 'controlled_by_other_extensions') return 'Another extension controls whether WebRTC is enabled.';
      if (blocked && now.value !== false) return 'Firefox kept WebRTC enabled (a policy may fix it on).';
      return null;
    },
  };
}

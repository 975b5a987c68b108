// Chromium quirks, in one place:
// - No switch turns WebRTC off (Firefox has privacy.network.peerConnectionEnabled). Block mode registers a
//   document_start script in the page's MAIN world that removes RTCPeerConnection and friends. Registering it
//   needs host access to every site, so `<all_urls>` is an *optional* host permission, asked for only when the
//   user picks block mode on the options page; without it block mode degrades to protect and says so.
// - The reason a native port closed is in runtime.lastError, readable only inside onDisconnect.
import { t } from '../shared/i18n.js';
import type { PeerConnectionBlocker } from './webrtc-apply.js';

interface ChromeScripting {
  registerContentScripts(scripts: object[]): Promise<void>;
  unregisterContentScripts(filter?: { ids: string[] }): Promise<void>;
  getRegisteredContentScripts(filter?: { ids: string[] }): Promise<{ id: string }[]>;
}
interface ChromeGlobal {
  runtime: { lastError?: { message?: string } };
  scripting?: ChromeScripting;
  permissions: { contains(p: { origins: string[] }): Promise<boolean> };
}

export const ALL_SITES = ['<all_urls>'];
const SCRIPT_ID = 'tunlock-webrtc-off';

function chromeApi(): ChromeGlobal {
  return (globalThis as unknown as { chrome: ChromeGlobal }).chrome;
}

export function chromeDisconnectReason(): string | undefined {
  return chromeApi().runtime.lastError?.message;
}

/** Whether block mode's page script can be registered (the optional `<all_urls>` permission is granted). */
export async function chromeCanBlock(): Promise<boolean> {
  const c = chromeApi();
  return c.scripting !== undefined && (await c.permissions.contains({ origins: ALL_SITES }));
}

export function chromeBlocker(): PeerConnectionBlocker {
  return {
    async setBlocked(blocked) {
      const c = chromeApi();
      const scripting = c.scripting;
      if (!scripting) return t('problemNoScripting');
      const registered = (await scripting.getRegisteredContentScripts({ ids: [SCRIPT_ID] })).length > 0;
      if (!blocked) {
        if (registered) await scripting.unregisterContentScripts({ ids: [SCRIPT_ID] });
        return null;
      }
      if (!(await c.permissions.contains({ origins: ALL_SITES }))) {
        return t('problemBlockPermission');
      }
      if (!registered) {
        await scripting.registerContentScripts([
          {
            id: SCRIPT_ID,
            js: ['content/webrtc-off.js'],
            matches: ['<all_urls>'],
            runAt: 'document_start',
            world: 'MAIN',
            allFrames: true,
            matchOriginAsFallback: true,
            persistAcrossSessions: true,
          },
        ]);
      }
      return null;
    },
  };
}

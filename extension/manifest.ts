// One manifest, two browsers. Permissions, each used by:
//   nativeMessaging  the port to tunlock-host (background/native-client.ts)
//   privacy          webRTCIPHandlingPolicy, and on Firefox peerConnectionEnabled (background/webrtc-apply.ts)
//   storage          the extension's settings (shared/settings.ts)
//   notifications    "VPN dropped — traffic blocked", "firewall rules restored" (background/notifier.ts)
//   tabs             whether an allowed video-call site is open: the WebRTC relaxation lasts only while one is
//   scripting        (Chromium) block mode's page script that removes RTCPeerConnection
//   captivePortal    (Firefox) Firefox's own login-page detection, to offer "Log in to this network" (it adds
//                    no probe: Firefox probes anyway), and its canonical detection address to open
// Host permissions: none by default. Chromium's block mode asks for <all_urls> (optional) when the user picks
// it, because Chromium has no switch that turns WebRTC off; Firefox needs none.
import { FIREFOX_ADDON_ID, MANIFEST_KEY } from '../host/src/common/extension-ids.js';

export type Target = 'chrome' | 'firefox';

const icons = (kind: string) => ({ 16: `icons/${kind}-16.png`, 32: `icons/${kind}-32.png` });
// Firefox swaps these by the toolbar's theme: `light` is the icon for light text (a dark toolbar).
const themeIcons = (kind: string) => [16, 32].map((size) => ({ size, dark: `icons/${kind}-${size}.png`, light: `icons/${kind}-dark-${size}.png` }));

/**
 * @param testGrantAllSites test builds only (extension/dist/chrome-test, TUNLOCK_TEST_GRANT_ALL_URLS=1): declare
 *   `<all_urls>` as a required host permission, because headless automation cannot click the permission
 *   prompt. The shipped build keeps it optional.
 */
export function manifest(target: Target, version: string, testGrantAllSites = false) {
  const common = {
    manifest_version: 3,
    // Translated (extension/src/_locales, copied into the build by build.mjs).
    name: '__MSG_extName__',
    description: '__MSG_extDescription__',
    default_locale: 'en',
    version,
    icons: { 48: 'icons/app-48.png', 128: 'icons/app-128.png' },
    action: { default_popup: 'src/popup/index.html', default_title: '__MSG_extName__', default_icon: icons('off') },
    options_ui: { page: 'src/options/index.html', open_in_tab: true },
  };
  if (target === 'chrome') {
    return {
      ...common,
      // Fixes the extension ID (host manifests name it in allowed_origins); see extension-ids.ts.
      key: MANIFEST_KEY,
      minimum_chrome_version: '111',
      background: { service_worker: 'src/background/main.ts', type: 'module' as const },
      permissions: ['nativeMessaging', 'privacy', 'storage', 'notifications', 'tabs', 'scripting'],
      ...(testGrantAllSites ? { host_permissions: ['<all_urls>'] } : { optional_host_permissions: ['<all_urls>'] }),
    };
  }
  return {
    ...common,
    background: { scripts: ['src/background/main.ts'], type: 'module' as const },
    // Firefox hides a new button in the overflow menu unless told otherwise; a lock must be in sight.
    action: { ...common.action, default_area: 'navbar', theme_icons: themeIcons('off') },
    permissions: ['nativeMessaging', 'privacy', 'storage', 'notifications', 'tabs', 'captivePortal'],
    browser_specific_settings: { gecko: { id: FIREFOX_ADDON_ID, strict_min_version: '115.0' } },
  };
}

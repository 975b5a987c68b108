// Background entry (Chromium: service worker; Firefox: background script). Wires the real browser APIs into
// the Controller. Listeners are registered synchronously at top level, as MV3 requires for a worker that is
// stopped and woken again; on every wake the controller starts afresh and re-reads the state from the daemon.
import browser from 'webextension-polyfill';
import { NATIVE_HOST_NAME } from '../shared/protocol.js';
import { DEFAULT_PORTAL_URL, isAllowedSite, originPattern } from '../shared/settings.js';
import { iconPaths } from '../shared/state-view.js';
import { UI_PORT } from '../shared/ui-messages.js';
import { chromeBlocker, chromeCanBlock, chromeDisconnectReason } from './browser-chrome.js';
import { FIREFOX_STRICT_POLICY, firefoxBlocker, firefoxCaptivePortal, firefoxDisconnectReason } from './browser-firefox.js';
import type { UiPort } from './controller.js';
import { Controller } from './controller.js';
import type { NativePort } from './native-client.js';
import type { BrowserSettingLike } from './webrtc-apply.js';
import { STRICT_POLICY } from './webrtc-decide.js';

const isFirefox = __TUNLOCK_BROWSER__ === 'firefox';

function reportError(where: string, error: unknown): void {
  console.error(`tunlock background: ${where}:`, error);
}

// Firefox only: its own captive-portal detection (we never probe; Firefox does, as it always does).
const captivePortal = isFirefox ? firefoxCaptivePortal(browser) : null;

const controller = new Controller({
  browser: __TUNLOCK_BROWSER__,
  storage: browser.storage.local,
  toolbar: {
    async render(v) {
      await Promise.all([
        browser.action.setIcon({ path: iconPaths(v.icon, v.theme) }),
        browser.action.setTitle({ title: v.title }),
        browser.action.setBadgeText({ text: v.badgeText }),
        browser.action.setBadgeBackgroundColor({ color: v.badgeColor }),
      ]);
    },
  },
  notify(n) {
    browser.notifications
      .create(n.id, { type: 'basic', iconUrl: browser.runtime.getURL('icons/app-128.png'), title: n.title, message: n.message })
      .catch((e: unknown) => reportError('notification', e));
  },
  webrtc: {
    ipHandling: (browser.privacy?.network?.webRTCIPHandlingPolicy as BrowserSettingLike | undefined) ?? null,
    blocker: isFirefox ? firefoxBlocker(browser) : chromeBlocker(),
  },
  strictPolicy: isFirefox ? FIREFOX_STRICT_POLICY : STRICT_POLICY,
  async allowedSiteOpen(origins) {
    const tabs = await browser.tabs.query({ url: origins.map(originPattern) });
    return tabs.some((t) => isAllowedSite(t.url, origins));
  },
  canBlockPeerConnection: async () => isFirefox || (await chromeCanBlock()),
  async portalUrl(configured) {
    if (configured !== DEFAULT_PORTAL_URL || !captivePortal) return configured;
    return (await captivePortal.canonicalUrl()) ?? configured;
  },
  async openTab(url) {
    await browser.tabs.create({ url, active: true });
  },
  native: {
    connect: () => browser.runtime.connectNative(NATIVE_HOST_NAME) as unknown as NativePort,
    disconnectReason: (port) => (isFirefox ? firefoxDisconnectReason(port) : chromeDisconnectReason()),
    installFix: 'install tunlock-host: npm run setup (in the tunlock folder), then reopen this popup',
  },
  reportError,
});

browser.runtime.onStartup.addListener(() => void controller.start());
browser.runtime.onInstalled.addListener((details) => {
  void controller.start();
  // A new user gets the welcome page once: is the app installed, what the icons mean, pin the button.
  if (details.reason === 'install') {
    browser.tabs.create({ url: browser.runtime.getURL('src/onboarding/index.html') }).catch((e: unknown) => reportError('open onboarding', e));
  }
});
browser.runtime.onConnect.addListener((port) => {
  // Only our own pages (popup, options, welcome page) may drive the lock: not content scripts, which share our ID.
  const fromOurPage = port.sender?.id === browser.runtime.id && (port.sender.url ?? '').startsWith(browser.runtime.getURL('/'));
  if (port.name !== UI_PORT || !fromOurPage) {
    port.disconnect();
    return;
  }
  controller.attachUi(port as unknown as UiPort);
});
browser.tabs.onUpdated.addListener((_id, change) => {
  if (change.url !== undefined || change.status === 'complete') controller.tabsChanged();
});
browser.tabs.onRemoved.addListener(() => controller.tabsChanged());
captivePortal?.onStateChanged((state) => controller.portalStateChanged(state));
browser.permissions.onAdded.addListener(() => void controller.start().then(() => controller.reapplyWebrtc()));

// Firefox's background page can read the colour scheme (it follows the browser theme) and the toolbar icon
// follows it; Chromium's worker cannot, so there the pages report theirs (shared/page.ts).
if (isFirefox && typeof matchMedia === 'function') {
  const dark = matchMedia('(prefers-color-scheme: dark)');
  controller.setTheme(dark.matches ? 'dark' : 'light');
  dark.addEventListener('change', () => controller.setTheme(dark.matches ? 'dark' : 'light'));
}

self.addEventListener('unhandledrejection', (e) => reportError('unhandled rejection', (e as PromiseRejectionEvent).reason));
void controller.start().then(async () => {
  const state = await captivePortal?.getState();
  if (state) controller.portalStateChanged(state);
});

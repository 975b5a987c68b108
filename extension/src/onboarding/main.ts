import { mount } from 'svelte';
import browser from 'webextension-polyfill';
import { startPage } from '../shared/page.js';
import type { PinState, PlatformOs } from './onboarding-model.js';
import Onboarding from './Onboarding.svelte';

// action.getUserSettings (Chromium 91+, Firefox 118+) says whether the button is on the toolbar; it is not in
// the polyfill's types. onUserSettingsChanged is newer, so the page also re-checks when it regains focus.
interface ActionSettings {
  getUserSettings?: () => Promise<{ isOnToolbar?: boolean }>;
  onUserSettingsChanged?: { addListener(cb: (s: { isOnToolbar?: boolean }) => void): void };
}
const action = browser.action as unknown as ActionSettings;
const readPin = async (): Promise<PinState> => {
  const s = await action.getUserSettings?.().catch(() => null);
  return typeof s?.isOnToolbar === 'boolean' ? s.isOnToolbar : null;
};

const client = startPage();
const os = ((await browser.runtime.getPlatformInfo().catch(() => null))?.os ?? null) as PlatformOs | null;
mount(Onboarding, {
  target: document.getElementById('app')!,
  props: {
    client,
    os,
    browser: __TUNLOCK_BROWSER__,
    pinned: await readPin(),
    onPinChange(cb: (p: PinState) => void) {
      action.onUserSettingsChanged?.addListener((s) => cb(typeof s.isOnToolbar === 'boolean' ? s.isOnToolbar : null));
      const again = () => void readPin().then(cb);
      addEventListener('focus', again);
      document.addEventListener('visibilitychange', again);
    },
    optionsUrl: browser.runtime.getURL('src/options/index.html'),
  },
});

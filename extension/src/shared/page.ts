// What every extension page (popup, options, onboarding) does first: the document language from the catalogue
// (screen readers pick their voice by it), the UI port, and on Chromium the colour scheme reported to the
// background, which picks light or dark toolbar icons by it (its service worker has no matchMedia; Firefox's
// background page reads its own, which follows the toolbar theme, where a page's may be overridden).
import browser from 'webextension-polyfill';
import { locale } from './i18n.js';
import type { PagePort, UiClient } from './ui-client.js';
import { connectUi } from './ui-client.js';

export function startPage(): UiClient {
  document.documentElement.lang = locale();
  const client = connectUi((info) => browser.runtime.connect(info) as unknown as PagePort);
  if (__TUNLOCK_BROWSER__ === 'chrome') {
    const dark = matchMedia('(prefers-color-scheme: dark)');
    client.theme(dark.matches);
    dark.addEventListener('change', () => client.theme(dark.matches));
  }
  return client;
}

import { mount } from 'svelte';
import browser from 'webextension-polyfill';
import { startPage } from '../shared/page.js';
import Options from './Options.svelte';

const client = startPage();
// Must be called straight from the click (a user gesture), hence passed in rather than sent to the background.
const requestAllSites = () => browser.permissions.request({ origins: ['<all_urls>'] });
mount(Options, {
  target: document.getElementById('app')!,
  props: { client, requestAllSites, onboardingUrl: browser.runtime.getURL('src/onboarding/index.html') },
});

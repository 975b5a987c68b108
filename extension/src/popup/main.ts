import { mount } from 'svelte';
import browser from 'webextension-polyfill';
import { startPage } from '../shared/page.js';
import Popup from './Popup.svelte';

const client = startPage();
mount(Popup, {
  target: document.getElementById('app')!,
  props: {
    client,
    openOptions: () => void browser.runtime.openOptionsPage(),
    setupUrl: browser.runtime.getURL('src/onboarding/index.html#install'),
  },
});

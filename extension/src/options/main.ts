import { mount } from 'svelte';
import browser from 'webextension-polyfill';
import type { PagePort } from '../shared/ui-client.js';
import { connectUi } from '../shared/ui-client.js';
import Options from './Options.svelte';

const client = connectUi((info) => browser.runtime.connect(info) as unknown as PagePort);
// Must be called straight from the click (a user gesture), hence passed in rather than sent to the background.
const requestAllSites = () => browser.permissions.request({ origins: ['<all_urls>'] });
mount(Options, { target: document.getElementById('app')!, props: { client, requestAllSites } });

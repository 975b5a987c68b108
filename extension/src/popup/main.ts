import { mount } from 'svelte';
import browser from 'webextension-polyfill';
import type { PagePort } from '../shared/ui-client.js';
import { connectUi } from '../shared/ui-client.js';
import Popup from './Popup.svelte';

const client = connectUi((info) => browser.runtime.connect(info) as unknown as PagePort);
mount(Popup, { target: document.getElementById('app')!, props: { client, openOptions: () => void browser.runtime.openOptionsPage() } });

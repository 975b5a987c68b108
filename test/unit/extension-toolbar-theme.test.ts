// The toolbar icon follows the colour scheme: Chromium's worker learns it from the pages ({kind: "theme"} on the
// UI port) and remembers it in storage across restarts; a live report beats the stored one.
import { describe, expect, it } from 'vitest';
import type { Env, UiPort } from '../../extension/src/background/controller.js';
import { Controller } from '../../extension/src/background/controller.js';
import type { NativePort } from '../../extension/src/background/native-client.js';
import type { ToolbarTheme } from '../../extension/src/shared/state-view.js';

function setup(stored: Record<string, unknown> = {}) {
  const items: Record<string, unknown> = { ...stored };
  const renders: ToolbarTheme[] = [];
  const port: NativePort = { postMessage() {}, disconnect() {}, onMessage: { addListener() {} }, onDisconnect: { addListener() {} } };
  const env: Env = {
    browser: 'chrome',
    storage: { get: async (k) => (k in items ? { [k]: items[k] } : {}), set: async (i) => void Object.assign(items, i) },
    toolbar: { render: async (v) => void renders.push(v.theme) },
    notify() {},
    webrtc: { ipHandling: null, blocker: { setBlocked: async () => null } },
    strictPolicy: 'disable_non_proxied_udp',
    allowedSiteOpen: async () => false,
    canBlockPeerConnection: async () => false,
    portalUrl: async (u) => u,
    openTab: async () => {},
    native: { connect: () => port, disconnectReason: () => undefined, installFix: 'install' },
    reportError(where, e) {
      throw new Error(`${where}: ${String(e)}`);
    },
  };
  return { controller: new Controller(env), items, renders };
}

function page() {
  let send: (m: unknown) => void = () => {};
  const ui: UiPort = { postMessage() {}, onMessage: { addListener: (cb) => void (send = cb) }, onDisconnect: { addListener() {} } };
  return { ui, send: (m: unknown) => send(m) };
}

describe('toolbar theme', () => {
  it('a page reporting dark switches the icons to the dark-toolbar set and stores it', async () => {
    const { controller, items, renders } = setup();
    await controller.start();
    expect(renders.at(-1)).toBe('light');
    const p = page();
    controller.attachUi(p.ui);
    p.send({ kind: 'theme', dark: true });
    await new Promise((r) => setTimeout(r, 0));
    expect(renders.at(-1)).toBe('dark');
    expect(items.toolbarTheme).toBe('dark');
    p.send({ kind: 'theme', dark: 'yes' }); // refused by parseUiMessage
    await new Promise((r) => setTimeout(r, 0));
    expect(renders.at(-1)).toBe('dark');
  });
  it('a restarted worker uses the stored scheme until a page reports one', async () => {
    const { controller, renders } = setup({ toolbarTheme: 'dark' });
    await controller.start();
    expect(renders.at(-1)).toBe('dark');
    controller.setTheme('light');
    await new Promise((r) => setTimeout(r, 0));
    expect(renders.at(-1)).toBe('light');
  });
});

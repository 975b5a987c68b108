// The pages' side of the UI port: the latest snapshot plus request/reply. `connect` is a parameter so the
// page logic is unit-testable; the pages pass browser.runtime.connect.
import type { Snapshot } from './snapshot.js';
import type { BackgroundMessage, UiDaemonRequest, UiMessage } from './ui-messages.js';
import { UI_PORT } from './ui-messages.js';

export interface PagePort {
  postMessage(message: UiMessage): void;
  onMessage: { addListener(cb: (message: BackgroundMessage) => void): void };
  onDisconnect: { addListener(cb: () => void): void };
}

export const UI_REPLY_TIMEOUT_MS = 15_000;

export interface UiClient {
  onSnapshot(cb: (s: Snapshot) => void): void;
  daemon(request: UiDaemonRequest): Promise<void>;
  settings(patch: Record<string, unknown>): Promise<void>;
  openPortal(): Promise<void>;
  retry(): void;
  /** tells the background this page's colour scheme (see ui-messages.ts) */
  theme(dark: boolean): void;
}

export function connectUi(connect: (info: { name: string }) => PagePort): UiClient {
  let port = connect({ name: UI_PORT });
  let nextId = 1;
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  const listeners: ((s: Snapshot) => void)[] = [];
  let last: Snapshot | null = null;

  const wire = (p: PagePort) => {
    p.onMessage.addListener((m) => {
      if (m.kind === 'snapshot') {
        last = m.snapshot;
        for (const l of listeners) l(m.snapshot);
      } else {
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        if (m.ok) w?.resolve();
        else w?.reject(new Error(m.error));
      }
    });
    p.onDisconnect.addListener(() => {
      for (const w of waiting.values()) w.reject(new Error('the background restarted; try again'));
      waiting.clear();
      // The Chromium service worker was stopped: connecting again wakes it.
      port = connect({ name: UI_PORT });
      wire(port);
    });
  };
  wire(port);

  // The background always replies (its daemon requests time out after 10 s); this is the backstop, so a
  // button never stays busy forever.
  const send = (make: (id: number) => UiMessage) =>
    new Promise<void>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('no answer from the extension background within 15 s; try again'));
      }, UI_REPLY_TIMEOUT_MS);
      const done = () => clearTimeout(timer);
      waiting.set(id, { resolve: () => (done(), resolve()), reject: (e) => (done(), reject(e)) });
      port.postMessage(make(id));
    });

  return {
    onSnapshot(cb) {
      listeners.push(cb);
      if (last) cb(last);
    },
    daemon: (request) => send((id) => ({ kind: 'daemon', id, request })),
    settings: (patch) => send((id) => ({ kind: 'settings', id, patch })),
    openPortal: () => send((id) => ({ kind: 'openPortal', id })),
    retry: () => port.postMessage({ kind: 'retry' }),
    theme: (dark) => port.postMessage({ kind: 'theme', dark }),
  };
}

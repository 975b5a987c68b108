// The pages' side of the UI port: the latest snapshot plus request/reply. `connect` is a parameter so the
// page logic is unit-testable; the pages pass browser.runtime.connect.
import type { HistoryEventT, SelfTestResultT } from './protocol.js';
import { HistoryResult, SelfTestResult } from './protocol.js';
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
  /** runs the daemon's self-test (validated here: the background relays whatever the host answered) */
  selfTest(): Promise<SelfTestResultT>;
  history(): Promise<HistoryEventT[]>;
  settings(patch: Record<string, unknown>): Promise<void>;
  openPortal(): Promise<void>;
  retry(): void;
  /** tells the background this page's colour scheme (see ui-messages.ts) */
  theme(dark: boolean): void;
}

export function connectUi(connect: (info: { name: string }) => PagePort): UiClient {
  let port = connect({ name: UI_PORT });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (result: unknown) => void; reject: (e: Error) => void }>();
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
        if (m.ok) w?.resolve(m.result);
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
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('no answer from the extension background within 15 s; try again'));
      }, UI_REPLY_TIMEOUT_MS);
      const done = () => clearTimeout(timer);
      waiting.set(id, { resolve: (r) => (done(), resolve(r)), reject: (e) => (done(), reject(e)) });
      port.postMessage(make(id));
    });

  return {
    onSnapshot(cb) {
      listeners.push(cb);
      if (last) cb(last);
    },
    daemon: async (request) => void (await send((id) => ({ kind: 'daemon', id, request }))),
    selfTest: async () => {
      const r = SelfTestResult.safeParse(await send((id) => ({ kind: 'daemon', id, request: { type: 'selfTest' } })));
      if (!r.success) throw new Error('the self-test answer was not understood: update tunlock and the extension together');
      return r.data;
    },
    history: async () => {
      const r = HistoryResult.safeParse(await send((id) => ({ kind: 'daemon', id, request: { type: 'history' } })));
      if (!r.success) throw new Error('the history answer was not understood: update tunlock and the extension together');
      return r.data.events;
    },
    settings: async (patch) => void (await send((id) => ({ kind: 'settings', id, patch }))),
    openPortal: async () => void (await send((id) => ({ kind: 'openPortal', id }))),
    retry: () => port.postMessage({ kind: 'retry' }),
    theme: (dark) => port.postMessage({ kind: 'theme', dark }),
  };
}

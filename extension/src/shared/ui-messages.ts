// Messages between the extension's pages (popup, options) and the background, over a runtime port named
// UI_PORT. The background checks every message it receives with parseUiMessage: the pages are ours, but a
// page bug must not turn into an arbitrary request to the daemon.
import type { Snapshot } from './snapshot.js';

export const UI_PORT = 'tunlock-ui';

/** The daemon requests a page may make (the captive-portal button adds captiveOpen/Close in its own issue). */
export type UiDaemonRequest = { type: 'setMode'; mode: 'off' | 'on' | 'always' } | { type: 'setLan'; allow: boolean };

export type UiMessage =
  | { kind: 'daemon'; id: number; request: UiDaemonRequest }
  | { kind: 'settings'; id: number; patch: Record<string, unknown> }
  | { kind: 'retry' };

export type BackgroundMessage =
  | { kind: 'snapshot'; snapshot: Snapshot }
  | { kind: 'reply'; id: number; ok: true }
  | { kind: 'reply'; id: number; ok: false; error: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseUiMessage(v: unknown): UiMessage | null {
  if (!isObject(v)) return null;
  if (v.kind === 'retry') return { kind: 'retry' };
  if (typeof v.id !== 'number' || !Number.isInteger(v.id)) return null;
  if (v.kind === 'settings' && isObject(v.patch)) return { kind: 'settings', id: v.id, patch: v.patch };
  if (v.kind !== 'daemon' || !isObject(v.request)) return null;
  const r = v.request;
  if (r.type === 'setMode' && (r.mode === 'off' || r.mode === 'on' || r.mode === 'always')) {
    return { kind: 'daemon', id: v.id, request: { type: 'setMode', mode: r.mode } };
  }
  if (r.type === 'setLan' && typeof r.allow === 'boolean') return { kind: 'daemon', id: v.id, request: { type: 'setLan', allow: r.allow } };
  return null;
}

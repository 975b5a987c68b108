// Messages between the extension's pages (popup, options) and the background, over a runtime port named
// UI_PORT. The background checks every message it receives with parseUiMessage: the pages are ours, but a
// page bug must not turn into an arbitrary request to the daemon.
import { CaptiveSeconds, Ifname } from './protocol.js';
import type { Snapshot } from './snapshot.js';

export const UI_PORT = 'tunlock-ui';

/** The daemon requests a page may make. Captive seconds are checked here too (10..600, as the protocol). */
export type UiDaemonRequest =
  | { type: 'setMode'; mode: 'off' | 'on' | 'always'; blockAll?: true }
  /** configure a tunnel the daemon detected (the daemon checks that it is one) */
  | { type: 'tunnelAdopt'; iface: string }
  | { type: 'setLan'; allow: boolean }
  | { type: 'captiveOpen'; seconds: number }
  | { type: 'captiveExtend'; seconds: number }
  | { type: 'captiveClose' }
  | { type: 'selfTest' }
  | { type: 'history' };

export type UiMessage =
  | { kind: 'daemon'; id: number; request: UiDaemonRequest }
  /** open the network's login page again (the hole must be open) */
  | { kind: 'openPortal'; id: number }
  | { kind: 'settings'; id: number; patch: Record<string, unknown> }
  | { kind: 'retry' }
  /** the page's prefers-color-scheme: Chromium's service worker cannot read it, and picks toolbar icons by it */
  | { kind: 'theme'; dark: boolean };

export type BackgroundMessage =
  | { kind: 'snapshot'; snapshot: Snapshot }
  /** `result`: what selfTest and history answered (the page validates it with the protocol schema) */
  | { kind: 'reply'; id: number; ok: true; result?: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string };

function isCaptiveSeconds(v: unknown): v is number {
  return CaptiveSeconds.safeParse(v).success;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseUiMessage(v: unknown): UiMessage | null {
  if (!isObject(v)) return null;
  if (v.kind === 'retry') return { kind: 'retry' };
  if (v.kind === 'theme') return typeof v.dark === 'boolean' ? { kind: 'theme', dark: v.dark } : null;
  if (typeof v.id !== 'number' || !Number.isInteger(v.id)) return null;
  if (v.kind === 'settings' && isObject(v.patch)) return { kind: 'settings', id: v.id, patch: v.patch };
  if (v.kind === 'openPortal') return { kind: 'openPortal', id: v.id };
  if (v.kind !== 'daemon' || !isObject(v.request)) return null;
  const r = v.request;
  if (r.type === 'setMode' && (r.mode === 'off' || r.mode === 'on' || r.mode === 'always')) {
    // blockAll only as an explicit `true` (the popup's "block all traffic anyway"), never for "off"
    if (r.blockAll === true && r.mode !== 'off') return { kind: 'daemon', id: v.id, request: { type: 'setMode', mode: r.mode, blockAll: true } };
    return r.blockAll === undefined ? { kind: 'daemon', id: v.id, request: { type: 'setMode', mode: r.mode } } : null;
  }
  if (r.type === 'tunnelAdopt' && typeof r.iface === 'string' && Ifname.safeParse(r.iface).success) {
    return { kind: 'daemon', id: v.id, request: { type: 'tunnelAdopt', iface: r.iface } };
  }
  if (r.type === 'setLan' && typeof r.allow === 'boolean') return { kind: 'daemon', id: v.id, request: { type: 'setLan', allow: r.allow } };
  if ((r.type === 'captiveOpen' || r.type === 'captiveExtend') && isCaptiveSeconds(r.seconds)) {
    return { kind: 'daemon', id: v.id, request: { type: r.type, seconds: r.seconds } };
  }
  if (r.type === 'captiveClose' || r.type === 'selfTest' || r.type === 'history') return { kind: 'daemon', id: v.id, request: { type: r.type } };
  return null;
}

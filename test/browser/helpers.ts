// Small helpers shared by the browser tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ORIGIN, FIREFOX_ADDON_ID, NATIVE_HOST_NAME } from '../../host/src/common/extension-ids.js';
import { ROOT } from './browser-lab.js';

/**
 * Where screenshots go: a temporary directory by default, so a test run never dirties the tree;
 * TUNLOCK_SCREENSHOTS=update writes the committed ones (test/browser/screenshots, shown in README.md and
 * docs/extension.md).
 */
export const SCREENSHOTS = process.env.TUNLOCK_SCREENSHOTS === 'update' ? join(ROOT, 'test/browser/screenshots') : join(tmpdir(), 'tunlock-screenshots');
export const CHROME_DIST = join(ROOT, 'extension/dist/chrome');
export const FIREFOX_DIST = join(ROOT, 'extension/dist/firefox');

export function hostManifest(hostPath: string, browser: 'chromium' | 'firefox'): string {
  const m = {
    name: NATIVE_HOST_NAME,
    description: 'tunlock-host (test)',
    path: hostPath,
    type: 'stdio',
    ...(browser === 'chromium' ? { allowed_origins: [CHROMIUM_ORIGIN] } : { allowed_extensions: [FIREFOX_ADDON_ID] }),
  };
  return `${JSON.stringify(m, null, 2)}\n`;
}

/** Registers the host where Chromium looks first: <user-data-dir>/NativeMessagingHosts/. */
export function registerChromiumHost(userDataDir: string, hostPath: string): void {
  const dir = join(userDataDir, 'NativeMessagingHosts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${NATIVE_HOST_NAME}.json`), hostManifest(hostPath, 'chromium'));
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export interface IceResult {
  available: boolean;
  candidates: string[];
}

/** Candidates that carry one of these addresses (host, srflx, anything). */
export function revealing(r: IceResult, addresses: string[]): string[] {
  return r.candidates.filter((c) => addresses.some((a) => c.split(' ').includes(a)));
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Runs in the page before a screenshot: replaces what differs between runs and means nothing for the UI (the
 * lab's random temp dir in the daemon-socket hint, the blocked-packet counter, which stray IPv6 router
 * solicitations move) with fixed placeholders, so a committed PNG changes only when the UI does.
 */
export function stabilizeForScreenshot([dir, stable]: [string, string]): void {
  // Text nodes are edited in place (nodeValue), so the page's own later updates still land.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    let v = n.nodeValue ?? '';
    if (v.includes(dir)) v = v.split(dir).join(stable);
    const el = n.parentElement;
    if (el?.closest('[data-testid=blocked]')) v = v.replace(/^[\d,.]+ (packets?|Pakete?)/, (_, w: string) => (w.startsWith('p') ? 'N packets' : 'N Pakete'));
    if (el?.closest('[data-testid=bindings] td:last-child')) v = v.replace(/^[\d,]+ packets?/, 'N packets');
    if (v !== n.nodeValue) n.nodeValue = v;
  }
}

/** The extension APIs the tests call inside extension pages (typed here; @types/chrome is not a dependency). */
export interface ExtApi {
  action: { getTitle(d: object): Promise<string>; getBadgeText(d: object): Promise<string> };
  privacy: { network: { webRTCIPHandlingPolicy: { get(d: object): Promise<{ value: unknown }> }; peerConnectionEnabled?: { get(d: object): Promise<{ value: unknown }> } } };
  storage: { local: { get(k: string): Promise<Record<string, unknown>> } };
}
export type ExtGlobal = { chrome: ExtApi; browser: ExtApi };

// The extension's own settings (the lock mode and LAN access live in the daemon, not here). Stored in
// storage.local; the storage area is a parameter so unit tests pass a fake. Reading is lenient per field: a
// field that is missing or invalid (older version, hand-edited storage) falls back to its default, so a bad
// value can never switch WebRTC protection off.
import * as z from 'zod/mini';
import { t } from './i18n.js';

export const WebrtcMode = z.enum(['protect', 'block', 'off']);
export type WebrtcMode = z.infer<typeof WebrtcMode>;

export const MAX_VIDEO_CALL_SITES = 50;

export interface Settings {
  /** protect (default, from the first start): no non-proxied UDP; block: WebRTC off; off: the browser's own */
  webrtc: WebrtcMode;
  /** origins (https://host[:port]) for which WebRTC is relaxed while the lock is `protected` */
  videoCallSites: string[];
  notifyTunnelDrop: boolean;
  notifyTamper: boolean;
  /** Firefox says this network has a login page (captivePortal API) while the lock blocks */
  notifyPortal: boolean;
  /**
   * The plain-HTTP page opened after "Log in to this network": a portal intercepts it and shows its login.
   * Left at the default, Firefox uses its own detection address (captivePortal.canonicalURL).
   */
  portalUrl: string;
}

export const DEFAULT_PORTAL_URL = 'http://detectportal.firefox.com/canonical.html';

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  webrtc: 'protect',
  videoCallSites: [],
  notifyTunnelDrop: true,
  notifyTamper: true,
  notifyPortal: true,
  portalUrl: DEFAULT_PORTAL_URL,
});

export const SETTINGS_KEY = 'settings';

/** The part of storage.StorageArea we use. */
export interface SettingsStorage {
  get(key: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
}

const Origin = z.string().check(z.refine((s) => normalizeSite(s).ok, 'not a site origin'));

/** Turns whatever the user typed ("meet.example.com", "https://meet.example.com/room") into an origin. */
export function normalizeSite(input: string): { ok: true; origin: string } | { ok: false; error: string } {
  const text = input.trim();
  if (text === '') return { ok: false, error: t('siteEmpty') };
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    return { ok: false, error: t('siteInvalid', text) };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    return { ok: false, error: t('siteHttps') };
  }
  if (!url.hostname.includes('.') && !isLoopback(url.hostname)) {
    return { ok: false, error: t('siteNotFull', url.hostname) };
  }
  if (url.username || url.password) return { ok: false, error: t('siteCredentials') };
  return { ok: true, origin: url.origin };
}

/** The login-page address: http(s) only (a portal intercepts plain HTTP), no credentials, a sane length. */
export function normalizePortalUrl(input: string): { ok: true; url: string } | { ok: false; error: string } {
  const text = input.trim();
  if (text === '') return { ok: true, url: DEFAULT_PORTAL_URL };
  if (text.length > 2000) return { ok: false, error: t('portalTooLong') };
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    return { ok: false, error: t('portalInvalid', text) };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, error: t('portalHttp') };
  if (url.username || url.password) return { ok: false, error: t('portalCredentials') };
  return { ok: true, url: url.href };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
}

/** A match pattern for tabs.query that covers every page of the origin. */
export function originPattern(origin: string): string {
  const url = new URL(origin);
  // Match patterns take no port: a port-specific origin is matched by host, then checked exactly.
  return `${url.protocol}//${url.hostname}/*`;
}

/** Whether a tab URL belongs to one of the allowed origins (exact origin match, port included). */
export function isAllowedSite(tabUrl: string | undefined, origins: readonly string[]): boolean {
  if (!tabUrl) return false;
  let origin: string;
  try {
    origin = new URL(tabUrl).origin;
  } catch {
    return false;
  }
  return origins.includes(origin);
}

/** Lenient, per-field parse of what storage holds. */
export function parseSettings(stored: unknown): Settings {
  const o = typeof stored === 'object' && stored !== null ? (stored as Record<string, unknown>) : {};
  const webrtc = WebrtcMode.safeParse(o.webrtc);
  const sites = z.array(Origin).check(z.maxLength(MAX_VIDEO_CALL_SITES)).safeParse(o.videoCallSites);
  const bool = (v: unknown, d: boolean) => (typeof v === 'boolean' ? v : d);
  return {
    webrtc: webrtc.success ? webrtc.data : DEFAULT_SETTINGS.webrtc,
    videoCallSites: sites.success ? [...new Set(sites.data.map((s) => (normalizeSite(s) as { origin: string }).origin))] : [],
    notifyTunnelDrop: bool(o.notifyTunnelDrop, DEFAULT_SETTINGS.notifyTunnelDrop),
    notifyTamper: bool(o.notifyTamper, DEFAULT_SETTINGS.notifyTamper),
    notifyPortal: bool(o.notifyPortal, DEFAULT_SETTINGS.notifyPortal),
    portalUrl: typeof o.portalUrl === 'string' && normalizePortalUrl(o.portalUrl).ok ? (normalizePortalUrl(o.portalUrl) as { url: string }).url : DEFAULT_SETTINGS.portalUrl,
  };
}

export async function loadSettings(storage: SettingsStorage): Promise<Settings> {
  const items = await storage.get(SETTINGS_KEY);
  return parseSettings(items[SETTINGS_KEY]);
}

export type SettingsPatch = Partial<Settings>;

/** Applies a patch from the UI; returns the new settings or why the patch was refused. */
export function applyPatch(current: Settings, patch: unknown): { ok: true; settings: Settings } | { ok: false; error: string } {
  if (typeof patch !== 'object' || patch === null) return { ok: false, error: 'settings patch must be an object' };
  const p = patch as Record<string, unknown>;
  const next: Settings = { ...current, videoCallSites: [...current.videoCallSites] };
  for (const [key, value] of Object.entries(p)) {
    switch (key) {
      case 'webrtc': {
        const r = WebrtcMode.safeParse(value);
        if (!r.success) return { ok: false, error: `webrtc must be one of ${WebrtcMode.options.join(', ')}` };
        next.webrtc = r.data;
        break;
      }
      case 'videoCallSites': {
        if (!Array.isArray(value)) return { ok: false, error: 'videoCallSites must be a list' };
        const origins: string[] = [];
        for (const v of value) {
          const r = typeof v === 'string' ? normalizeSite(v) : ({ ok: false, error: 'a site must be text' } as const);
          if (!r.ok) return { ok: false, error: r.error };
          if (!origins.includes(r.origin)) origins.push(r.origin);
        }
        if (origins.length > MAX_VIDEO_CALL_SITES) return { ok: false, error: `at most ${MAX_VIDEO_CALL_SITES} sites` };
        next.videoCallSites = origins;
        break;
      }
      case 'portalUrl': {
        const r = typeof value === 'string' ? normalizePortalUrl(value) : ({ ok: false, error: 'portalUrl must be text' } as const);
        if (!r.ok) return { ok: false, error: r.error };
        next.portalUrl = r.url;
        break;
      }
      case 'notifyTunnelDrop':
      case 'notifyTamper':
      case 'notifyPortal':
        if (typeof value !== 'boolean') return { ok: false, error: `${key} must be true or false` };
        next[key] = value;
        break;
      default:
        return { ok: false, error: `unknown setting ${key}` };
    }
  }
  return { ok: true, settings: next };
}

export async function saveSettings(storage: SettingsStorage, settings: Settings): Promise<void> {
  await storage.set({ [SETTINGS_KEY]: settings });
}

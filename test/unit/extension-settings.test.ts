import { describe, expect, it } from 'vitest';
import type { SettingsStorage } from '../../extension/src/shared/settings.js';
import {
  applyPatch,
  DEFAULT_PORTAL_URL,
  DEFAULT_SETTINGS,
  isAllowedSite,
  loadSettings,
  normalizePortalUrl,
  normalizeSite,
  originPattern,
  parseSettings,
  saveSettings,
} from '../../extension/src/shared/settings.js';
import { addSite, removeSite } from '../../extension/src/options/options-model.js';

function fakeStorage(initial: Record<string, unknown> = {}): SettingsStorage & { data: Record<string, unknown> } {
  const data = { ...initial };
  return {
    data,
    get: async (k) => (k in data ? { [k]: data[k] } : {}),
    set: async (items) => void Object.assign(data, structuredClone(items)),
  };
}

describe('settings', () => {
  it('defaults to WebRTC protect from the first start', async () => {
    expect(await loadSettings(fakeStorage())).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS.webrtc).toBe('protect');
  });
  it('falls back per field, so a bad value never turns protection off', () => {
    const s = parseSettings({ webrtc: 'nonsense', videoCallSites: ['https://meet.example.com'], notifyTamper: false, notifyTunnelDrop: 'yes', portalUrl: 'javascript:alert(1)' });
    expect(s).toEqual({
      webrtc: 'protect',
      videoCallSites: ['https://meet.example.com'],
      notifyTunnelDrop: true,
      notifyTamper: false,
      notifyPortal: true,
      portalUrl: DEFAULT_PORTAL_URL,
    });
    expect(parseSettings({ videoCallSites: ['javascript:alert(1)'] }).videoCallSites).toEqual([]);
    expect(parseSettings(null)).toEqual(DEFAULT_SETTINGS);
  });
  it('round-trips through storage', async () => {
    const st = fakeStorage();
    const r = applyPatch(DEFAULT_SETTINGS, { webrtc: 'block', videoCallSites: ['meet.example.com/room', 'https://meet.example.com'] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.settings.videoCallSites).toEqual(['https://meet.example.com']);
    await saveSettings(st, r.settings);
    expect(await loadSettings(st)).toEqual(r.settings);
  });
  it('refuses bad patches with a reason and leaves the settings alone', () => {
    expect(applyPatch(DEFAULT_SETTINGS, { webrtc: 'maybe' })).toEqual({ ok: false, error: 'webrtc must be one of protect, block, off' });
    expect(applyPatch(DEFAULT_SETTINGS, { colour: 'red' })).toMatchObject({ ok: false, error: 'unknown setting colour' });
    expect(applyPatch(DEFAULT_SETTINGS, { notifyTamper: 1 })).toMatchObject({ ok: false });
    expect(applyPatch(DEFAULT_SETTINGS, { videoCallSites: ['http://meet.example.com'] })).toMatchObject({ ok: false });
    expect(applyPatch(DEFAULT_SETTINGS, null)).toMatchObject({ ok: false });
    expect(DEFAULT_SETTINGS.videoCallSites).toEqual([]);
  });
  it('normalises what users type into origins', () => {
    expect(normalizeSite('meet.example.com')).toEqual({ ok: true, origin: 'https://meet.example.com' });
    expect(normalizeSite(' https://Meet.Example.com:8443/x?y ')).toEqual({ ok: true, origin: 'https://meet.example.com:8443' });
    expect(normalizeSite('http://localhost:8080')).toEqual({ ok: true, origin: 'http://localhost:8080' });
    for (const bad of ['', 'intranet', 'http://meet.example.com', 'ftp://x.example', 'https://u:p@x.example.com', 'https://']) {
      expect(normalizeSite(bad).ok, bad).toBe(false);
    }
  });
  it('matches tabs by exact origin, port included', () => {
    const sites = ['https://meet.example.com', 'http://127.0.0.1:8080'];
    expect(isAllowedSite('https://meet.example.com/abc', sites)).toBe(true);
    expect(isAllowedSite('https://meet.example.com:444/abc', sites)).toBe(false);
    expect(isAllowedSite('https://evil.example/https://meet.example.com', sites)).toBe(false);
    expect(isAllowedSite('http://127.0.0.1:8080/call', sites)).toBe(true);
    expect(isAllowedSite(undefined, sites)).toBe(false);
    expect(originPattern('http://127.0.0.1:8080')).toBe('http://127.0.0.1/*');
  });
  it('options page adds and removes sites', () => {
    expect(addSite([], 'meet.example.com')).toEqual({ ok: true, sites: ['https://meet.example.com'] });
    expect(addSite(['https://meet.example.com'], 'https://meet.example.com/x')).toMatchObject({ ok: false, error: expect.stringContaining('already') });
    expect(removeSite(['https://a.example', 'https://b.example'], 'https://a.example')).toEqual(['https://b.example']);
  });
  it('portal URL: http(s) only, no credentials; empty means the default', () => {
    expect(DEFAULT_PORTAL_URL).toBe('http://detectportal.firefox.com/canonical.html');
    expect(normalizePortalUrl('203.0.113.1/portal')).toEqual({ ok: true, url: 'http://203.0.113.1/portal' });
    expect(normalizePortalUrl('')).toEqual({ ok: true, url: DEFAULT_PORTAL_URL });
    expect(normalizePortalUrl('https://example.com/')).toEqual({ ok: true, url: 'https://example.com/' });
    expect(normalizePortalUrl('ftp://example.com/').ok).toBe(false);
    expect(normalizePortalUrl('javascript:alert(1)').ok).toBe(false);
    expect(normalizePortalUrl('http://u:p@example.com/').ok).toBe(false);
    const r = applyPatch(DEFAULT_SETTINGS, { portalUrl: 'http://203.0.113.1/', notifyPortal: false });
    expect(r).toMatchObject({ ok: true, settings: { portalUrl: 'http://203.0.113.1/', notifyPortal: false } });
    expect(applyPatch(DEFAULT_SETTINGS, { portalUrl: 'file:///etc/passwd' }).ok).toBe(false);
    expect(applyPatch(DEFAULT_SETTINGS, { portalUrl: 5 }).ok).toBe(false);
  });
});

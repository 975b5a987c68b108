import { afterEach, describe, expect, it } from 'vitest';
import { useI18n } from '../../extension/src/shared/i18n.js';
import { BADGE_WARN, formatCountdown, ICON_KINDS, iconPaths, stateView } from '../../extension/src/shared/state-view.js';
import { status } from './extension-fixtures.js';
import { catalogue } from './i18n-catalogue.js';

const ready = { kind: 'ready' } as const;
const down = (iface = 'wg0') => [{ iface, up: false, endpoints: ['198.51.100.10:51820/udp'], learned: [] }];
const NOW = 1_000_000;

describe('stateView: state → icon, badge, title, sentence (honest wording, issue 13)', () => {
  afterEach(() => useI18n(catalogue('en')));

  it('protected names the tunnel; with LAN access on it says so, and the note lists what else may leave', () => {
    const lan = stateView(ready, status());
    expect(lan).toMatchObject({ icon: 'protected', tone: 'ok', label: 'Protected', badgeText: '' });
    expect(lan.detail).toBe('Traffic leaves only through the VPN (wg0) and to your local network.');
    expect(lan.note).toBe('Also allowed outside the VPN: your local network (never its DNS), the VPN server, DHCP.');
    const strict = stateView(ready, status({ lan: 'block' }));
    expect(strict.detail).toBe('Traffic leaves only through the VPN (wg0).');
    expect(strict.note).toBe('Also allowed outside the VPN: the VPN server, DHCP.');
    expect(strict.title).toBe('tunlock: Protected — Traffic leaves only through the VPN (wg0).');
  });
  it('blocking: the icon says enough, no badge; LAN access is named', () => {
    const v = stateView(ready, status({ state: 'blocking', tunnels: down(), lan: 'block' }));
    expect(v).toMatchObject({ icon: 'blocking', tone: 'block', badgeText: '' });
    expect(v.title).toBe('tunlock: Blocking — The VPN (wg0) is down: nothing leaves this computer until it reconnects.');
    expect(stateView(ready, status({ state: 'blocking', tunnels: down() })).detail).toContain('except to your local network');
  });
  it('blocking without any tunnel says what to do; the command is behind details', () => {
    const v = stateView(ready, status({ state: 'blocking', tunnels: [] }));
    expect(v.detail).toBe('No VPN tunnel is set up yet, so everything is blocked.');
    expect(v.fix).not.toMatch(/tunlock tunnel add/);
    expect(v.technical).toMatch(/^tunlock tunnel add/);
  });
  it('lists several tunnels in words (Intl.ListFormat)', () => {
    const v = stateView(ready, status({ state: 'blocking', lan: 'block', tunnels: [...down('wg0'), ...down('wg1'), ...down('tun0')] }));
    expect(v.detail).toBe('The VPN (wg0, wg1, and tun0) is down: nothing leaves this computer until it reconnects.');
  });
  it('Standby is "Not protected", in the warning tone with a warning badge', () => {
    const v = stateView(ready, status({ state: 'standby', tunnels: down() }));
    expect(v).toMatchObject({ icon: 'standby', tone: 'warn', label: 'Not protected', badgeText: '!', badgeColor: BADGE_WARN });
    expect(v.detail).toBe('VPN disconnected; the lock returns when the VPN reconnects.');
    expect(v.note).toContain('shows your real IP');
    expect(v.title).toBe('tunlock: Not protected — VPN disconnected; the lock returns when the VPN reconnects.');
  });
  it('off has no badge and its own icon', () => {
    expect(stateView(ready, status({ mode: 'off', state: 'off' }))).toMatchObject({ icon: 'off', tone: 'neutral', badgeText: '' });
  });
  it('the login hole says all web traffic of this account leaves outside the VPN; badge ≤ 3 characters', () => {
    const captive = { uid: 1000, iface: 'eth0', resolvers: ['192.168.1.1'], expiresAt: 0, secondsLeft: 120 };
    const s = status({ state: 'exception', tunnels: down(), captive });
    const v = stateView(ready, s);
    expect(v).toMatchObject({ icon: 'exception', tone: 'warn', badgeText: '2m' });
    expect(v.detail).toBe('All web traffic of this account — every tab and every app — leaves outside the VPN and shows your real IP for another 2:00.');
    expect(stateView(ready, s, 65).badgeText).toBe('1m');
    expect(stateView(ready, s, 45).badgeText).toBe('45s');
    expect(stateView(ready, s, 65).note).toContain('Network: eth0');
    for (const sec of [0, 9, 59, 60, 599, 600, 5999]) expect(stateView(ready, s, sec).badgeText.length).toBeLessThanOrEqual(3);
  });
  it('a daemon-reported error wins over the state: plain words in front, the daemon text behind details', () => {
    const v = stateView(ready, status({ state: 'blocking', error: { code: 'firewall_failed', message: 'nft refused', hint: 'run tunlock doctor' } }));
    expect(v).toMatchObject({ icon: 'error', tone: 'error', technical: 'nft refused\nrun tunlock doctor' });
    expect(v.detail).toContain('The lock stays closed');
    expect(v.detail).not.toContain('nft');
  });
  it('every link failure is the error icon; errno texts and commands only in technical', () => {
    for (const kind of ['host_missing', 'host_forbidden', 'host_failed', 'daemon_down', 'incompatible'] as const) {
      const v = stateView({ kind, message: 'connect ENOENT /run/tunlock/tunlockd.sock', fix: 'sudo systemctl start tunlockd' }, status());
      expect(v.icon).toBe('error');
      expect(v.fix).toBeTruthy();
      expect(`${v.label} ${v.detail} ${v.note ?? ''} ${v.fix}`).not.toMatch(/ENOENT|\/run\/|systemctl|daemon/);
      expect(v.technical).toContain('ENOENT');
      expect(v.title.startsWith('tunlock: ')).toBe(true);
    }
    const missing = stateView({ kind: 'host_missing', message: 'x', fix: 'f' }, null);
    expect(missing).toMatchObject({ label: 'tunlock app not installed', fixLink: 'install' });
  });
  it('service down: says what the kernel still holds, and any open login hole with its time', () => {
    const c = { kind: 'daemon_down', message: 'tunlockd is not running', fix: 'f' } as const;
    expect(stateView(c, null).detail).toContain('cannot tell which');
    expect(stateView(c, status({ state: 'blocking', tunnels: down() })).detail).toMatch(/^Still blocked by the firewall/);
    expect(stateView(c, status()).detail).toMatch(/^Still locked to the VPN by the firewall/);
    expect(stateView(c, status({ mode: 'off', state: 'off' })).detail).toContain('not protected');
    const hole = status({ state: 'exception', tunnels: down(), captive: { uid: 1000, iface: 'eth0', resolvers: [], expiresAt: NOW + 95_000, secondsLeft: 95 } });
    const v = stateView(c, hole, undefined, NOW);
    expect(v.label).toBe('tunlock service not running');
    expect(v.detail).toBe('Still blocked by the firewall, except the Wi-Fi login hole: the kernel keeps the last rules.');
    expect(stateView(c, hole, undefined, NOW + 96_000).detail).toMatch(/^Still blocked by the firewall: /);
    expect(v.note).toBe('The Wi-Fi login hole stays open for another 1:35; then the kernel closes it.');
    expect(stateView(c, hole, undefined, NOW + 96_000).note).toBeNull();
  });
  it('connecting is not an error and not a lock state', () => {
    expect(stateView({ kind: 'connecting', since: 0 }, null)).toMatchObject({ label: 'Connecting…', fix: null, tone: 'neutral' });
    expect(stateView(ready, null).label).toBe('Connecting…');
  });
  it('German: the same states in German, numbers and lists through Intl', () => {
    useI18n(catalogue('de'));
    const standby = stateView(ready, status({ state: 'standby', tunnels: down() }));
    expect(standby.label).toBe('Nicht geschützt');
    expect(standby.detail).toBe('VPN getrennt; die Sperre kehrt zurück, sobald das VPN wieder verbunden ist.');
    const several = stateView(ready, status({ state: 'blocking', lan: 'block', tunnels: [...down('wg0'), ...down('wg1')] }));
    expect(several.detail).toContain('(wg0 und wg1)');
    expect(several.title).toMatch(/^tunlock: Blockiert — /);
  });
  it('formats countdowns and icon paths (light and dark toolbars)', () => {
    expect([0, 9, 60, 599, -3].map(formatCountdown)).toEqual(['0:00', '0:09', '1:00', '9:59', '0:00']);
    expect(iconPaths('blocking')).toEqual({ 16: 'icons/blocking-16.png', 32: 'icons/blocking-32.png' });
    expect(iconPaths('blocking', 'dark')).toEqual({ 16: 'icons/blocking-dark-16.png', 32: 'icons/blocking-dark-32.png' });
    expect(new Set(ICON_KINDS).size).toBe(6);
  });
});

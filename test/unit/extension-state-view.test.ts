import { describe, expect, it } from 'vitest';
import { formatCountdown, ICON_KINDS, iconPaths, stateView } from '../../extension/src/shared/state-view.js';
import { status } from './extension-fixtures.js';

const ready = { kind: 'ready' } as const;
const down = (iface = 'wg0') => [{ iface, up: false, endpoints: ['198.51.100.10:51820/udp'], learned: [] }];

describe('stateView: state → icon, badge, title, sentence', () => {
  it('protected names the tunnel', () => {
    const v = stateView(ready, status());
    expect(v).toMatchObject({ icon: 'protected', label: 'Protected', badgeText: '' });
    expect(v.detail).toBe('Locked to tunnel wg0: traffic can leave only through it.');
    expect(v.title).toBe('tunlock: Protected — Locked to tunnel wg0: traffic can leave only through it.');
  });
  it('blocking says the tunnel is down and nothing leaves, with a badge', () => {
    const v = stateView(ready, status({ state: 'blocking', tunnels: down() }));
    expect(v.icon).toBe('blocking');
    expect(v.badgeText).toBe('BLK');
    expect(v.title).toBe('tunlock: Blocking — tunnel wg0 is down; nothing leaves this computer.');
  });
  it('blocking without any tunnel tells how to add one', () => {
    const v = stateView(ready, status({ state: 'blocking', tunnels: [] }));
    expect(v.detail).toContain('No tunnel is configured');
    expect(v.fix).toMatch(/^tunlock tunnel add/);
  });
  it('lists several tunnels in words', () => {
    const v = stateView(ready, status({ state: 'blocking', tunnels: [...down('wg0'), ...down('wg1'), ...down('tun0')] }));
    expect(v.detail).toBe('tunnels wg0, wg1 and tun0 are down; nothing leaves this computer.');
  });
  it('off and standby have no badge and their own icons', () => {
    expect(stateView(ready, status({ mode: 'off', state: 'off' }))).toMatchObject({ icon: 'off', badgeText: '' });
    expect(stateView(ready, status({ state: 'standby', tunnels: down() }))).toMatchObject({ icon: 'standby', badgeText: '' });
  });
  it('exception shows the countdown in the badge, the live value winning over the status', () => {
    const captive = { uid: 1000, iface: 'eth0', resolvers: ['192.168.1.1'], expiresAt: 0, secondsLeft: 120 };
    const s = status({ state: 'exception', tunnels: down(), captive });
    expect(stateView(ready, s)).toMatchObject({ icon: 'exception', badgeText: '2:00' });
    expect(stateView(ready, s, 65).badgeText).toBe('1:05');
    expect(stateView(ready, s, 65).detail).toContain('on eth0');
  });
  it('a daemon-reported error wins over the state (and says the lock stays closed)', () => {
    const v = stateView(ready, status({ state: 'blocking', error: { code: 'firewall_failed', message: 'nft refused', hint: 'run tunlock doctor' } }));
    expect(v).toMatchObject({ icon: 'error', fix: 'run tunlock doctor' });
    expect(v.detail).toContain('fail-closed');
  });
  it('every link failure is the error icon with the fix from the connection', () => {
    for (const kind of ['host_missing', 'host_forbidden', 'host_failed', 'daemon_down', 'incompatible'] as const) {
      const v = stateView({ kind, message: 'm', fix: 'do this' }, status());
      expect(v.icon).toBe('error');
      expect(v.fix).toBe('do this');
      expect(v.title.startsWith('tunlock: ')).toBe(true);
    }
    expect(stateView({ kind: 'host_missing', message: 'x', fix: 'f' }, null).detail).toContain('not installed');
    expect(stateView({ kind: 'daemon_down', message: 'tunlockd is not running', fix: 'f' }, null).detail).toContain('rules already in the kernel stay');
  });
  it('connecting is not an error and not a lock state', () => {
    expect(stateView({ kind: 'connecting', since: 0 }, null)).toMatchObject({ label: 'Connecting', fix: null });
    expect(stateView(ready, null).label).toBe('Connecting');
  });
  it('formats countdowns and icon paths', () => {
    expect([0, 9, 60, 599, -3].map(formatCountdown)).toEqual(['0:00', '0:09', '1:00', '9:59', '0:00']);
    expect(iconPaths('blocking')).toEqual({ 16: 'icons/blocking-16.png', 32: 'icons/blocking-32.png' });
    expect(new Set(ICON_KINDS).size).toBe(6);
  });
});

// The popup's zero-configuration section: what it says about detected tunnels, which request each button
// sends, and the background's check of those requests.
import { describe, expect, it } from 'vitest';
import { detectedModel } from '../../extension/src/popup/detected-model.js';
import { parseUiMessage } from '../../extension/src/shared/ui-messages.js';
import { status } from './extension-fixtures.js';

const wg0 = { iface: 'wg0', kind: 'wireguard', endpoints: ['198.51.100.10:51820/udp'] };
const tun0 = { iface: 'tun0', kind: 'tun', endpoints: [] };

describe('detectedModel', () => {
  it('no tunnel configured, one up: the lock holds to it; one click adopts it', () => {
    const m = detectedModel(status({ mode: 'off', state: 'off', tunnels: [], detected: [wg0] }), 'on');
    expect(m).toEqual({
      text: 'VPN detected: the lock holds to wg0.',
      tunnels: [{ iface: 'wg0', text: 'wg0 — WireGuard, up, server 198.51.100.10:51820/udp', adopt: { type: 'tunnelAdopt', iface: 'wg0' } }],
      blockAll: null,
    });
  });
  it('several up: a choice', () => {
    const m = detectedModel(status({ mode: 'off', state: 'off', tunnels: [], detected: [wg0, tun0] }), 'on');
    expect(m?.text).toBe('Several tunnels are up: choose the one the lock holds to.');
    expect(m?.tunnels.map((t) => t.adopt)).toEqual([{ type: 'tunnelAdopt', iface: 'wg0' }, { type: 'tunnelAdopt', iface: 'tun0' }]);
  });
  it('none up: says locking blocks everything, and offers the explicit confirmation in the chosen mode', () => {
    const m = detectedModel(status({ mode: 'off', state: 'off', tunnels: [], detected: [] }), 'always');
    expect(m?.text).toMatch(/No VPN tunnel is up.*Locking now blocks all traffic/);
    expect(m?.blockAll).toEqual({ type: 'setMode', mode: 'always', blockAll: true });
    expect(detectedModel(status({ mode: 'on', state: 'blocking', tunnels: [], detected: [] }), 'on')?.blockAll).toBeNull();
  });
  it('tunnels configured: only extra tunnels are offered; nothing extra, nothing shown', () => {
    expect(detectedModel(status(), 'on')).toBeNull();
    expect(detectedModel(status({ detected: [tun0] }), 'on')?.tunnels.map((t) => t.iface)).toEqual(['tun0']);
    expect(detectedModel(null, 'on')).toBeNull();
  });
});

describe('parseUiMessage: zero-configuration requests', () => {
  it('accepts tunnelAdopt with a valid interface name, and setMode with blockAll true', () => {
    expect(parseUiMessage({ kind: 'daemon', id: 1, request: { type: 'tunnelAdopt', iface: 'wg0' } })).toEqual({ kind: 'daemon', id: 1, request: { type: 'tunnelAdopt', iface: 'wg0' } });
    expect(parseUiMessage({ kind: 'daemon', id: 2, request: { type: 'setMode', mode: 'on', blockAll: true } })).toEqual({ kind: 'daemon', id: 2, request: { type: 'setMode', mode: 'on', blockAll: true } });
  });
  it.each([
    { type: 'tunnelAdopt', iface: 'wg0;reboot' },
    { type: 'tunnelAdopt', iface: 7 },
    { type: 'setMode', mode: 'off', blockAll: true },
    { type: 'setMode', mode: 'on', blockAll: 'yes' },
    { type: 'setMode', mode: 'on', blockAll: false },
  ])('refuses %j', (request) => {
    expect(parseUiMessage({ kind: 'daemon', id: 3, request })).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { toRequest, UsageError } from '../../host/src/cli/commands.js';
import { ValueError } from '../../host/src/net/values.js';
import { Request } from '../../host/src/protocol/schema.js';

const words = (s: string) => s.split(' ').filter(Boolean);

describe('tunlock command words → requests', () => {
  it.each([
    ['status', { type: 'status' }],
    ['lock on', { type: 'setMode', mode: 'on' }],
    ['lock always', { type: 'setMode', mode: 'always' }],
    ['lan block', { type: 'setLan', allow: false }],
    ['tunnel add wg0 --endpoint 198.51.100.10:51820/udp --endpoint [2001:db8::1]:443/tcp', { type: 'tunnelAdd', iface: 'wg0', endpoints: ['198.51.100.10:51820/udp', '[2001:db8::1]:443/tcp'] }],
    ['tunnel add tun0 --endpoint 198.51.100.20:1194/udp --endpoint-user openvpn', { type: 'tunnelAdd', iface: 'tun0', endpoints: ['198.51.100.20:1194/udp'], endpointUser: 'openvpn' }],
    ['tunnel down wg0 --intentional', { type: 'tunnelDown', iface: 'wg0', intentional: true }],
    ['tunnel down wg0', { type: 'tunnelDown', iface: 'wg0', intentional: false }],
    ['captive open', { type: 'captiveOpen', seconds: 120 }],
    ['captive open --seconds 600', { type: 'captiveOpen', seconds: 600 }],
    ['bind user debian-transmission', { type: 'bindAdd', target: { kind: 'user', name: 'debian-transmission' } }],
    ['unbind group media', { type: 'bindRemove', target: { kind: 'group', name: 'media' } }],
    ['reset --yes', { type: 'reset', confirm: true }],
  ])('%s', (cmd, expected) => {
    const req = toRequest(words(cmd));
    expect(req).toEqual(expected);
    // and the daemon accepts exactly what the CLI sends
    expect(Request.safeParse({ ...req, id: 1 }).success).toBe(true);
  });

  it.each([
    ['', UsageError],
    ['lock maybe', UsageError],
    ['lan', UsageError],
    ['tunnel add wg0 --endpoint 1.2.3.4', ValueError],
    ['tunnel add wg0;reboot --endpoint 198.51.100.10:51820/udp', ValueError],
    ['tunnel add wg0 198.51.100.10:51820', UsageError],
    ['tunnel down wg0 --now', UsageError],
    ['tunnel add tun0 --endpoint-user bad;name', UsageError],
    ['tunnel add tun0 --endpoint-user a --endpoint-user b', UsageError],
    ['captive open --seconds 601', UsageError],
    ['captive open --seconds 5', UsageError],
    ['captive open --seconds 1e2', UsageError],
    ['bind user bad;name', UsageError],
    ['bind everyone x', UsageError],
    ['frobnicate', UsageError],
  ])('%j is refused before anything is sent', (cmd, error) => {
    expect(() => toRequest(words(cmd))).toThrow(error);
  });
});

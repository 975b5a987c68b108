// Tunnel detection from fixtures: which links count, and the servers read from WireGuard or from the tun
// process's connected sockets (/proc/net tables parsed, never trusted).
import { describe, expect, it } from 'vitest';
import { connectedRemotes, detectTunnels, hexAddress, tunIff } from '../../host/src/daemon/detect-tunnels';
import type { DetectSources } from '../../host/src/daemon/detect-tunnels';
import type { LinkKind } from '../../host/src/daemon/link-kind';
import { parseEndpoint } from '../../host/src/net/values';

const link = (iface: string, kind: string, tunnel: boolean): LinkKind => ({ iface, kind, tunnel });

function sources(over: Partial<DetectSources> = {}): DetectSources {
  return {
    links: async () => [link('lo', 'loopback', false), link('eth0', 'veth', false), link('wg0', 'wireguard', true), link('tun0', 'tun', true), link('tun9', 'tun', true)],
    isUp: (i) => i !== 'tun9',
    wireguard: async (i) => (i === 'wg0' ? [parseEndpoint('198.51.100.10:51820/udp')] : []),
    tunSockets: (i) => (i === 'tun0' ? [parseEndpoint('203.0.113.7:1194/udp'), parseEndpoint('203.0.113.7:1194/udp')] : []),
    ...over,
  };
}

describe('detectTunnels', () => {
  it('lists tunnels that are up and not configured, with their servers (deduplicated)', async () => {
    expect(await detectTunnels([], sources())).toEqual([
      { iface: 'wg0', kind: 'wireguard', endpoints: ['198.51.100.10:51820/udp'] },
      { iface: 'tun0', kind: 'tun', endpoints: ['203.0.113.7:1194/udp'] },
    ]);
    expect((await detectTunnels(['wg0'], sources())).map((d) => d.iface)).toEqual(['tun0']);
  });
  it('never lists a physical or virtual network card, whatever its name', async () => {
    const r = await detectTunnels([], sources({ links: async () => [link('wg1', 'veth', false), link('tun1', 'bridge', false)] }));
    expect(r).toEqual([]);
  });
  it('no `ip`: nothing detected', async () => {
    expect(await detectTunnels([], sources({ links: async () => null }))).toEqual([]);
  });
});

describe('/proc parsing', () => {
  it('tunIff reads the interface of a tun fd', () => {
    expect(tunIff('pos:\t0\nflags:\t02\nmnt_id:\t25\nino:\t1053\niff:\ttun0\n')).toBe('tun0');
    expect(tunIff('pos:\t0\nflags:\t02\n')).toBeNull();
  });
  it('hexAddress decodes IPv4, IPv6 and v4-mapped addresses', () => {
    expect(hexAddress('0701A8C0')).toBe('192.168.1.7');
    expect(hexAddress('B80D0120000000000000000001000000')).toBe('2001:db8::1');
    expect(hexAddress('0000000000000000FFFF00000771CBCB')).toBe('203.203.113.7');
    expect(hexAddress('zz')).toBeNull();
  });
  it('connectedRemotes takes connected UDP and established TCP of the given inodes only', () => {
    const udp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   1: 0100000A:A1B2 0771CBCB:04AA 01 00000000:00000000 00:00000000 00000000     0        0 111 2 0',
      '   2: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 222 2 0',
      '   3: 0100000A:A1B3 0771CBCB:04AA 01 00000000:00000000 00:00000000 00000000     0        0 333 2 0',
    ].join('\n');
    expect(connectedRemotes(udp, 'udp', new Set(['111', '222'])).map((e) => `${e.address.text}:${e.port}/${e.protocol}`)).toEqual(['203.203.113.7:1194/udp']);
    const tcp = [
      '  sl  local_address rem_address   st',
      '   0: 0100000A:C000 0771CBCB:01BB 01 00000000:00000000 00:00000000 00000000     0        0 444 1 0',
      '   1: 0100000A:C001 0771CBCB:01BB 06 00000000:00000000 00:00000000 00000000     0        0 555 1 0',
    ].join('\n');
    expect(connectedRemotes(tcp, 'tcp', new Set(['444', '555'])).map((e) => e.port)).toEqual([443]);
  });
});

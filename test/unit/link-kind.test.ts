import { describe, expect, it } from 'vitest';
import { classifyLink, classifyLinks } from '../../host/src/daemon/link-kind.js';

describe('link kind: only kernel-reported tunnels are tunnels', () => {
  it('accepts WireGuard, tun (wireguard-go, OpenVPN), ppp and ip tunnels', () => {
    expect(classifyLink({ ifname: 'wg0', link_type: 'none', linkinfo: { info_kind: 'wireguard' } }).tunnel).toBe(true);
    expect(classifyLink({ ifname: 'tun0', link_type: 'none', linkinfo: { info_kind: 'tun', info_data: { type: 'tun' } } }).tunnel).toBe(true);
    expect(classifyLink({ ifname: 'ppp0', link_type: 'ppp' }).tunnel).toBe(true);
    expect(classifyLink({ ifname: 'ip6tnl1', link_type: 'tunnel6', linkinfo: { info_kind: 'ip6tnl' } }).tunnel).toBe(true);
    expect(classifyLink({ ifname: 'xfrm0', link_type: 'none', linkinfo: { info_kind: 'xfrm' } }).tunnel).toBe(true);
  });

  it('refuses physical and virtual network cards with a reason', () => {
    const eth = classifyLink({ ifname: 'eth0', link_type: 'ether' });
    expect(eth.tunnel).toBe(false);
    expect(eth.reason).toMatch(/not a VPN tunnel/);
    for (const kind of ['veth', 'bridge', 'vxlan', 'macvlan', 'vlan', 'bond']) {
      expect(classifyLink({ ifname: 'x0', link_type: 'ether', linkinfo: { info_kind: kind } }).tunnel).toBe(false);
    }
    expect(classifyLink({ ifname: 'lo', link_type: 'loopback' }).tunnel).toBe(false);
    expect(classifyLink({ ifname: 'vnet0', link_type: 'ether', master: 'virbr0', linkinfo: { info_kind: 'tun' } }).tunnel).toBe(false);
  });

  it('reads a listing and skips names that cannot be interface names', () => {
    const links = classifyLinks(JSON.stringify([{ ifname: 'wg0', link_type: 'none', linkinfo: { info_kind: 'wireguard' } }, { ifname: 'bad name!' }]));
    expect(links.map((l) => l.iface)).toEqual(['wg0']);
  });
});

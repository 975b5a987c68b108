import { describe, expect, it } from 'vitest';
import { classifyLink, classifyLinks, trustProblem } from '../../host/src/daemon/link-kind.js';

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

  it('trustProblem: a configured name is refused only when it exists as something other than a tunnel', () => {
    const kinds = classifyLinks(
      JSON.stringify([
        { ifname: 'wg0', link_type: 'none', linkinfo: { info_kind: 'wireguard' } },
        { ifname: 'eth0', link_type: 'ether' },
        { ifname: 'vpn1', link_type: 'ether', linkinfo: { info_kind: 'veth' } },
      ]),
    );
    expect(trustProblem('wg0', kinds, true)).toBeNull();
    expect(trustProblem('wg9', kinds, false)).toBeNull();
    expect(trustProblem('eth0', kinds, true)).toMatch(/^eth0 is not a VPN tunnel: .*ether/);
    expect(trustProblem('vpn1', kinds, true)).toMatch(/^vpn1 is not a VPN tunnel: .*veth/);
    // the kinds could not be read: an existing link is not trusted (fail closed); a missing one carries nothing
    expect(trustProblem('wg0', null, true)).toMatch(/cannot tell/);
    expect(trustProblem('wg0', null, false)).toBeNull();
  });

  it('reads a listing and skips names that cannot be interface names', () => {
    const links = classifyLinks(JSON.stringify([{ ifname: 'wg0', link_type: 'none', linkinfo: { info_kind: 'wireguard' } }, { ifname: 'bad name!' }]));
    expect(links.map((l) => l.iface)).toEqual(['wg0']);
  });
});

import { describe, expect, it } from 'vitest';
import { covers, intersect, withoutCovered } from '../../host/src/net/cidr.js';
import { lanRangesFor } from '../../host/src/firewall/policy.js';
import { parseCidr } from '../../host/src/net/values.js';
import { onLinkSubnets } from '../../host/src/daemon/network-info.js';

const c = parseCidr;
const texts = (l: { text: string }[]) => l.map((x) => x.text);

describe('CIDR arithmetic', () => {
  it('containment and intersection of nesting or disjoint prefixes', () => {
    expect(covers(c('10.0.0.0/8'), c('10.1.2.0/24'))).toBe(true);
    expect(covers(c('10.1.2.0/24'), c('10.0.0.0/8'))).toBe(false);
    expect(covers(c('fc00::/7'), c('fd12:3456::/48'))).toBe(true);
    expect(covers(c('10.0.0.0/8'), c('fc00::/7'))).toBe(false);
    expect(intersect(c('10.1.2.0/24'), c('10.0.0.0/8'))?.text).toBe('10.1.2.0/24');
    expect(intersect(c('10.0.0.0/8'), c('192.168.0.0/16'))).toBeNull();
  });
  it('withoutCovered drops duplicates and ranges inside others', () => {
    expect(texts(withoutCovered(['10.1.0.0/16', '10.0.0.0/8', '10.1.2.0/24', '192.168.1.0/24', '10.0.0.0/8', 'fe80::/10', 'fe80::1/128'].map(c)))).toEqual([
      '10.0.0.0/8',
      '192.168.1.0/24',
      'fe80::/10',
    ]);
  });
  it('stays fast with thousands of ranges (one sort, one sweep)', () => {
    const many = Array.from({ length: 5000 }, (_, i) => c(`10.${i >> 8}.${i & 255}.0/24`));
    expect(withoutCovered([...many, c('10.0.0.0/8')])).toHaveLength(1);
  });
});

describe('LAN = private ∩ directly connected, plus link scope and explicit ranges', () => {
  it('a rogue network routing all of 10/8 gets only the subnet actually on the link', () => {
    const lan = texts(lanRangesFor([c('192.168.77.0/24')], []));
    expect(lan).toContain('192.168.77.0/24');
    expect(lan).not.toContain('10.0.0.0/8');
    expect(lan).not.toContain('192.168.0.0/16');
    expect(lan).toEqual(expect.arrayContaining(['169.254.0.0/16', '224.0.0.0/24', '255.255.255.255/32', 'fe80::/10', 'ff02::/16']));
  });
  it('a public subnet on the link is not LAN (TunnelCrack LocalNet); an explicit range is', () => {
    const lan = texts(lanRangesFor([c('203.0.113.0/24')], [c('198.51.100.0/24')]));
    expect(lan).not.toContain('203.0.113.0/24');
    expect(lan).toContain('198.51.100.0/24');
  });
  it('an on-link subnet larger than a private range yields the private range only', () => {
    expect(texts(lanRangesFor([c('172.0.0.0/8')], []))).toContain('172.16.0.0/12');
  });
});

describe('onLinkSubnets (ip -j addr show)', () => {
  it('the subnets of non-tunnel, non-loopback interfaces', () => {
    const json = JSON.stringify([
      { ifname: 'lo', link_type: 'loopback', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
      { ifname: 'eth0', link_type: 'ether', addr_info: [{ family: 'inet', local: '192.168.77.10', prefixlen: 24, scope: 'global' }, { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' }] },
      { ifname: 'wg0', link_type: 'none', addr_info: [{ family: 'inet', local: '10.64.0.2', prefixlen: 32, scope: 'global' }] },
      { ifname: 'bad', addr_info: [{ family: 'inet', local: 'x" accept', prefixlen: 24 }] },
    ]);
    expect(texts(onLinkSubnets(json, new Set(['wg0'])))).toEqual(['192.168.77.0/24', 'fe80::/64']);
  });
});

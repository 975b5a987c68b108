// Parsers of other programs' output that the daemon relies on: each must take only what it understands.
import { describe, expect, it } from 'vitest';
import { parseWgEndpoints, parseWgFwmark } from '../../host/src/daemon/wireguard.js';
import { sameElements, sameShape } from '../../host/src/firewall/nft-verify.js';
import { observeJson } from '../../host/src/firewall/nft-backend.js';
import { normalizeElement } from '../../host/src/firewall/nft-rules.js';
import { formatEndpoint } from '../../host/src/net/values.js';

describe('parseWgEndpoints', () => {
  it('learns v4 and v6 endpoints as UDP and ignores peers without one or lines it cannot parse', () => {
    const out = 'AAA=\t198.51.100.10:51820\nBBB=\t[2001:db8::10]:51820\nCCC=\t(none)\nDDD=\tevil"; flush ruleset:1\n\n';
    expect(parseWgEndpoints(out).map(formatEndpoint)).toEqual(['198.51.100.10:51820/udp', '[2001:db8::10]:51820/udp']);
  });
});

describe('parseWgFwmark', () => {
  it('reads the mark WireGuard puts on its own packets, and nothing else', () => {
    expect(parseWgFwmark('0xca6c\n')).toBe(0xca6c);
    expect(parseWgFwmark('51820\n')).toBe(51820);
    for (const bad of ['off\n', '', '0x0', '0x1ffffffff', '12 ; flush', '-1']) expect(parseWgFwmark(bad)).toBeNull();
  });
});

describe('observeJson elements (tamper check)', () => {
  const listing = (elem: unknown[]) =>
    JSON.stringify({
      nftables: [
        { table: { family: 'inet', name: 'tunlock', handle: 3 } },
        { set: { family: 'inet', table: 'tunlock', name: 'lan4', handle: 5, type: 'ipv4_addr', flags: ['interval'], elem } },
      ],
    });
  it('normalizes elements to the form the rule text reduces to', () => {
    const o = observeJson(listing([{ prefix: { addr: '10.0.0.0', len: 8 } }, '239.255.255.250', { elem: { val: { concat: ['eth0', 1000] }, timeout: 120, expires: 99 } }]));
    expect(o.elements?.['lan4']).toEqual(['10.0.0.0/8', '239.255.255.250', 'eth0 . 1000']);
    expect(['10.0.0.0/8', '239.255.255.250/32', '"eth0" . 1000 timeout 120s', '2001:db8::/32', 'fe80::1/128'].map(normalizeElement)).toEqual(['10.0.0.0/8', '239.255.255.250', 'eth0 . 1000', '2001:db8::/32', 'fe80::1']);
  });
  it('an element replaced by another (same count) is not the policy\'s', () => {
    const o = observeJson(listing([{ prefix: { addr: '10.0.0.0', len: 8 } }]));
    expect(sameElements({ lan4: ['192.168.0.0/16'] }, o.elements)).toBe(false);
    expect(sameElements({ lan4: ['10.0.0.0/8'] }, o.elements)).toBe(true);
  });
});

describe('observeJson / sameShape (read-back verification)', () => {
  const json = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      { table: { family: 'inet', name: 'tunlock' } },
      { counter: { family: 'inet', table: 'tunlock', name: 'blocked_out', packets: 7 } },
      { set: { family: 'inet', table: 'tunlock', name: 'tunnels', elem: ['wg0'] } },
      { chain: { family: 'inet', table: 'tunlock', name: 'output', policy: 'drop' } },
      { rule: { family: 'inet', table: 'tunlock', chain: 'output' } },
      { rule: { family: 'inet', table: 'tunlock', chain: 'output' } },
      { rule: { family: 'inet', table: 'other', chain: 'output' } },
    ],
  });
  it('counts rules per chain, set elements and counters of our table only', () => {
    const o = observeJson(json);
    expect(o.shape).toEqual({ chains: { output: { policy: 'drop', rules: 2 } }, sets: { tunnels: 1 }, counters: ['blocked_out'] });
    expect(o.counters).toEqual({ blocked_out: 7 });
  });
  it('a changed policy, an extra rule, a missing set or a missing table is a different shape', () => {
    const want = observeJson(json).shape;
    expect(sameShape(want, structuredClone(want))).toBe(true);
    expect(sameShape(want, { ...want, chains: { output: { policy: 'accept', rules: 2 } } })).toBe(false);
    expect(sameShape(want, { ...want, chains: { output: { policy: 'drop', rules: 3 } } })).toBe(false);
    expect(sameShape(want, { ...want, sets: {} })).toBe(false);
    expect(sameShape(want, null)).toBe(false);
    expect(sameShape(null, null)).toBe(true);
  });
  it('captive-hole sets may hold fewer elements than written (the kernel expires them), never more', () => {
    const want = { chains: {}, sets: { captive_web: 1 }, counters: [] };
    expect(sameShape(want, { ...want, sets: { captive_web: 0 } })).toBe(true);
    expect(sameShape(want, { ...want, sets: { captive_web: 2 } })).toBe(false);
  });
});

// Golden tests of the rule generator: the exact text each policy becomes. To accept a deliberate change,
// run with UPDATE_GOLDEN=1 (it rewrites the changed files and fails), review the diff of test/unit/golden/, rerun.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedShape, renderApplyBatch, renderTable } from '../../host/src/firewall/nft-rules.js';
import type { LockedPolicy, Policy } from '../../host/src/firewall/policy.js';
import { DEFAULT_LAN_RANGES, lanRangesFor, rootEndpoint } from '../../host/src/firewall/policy.js';
import { parseAddress, parseCidr, parseEndpoint } from '../../host/src/net/values.js';

const NOW = 1_700_000_000_000;
const lan = [...DEFAULT_LAN_RANGES];
// On-link: a private LAN, a public subnet the ISP put on the link, an IPv6 LAN; the user added one range.
const onLink = ['192.168.77.0/24', '203.0.113.0/24', '2001:db8:77::/64'].map(parseCidr);
const lockedLan = lanRangesFor(onLink, [parseCidr('100.64.5.0/24')]);
const base: Policy = { kind: 'open', bindings: [], tunnels: ['wg0'], allowLan: true, lanRanges: lan };
const locked = (over: Partial<Omit<LockedPolicy, 'kind'>> = {}): LockedPolicy => ({
  kind: 'locked',
  bindings: [],
  tunnels: ['wg0'],
  endpoints: [
    rootEndpoint(parseEndpoint('198.51.100.10:51820/udp')),
    { endpoint: parseEndpoint('[2001:db8::10]:443/tcp'), owner: { kind: 'uid', uid: 998 } },
    { endpoint: parseEndpoint('198.51.100.20:51820/udp'), owner: { kind: 'mark', mark: 0xca6c } },
  ],
  allowLan: true,
  lanRanges: lockedLan,
  onLink,
  captive: null,
  ...over,
});

const cases: Record<string, Policy> = {
  'unlocked-empty': base,
  'locked-lan-allow': locked(),
  'locked-lan-block': locked({ allowLan: false }),
  'locked-two-tunnels': locked({ tunnels: ['wg0', 'tun0'] }),
  'locked-captive': locked({
    captive: { iface: 'eth0', uid: 1000, resolvers: [parseAddress('192.168.77.1'), parseAddress('fe80::1')], expiresAt: NOW + 119_500 },
  }),
  'unlocked-bindings': { ...base, bindings: [{ kind: 'user', uid: 109 }, { kind: 'group', gid: 1500 }, { kind: 'cgroup', path: 'tunlock/run-42' }] },
  'locked-bindings': { ...locked(), bindings: [{ kind: 'user', uid: 109 }] },
};

describe('renderApplyBatch (golden)', () => {
  for (const [name, policy] of Object.entries(cases)) {
    it(name, () => {
      const file = join(__dirname, 'golden', `${name}.nft`);
      const text = renderApplyBatch(policy, NOW);
      if (process.env.UPDATE_GOLDEN) {
        // Rewrite, then fail: a regenerated golden file is reviewed in the diff, never silently accepted.
        const changed = !existsSync(file) || readFileSync(file, 'utf8') !== text;
        writeFileSync(file, text);
        expect(changed, `${name}.nft rewritten (UPDATE_GOLDEN): review the diff, then run the tests without it`).toBe(false);
      }
      expect(text).toBe(readFileSync(file, 'utf8'));
    });
  }
});

describe('rule generator invariants', () => {
  it('an empty policy removes the table and adds nothing', () => {
    expect(renderApplyBatch(base, NOW)).toBe('table inet tunlock { }\ndelete table inet tunlock\n');
    expect(expectedShape(base, NOW)).toBeNull();
  });
  it('only ever names table inet tunlock', () => {
    for (const policy of Object.values(cases)) {
      const tables = [...renderApplyBatch(policy, NOW).matchAll(/table (\S+ \S+)/g)].map((m) => m[1]);
      expect(new Set(tables)).toEqual(new Set(['inet tunlock']));
    }
  });
  it('DNS to the LAN is rejected before the LAN is accepted', () => {
    const text = renderTable(locked(), NOW);
    const output = text.slice(text.indexOf('chain output'), text.indexOf('chain input'));
    expect(output.indexOf('th dport { 53, 853 }')).toBeGreaterThan(0);
    expect(output.indexOf('th dport { 53, 853 }')).toBeLessThan(output.indexOf('ip daddr @lan4 accept'));
    // ...but after the tunnel, so DNS through the tunnel (often to a 10.x resolver) works.
    expect(output.indexOf('oifname "wg0" accept')).toBeGreaterThan(0);
    expect(output.indexOf('oifname "wg0" accept')).toBeLessThan(output.indexOf('th dport { 53, 853 }'));
  });
  it('the first rule of every chain a tunnel packet leaves by names each tunnel (no set lookup on the hot path)', () => {
    const text = renderTable({ ...locked({ tunnels: ['wg0', 'tun0'] }), bindings: [{ kind: 'user', uid: 109 }] }, NOW);
    for (const chain of ['output', 'forward', 'postrouting', 'bind_0']) {
      const body = text.slice(text.indexOf(`chain ${chain} {`)).split('\n').slice(1);
      const rules = body.filter((l) => !l.includes(' hook '));
      expect(rules.slice(0, 2).map((l) => l.trim()), chain).toEqual(['oifname "tun0" accept', 'oifname "wg0" accept']);
    }
    // The set still names them for the rarer rules (replies from a tunnel, new connections in through one).
    expect(text).toContain('set tunnels { type ifname; elements = { "tun0", "wg0" }; }');
  });
  it('every endpoint exception also matches who sends (fwmark or socket owner): TunnelCrack ServerIP', () => {
    for (const policy of Object.values(cases)) {
      const endpointRules = renderTable(policy, NOW)
        .split('\n')
        .filter((l) => l.includes('@endpoints'));
      for (const rule of endpointRules) {
        // the fwmark inside the element, or the owner matched before the lookup in that owner's own set
        const owned = /^meta skuid (\d+) (ip6?) daddr \. meta l4proto \. th dport @endpoints([46])_u(\d+) accept$/.exec(rule.trim());
        if (owned) expect([owned[2], owned[4]]).toEqual([owned[3] === '4' ? 'ip' : 'ip6', owned[1]]);
        else expect(rule).toMatch(/ \. meta mark @endpoints[46]_mark accept$/);
      }
      // four in output (two marks, root's v4, uid 998's v6), the same four again in postrouting
      if (policy.kind === 'locked') expect(endpointRules).toHaveLength(8);
    }
  });
  it('uid-owned endpoints: one set per family and owner, no uid inside the elements, names from the number', () => {
    const p = locked({
      endpoints: [
        ...locked().endpoints,
        { endpoint: parseEndpoint('198.51.100.30:1194/udp'), owner: { kind: 'uid', uid: 4_294_967_294 } },
        { endpoint: parseEndpoint('198.51.100.31:1194/udp'), owner: { kind: 'uid', uid: 65534 } },
        rootEndpoint(parseEndpoint('[2001:db8::11]:51820/udp')),
      ],
    });
    const text = renderTable(p, NOW);
    const sets = [...text.matchAll(/^\tset (endpoints\S+) \{ ([^;]+);/gm)].map((m) => [m[1], m[2]]);
    // Deterministic: marks, then by family, then by uid as a number (65534 before 4294967294).
    expect(sets).toEqual([
      ['endpoints4_mark', 'type ipv4_addr . inet_proto . inet_service . mark'],
      ['endpoints6_mark', 'type ipv6_addr . inet_proto . inet_service . mark'],
      ['endpoints4_u0', 'type ipv4_addr . inet_proto . inet_service'],
      ['endpoints4_u65534', 'type ipv4_addr . inet_proto . inet_service'],
      ['endpoints4_u4294967294', 'type ipv4_addr . inet_proto . inet_service'],
      ['endpoints6_u0', 'type ipv6_addr . inet_proto . inet_service'],
      ['endpoints6_u998', 'type ipv6_addr . inet_proto . inet_service'],
    ]);
    expect(text).toContain('set endpoints4_u65534 { type ipv4_addr . inet_proto . inet_service; elements = { 198.51.100.31 . udp . 1194 }; }');
    expect(text).toContain('meta skuid 4294967294 ip daddr . meta l4proto . th dport @endpoints4_u4294967294 accept');
    expect(text).not.toMatch(/\. uid\b/);
  });
  it('refuses an endpoint owner uid that is not a 32-bit unsigned integer', () => {
    for (const uid of [-1, 1.5, 2 ** 32, Number.NaN]) {
      const p = locked({ endpoints: [{ endpoint: parseEndpoint('198.51.100.10:51820/udp'), owner: { kind: 'uid', uid } }] });
      expect(() => renderTable(p, NOW)).toThrow(/invalid endpoint owner uid/);
    }
  });
  it('LAN block leaves no LAN accept anywhere', () => {
    expect(renderTable(locked({ allowLan: false }), NOW)).not.toMatch(/@lan[46] accept/);
  });
  it('locked chains drop by policy and end in reject/drop', () => {
    const shape = expectedShape(locked(), NOW)!;
    expect(shape.chains['output']?.policy).toBe('drop');
    expect(shape.chains['input']?.policy).toBe('drop');
    expect(shape.chains['forward']?.policy).toBe('drop');
  });
  it('an expired captive hole renders no elements', () => {
    const p = locked({ captive: { iface: 'eth0', uid: 1000, resolvers: [], expiresAt: NOW - 1 } });
    expect(renderTable(p, NOW)).not.toContain('timeout 0s');
    expect(expectedShape(p, NOW)!.sets['captive_web']).toBe(0);
  });
  it('refuses an interface name that is not canonical, even from an internal caller', () => {
    expect(() => renderTable(locked({ tunnels: ['wg0" accept #'] }), NOW)).toThrow(/invalid interface name/);
  });
  it('refuses a cgroup path outside tunlock/', () => {
    expect(() => renderTable({ ...base, bindings: [{ kind: 'cgroup', path: '../x" accept' }] }, NOW)).toThrow(/cgroup/);
  });
  it('10,000 endpoints and 1,000 LAN ranges render into sets, not rules', () => {
    const endpoints = Array.from({ length: 10_000 }, (_, i) => parseEndpoint(`198.51.${100 + (i >> 8) % 2}.${i & 255}:${1000 + i}/udp`));
    const ranges = Array.from({ length: 1000 }, (_, i) => parseCidr(`10.${i >> 8}.${i & 255}.0/24`));
    const small = expectedShape(locked(), NOW)!;
    const big = expectedShape(locked({ endpoints: [...locked().endpoints, ...endpoints.map(rootEndpoint)], lanRanges: ranges }), NOW)!;
    expect(big.chains).toEqual(small.chains);
    expect(big.sets['endpoints4_u0']).toBe(10_001);
  });
});

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
    expect(output.indexOf('oifname @tunnels accept')).toBeLessThan(output.indexOf('th dport { 53, 853 }'));
  });
  it('every endpoint exception also matches who sends (fwmark or socket owner): TunnelCrack ServerIP', () => {
    for (const policy of Object.values(cases)) {
      const endpointRules = renderTable(policy, NOW)
        .split('\n')
        .filter((l) => l.includes('@endpoints'));
      for (const rule of endpointRules) expect(rule).toMatch(/ \. meta (skuid|mark) @endpoints[46](_mark)? accept$/);
      // four in output, the same four again in postrouting
      if (policy.kind === 'locked') expect(endpointRules).toHaveLength(8);
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
    const big = expectedShape(locked({ endpoints: endpoints.map(rootEndpoint), lanRanges: ranges }), NOW)!;
    expect(big.chains).toEqual(small.chains);
    expect(big.sets['endpoints4']).toBe(10_000);
  });
});

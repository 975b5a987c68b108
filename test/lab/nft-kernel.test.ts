// The generator's golden policies, loaded into a real kernel (a throwaway network namespace): nft accepts
// each one, and the read-back matches the shape the backend verifies after every apply.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observeJson } from '../../host/src/firewall/nft-backend.js';
import { observeText } from '../../host/src/firewall/nft-text.js';
import { expectedElements, expectedShape, renderApplyBatch } from '../../host/src/firewall/nft-rules.js';
import { DEFAULT_LAN_RANGES, rootEndpoint } from '../../host/src/firewall/policy.js';
import type { LockedPolicy, Policy } from '../../host/src/firewall/policy.js';
import { sameElements, sameShape } from '../../host/src/firewall/nft-verify.js';
import { parseAddress, parseCidr, parseEndpoint } from '../../host/src/net/values.js';
import { NetnsFixture } from '../../host/src/process/netns-fixture.js';
import { requireRootOrSkip } from '../helpers/root.js';

const run = requireRootOrSkip('lab: nft-kernel');
let fx: NetnsFixture | undefined;
let ns = '';
const nft = (args: string[], input?: string) =>
  execFileSync('ip', ['netns', 'exec', ns, 'nft', ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });

const lan = [...DEFAULT_LAN_RANGES];
const lock = (over: Partial<Omit<LockedPolicy, 'kind'>> = {}): LockedPolicy => ({
  kind: 'locked',
  endpoints: [rootEndpoint(parseEndpoint('198.51.100.10:51820/udp'))],
  onLink: [parseCidr('192.168.77.0/24'), parseCidr('2001:db8:77::/64')],
  captive: null,
  bindings: [],
  tunnels: ['wg0'],
  allowLan: true,
  lanRanges: lan,
  ...over,
});
const open = (bindings: Policy['bindings'] = []): Policy => ({ kind: 'open', bindings, tunnels: ['wg0'], allowLan: true, lanRanges: lan });

describe.skipIf(!run)('generated rules in a real kernel', () => {
  beforeAll(() => {
    fx = NetnsFixture.create({ namespaces: ['nft'], tag: 'nft-kernel' });
    ns = fx.ns('nft');
  });
  afterAll(() => {
    fx?.destroySync();
  });

  const now = Date.now();
  const policies: Record<string, Policy> = {
    'lan allow': lock(),
    'lan block': lock({ allowLan: false }),
    captive: lock({ captive: { iface: 'eth0', uid: 1000, resolvers: [parseAddress('192.168.77.1'), parseAddress('2001:db8::53')], expiresAt: now + 60_000 } }),
    'bindings only': open([{ kind: 'user', uid: 65534 }, { kind: 'group', gid: 65534 }]),
    'locked + bindings': { ...lock(), bindings: [{ kind: 'user', uid: 65534 }] },
    'endpoint owners (fwmark, root, another account; both families)': lock({
      endpoints: [
        ...lock().endpoints,
        rootEndpoint(parseEndpoint('[2001:db8::10]:51820/udp')),
        { endpoint: parseEndpoint('198.51.100.11:1194/udp'), owner: { kind: 'uid', uid: 65534 } },
        { endpoint: parseEndpoint('[2001:db8::11]:443/tcp'), owner: { kind: 'uid', uid: 4_294_967_294 } },
        { endpoint: parseEndpoint('198.51.100.12:51820/udp'), owner: { kind: 'mark', mark: 0xca6c } },
      ],
    }),
    '10k endpoints, 1k LAN ranges': lock({
      endpoints: Array.from({ length: 10_000 }, (_, i) => rootEndpoint(parseEndpoint(`198.51.${100 + ((i >> 8) % 2)}.${i & 255}:${1000 + i}/udp`))),
      lanRanges: Array.from({ length: 1000 }, (_, i) => parseCidr(`10.${i >> 8}.${i & 255}.0/24`)),
    }),
  };

  for (const [name, policy] of Object.entries(policies)) {
    it(`${name}: loads atomically and reads back as verified`, () => {
      nft(['-f', '-'], renderApplyBatch(policy, now));
      const observed = observeJson(nft(['-j', 'list', 'table', 'inet', 'tunlock']));
      expect(observed.shape).toEqual(expectedShape(policy, now));
      expect(sameShape(expectedShape(policy, now), observed.shape)).toBe(true);
      // The kernel's elements, normalized, are exactly the ones we wrote (this is what the tamper check compares).
      expect(sameElements(expectedElements(policy, now) ?? {}, observed.elements)).toBe(true);
    });
  }

  it('an accept swapped in for the last reject keeps every count but changes the contents', () => {
    const policy = lock();
    nft(['-f', '-'], renderApplyBatch(policy, now));
    const applied = observeText(nft(['-t', 'list', 'ruleset']), 'tunlock');
    const rules = JSON.parse(nft(['-j', 'list', 'chain', 'inet', 'tunlock', 'output'])) as { nftables: { rule?: { handle: number } }[] };
    const last = rules.nftables.filter((i) => i.rule).pop()!.rule!.handle;
    nft(['replace', 'rule', 'inet', 'tunlock', 'output', 'handle', String(last), 'accept']);
    const observed = observeText(nft(['-t', 'list', 'ruleset']), 'tunlock');
    expect(observed.shape).toEqual(applied.shape);
    expect(observed.content).not.toBe(applied.content);
  });

  it('an endpoint element replaced by another (same count) no longer matches the policy', () => {
    // Someone swaps the VPN server in root's endpoint set for an address of their own: every count stays.
    const policy = lock();
    nft(['-f', '-'], renderApplyBatch(policy, now));
    nft(['delete', 'element', 'inet', 'tunlock', 'endpoints4_u0', '{ 198.51.100.10 . udp . 51820 }']);
    nft(['add', 'element', 'inet', 'tunlock', 'endpoints4_u0', '{ 203.0.113.66 . udp . 51820 }']);
    const observed = observeJson(nft(['-j', 'list', 'table', 'inet', 'tunlock']));
    expect(sameShape(expectedShape(policy, now), observed.shape)).toBe(true);
    expect(sameElements(expectedElements(policy, now) ?? {}, observed.elements)).toBe(false);
  });

  it('an endpoint moved from one owner to another (same counts) no longer matches the policy', () => {
    const policy = lock({ endpoints: [...lock().endpoints, { endpoint: parseEndpoint('198.51.100.11:1194/udp'), owner: { kind: 'uid', uid: 65534 } }] });
    nft(['-f', '-'], renderApplyBatch(policy, now));
    nft(['delete', 'element', 'inet', 'tunlock', 'endpoints4_u0', '{ 198.51.100.10 . udp . 51820 }']);
    nft(['add', 'element', 'inet', 'tunlock', 'endpoints4_u0', '{ 198.51.100.11 . udp . 1194 }']);
    nft(['delete', 'element', 'inet', 'tunlock', 'endpoints4_u65534', '{ 198.51.100.11 . udp . 1194 }']);
    nft(['add', 'element', 'inet', 'tunlock', 'endpoints4_u65534', '{ 198.51.100.10 . udp . 51820 }']);
    const observed = observeJson(nft(['-j', 'list', 'table', 'inet', 'tunlock']));
    expect(sameShape(expectedShape(policy, now), observed.shape)).toBe(true);
    expect(sameElements(expectedElements(policy, now) ?? {}, observed.elements)).toBe(false);
  });

  it('an address added to an owner\'s endpoint set is detected', () => {
    const policy = lock();
    nft(['-f', '-'], renderApplyBatch(policy, now));
    nft(['add', 'element', 'inet', 'tunlock', 'endpoints4_u0', '{ 203.0.113.66 . tcp . 443 }']);
    const observed = observeJson(nft(['-j', 'list', 'table', 'inet', 'tunlock']));
    expect(sameShape(expectedShape(policy, now), observed.shape)).toBe(false);
    expect(sameElements(expectedElements(policy, now) ?? {}, observed.elements)).toBe(false);
  });

  it('a rule added by someone else is detected as a different shape', () => {
    const policy = lock();
    nft(['-f', '-'], renderApplyBatch(policy, now));
    nft(['add', 'rule', 'inet', 'tunlock', 'output', 'accept']);
    const observed = observeJson(nft(['-j', 'list', 'table', 'inet', 'tunlock']));
    expect(sameShape(expectedShape(policy, now), observed.shape)).toBe(false);
  });

  it('a batch nft refuses changes nothing (the kernel applies all or none)', () => {
    const policy = lock();
    nft(['-f', '-'], renderApplyBatch(policy, now));
    const before = nft(['list', 'table', 'inet', 'tunlock']);
    const broken = renderApplyBatch(lock({ allowLan: false }), now).replace('policy drop;', 'policy dorp;');
    expect(() => nft(['-f', '-'], broken)).toThrow();
    expect(nft(['list', 'table', 'inet', 'tunlock'])).toBe(before);
  });

  it('the empty policy removes our table and leaves other tables alone', () => {
    nft(['add', 'table', 'inet', 'othertool']);
    nft(['-f', '-'], renderApplyBatch(open(), now));
    const tables = nft(['list', 'tables']);
    expect(tables).not.toContain('tunlock');
    expect(tables).toContain('othertool');
  });
});

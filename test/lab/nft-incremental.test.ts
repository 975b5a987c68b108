// Incremental updates in a real kernel (a throwaway network namespace): NftBackend changes set elements, rules,
// regular chains and counters in place, replaces the table when its base chains or set declarations change,
// keeps the guard table holding the same contents, recovers when the kernel refuses an in-place change, and
// reports counters from the read before each apply either way.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftBackend } from '../../host/src/firewall/nft-backend.js';
import { planUpdate } from '../../host/src/firewall/nft-plan.js';
import { expectedShape, guardCarries, tableModel } from '../../host/src/firewall/nft-rules.js';
import { DEFAULT_LAN_RANGES, rootEndpoint } from '../../host/src/firewall/policy.js';
import type { LockedPolicy, Policy } from '../../host/src/firewall/policy.js';
import { parseCidr, parseEndpoint } from '../../host/src/net/values.js';
import { NetnsFixture } from '../../host/src/process/netns-fixture.js';
import { requireRootOrSkip } from '../helpers/root.js';

const run = requireRootOrSkip('lab: nft-incremental', ['nft', 'ip']);
let fx: NetnsFixture | undefined;
let ns = '';
const nft = (args: string[], input?: string) =>
  execFileSync('ip', ['netns', 'exec', ns, 'nft', ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });

const base = (): LockedPolicy => ({
  kind: 'locked',
  bindings: [],
  tunnels: ['wg0'],
  endpoints: Array.from({ length: 2000 }, (_, i) => rootEndpoint(parseEndpoint(`198.51.${100 + (i >> 8)}.${i & 255}:51820/udp`))),
  allowLan: true,
  lanRanges: [...DEFAULT_LAN_RANGES, ...Array.from({ length: 200 }, (_, i) => parseCidr(`100.64.${i}.0/24`))],
  onLink: [parseCidr('192.168.77.0/24')],
  captive: null,
});
const policy = (lock: LockedPolicy, bindings: Policy['bindings'] = []): Policy => ({ ...lock, bindings });
const plusEndpoint = (l: LockedPolicy, text: string): LockedPolicy => ({ ...l, endpoints: [...l.endpoints, rootEndpoint(parseEndpoint(text))] });
const plusRange = (l: LockedPolicy, text: string): LockedPolicy => ({ ...l, lanRanges: [...l.lanRanges, parseCidr(text)] });

const chainsOf = (p: Policy, now: number) => tableModel(p, now)?.chains ?? [];

interface Listed {
  handle: number;
  elements: Record<string, number>;
  chains: string[];
}

/**
 * What the test compares of one of our tables: its handle (a replaced table gets a new one), chains, and each
 * set's element count. Text listings, and JSON only per set: nft 1.0.6 prints an owner table's flags as JSON
 * from freed memory.
 */
function listed(table: string): Listed | null {
  let text: string;
  try {
    text = nft(['-a', '-t', 'list', 'table', 'inet', table]);
  } catch {
    return null;
  }
  const handle = Number(/^table inet \S+ \{.*# handle (\d+)/.exec(text)![1]);
  const chains = [...text.matchAll(/^\tchain (\S+) \{/gm)].map((m) => m[1]!);
  const elements: Record<string, number> = {};
  for (const [, set] of text.matchAll(/^\tset (\S+) \{/gm)) {
    const json = JSON.parse(nft(['-j', 'list', 'set', 'inet', table, set!])) as { nftables: { set?: { elem?: unknown[] } }[] };
    elements[set!] = json.nftables.find((i) => i.set)?.set?.elem?.length ?? 0;
  }
  return { handle, elements, chains };
}

describe.skipIf(!run)('NftBackend incremental updates in a real kernel', () => {
  let dir: string;
  let backend: NftBackend;
  const warnings: string[] = [];

  beforeAll(() => {
    fx = NetnsFixture.create({ namespaces: ['nft'], tag: 'nft-incr' });
    ns = fx.ns('nft');
    dir = mkdtempSync(join(tmpdir(), 'tunlock-incr-'));
    // The backend runs `nft` in the test's namespace through this wrapper, never in the machine's own.
    const wrapper = join(dir, 'nft');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} nft "$@"\n`);
    chmodSync(wrapper, 0o755);
    backend = new NftBackend({ nft: wrapper, workDir: join(dir, 'work'), warn: (m) => warnings.push(m) });
  });
  afterAll(() => {
    backend?.close();
    fx?.destroySync();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Applies, waits for the trailing guard update (the session runs it before the next read), checks both tables. */
  async function applyAndCheck(p: Policy, opts?: { replace?: boolean }): Promise<{ main: Listed; guard: Listed }> {
    const now = Date.now();
    await backend.apply(p, now, opts);
    await backend.read();
    const main = listed('tunlock')!;
    const guard = listed('tunlock_guard')!;
    expect(main.elements).toEqual(expectedShape(p, now)!.sets);
    // The guard holds the same sets and elements, and the chains where a packet leaves (guardCarries).
    expect(guard.elements).toEqual(main.elements);
    expect(guard.chains).toEqual(main.chains.filter((c) => guardCarries(chainsOf(p, now)).has(c)));
    expect(guard.chains).toContain(p.kind === 'locked' ? 'postrouting' : 'output');
    return { main, guard };
  }

  it('adds and removes endpoints and LAN ranges in place (same table), main and guard alike', async () => {
    const first = await applyAndCheck(policy(base()));
    const added = await applyAndCheck(policy(plusRange(plusEndpoint(base(), '203.0.113.7:1194/udp'), '100.65.0.0/24')));
    expect(added.main.handle).toBe(first.main.handle);
    expect(added.guard.handle).toBe(first.guard.handle);
    const removed = await applyAndCheck(policy(base()));
    expect(removed.main.handle).toBe(first.main.handle);
    expect(nft(['list', 'set', 'inet', 'tunlock', 'lan4'])).not.toContain('100.65.0.0/24');
  });

  it('an endpoint of a new owner (its own set and rule) replaces the table; its owner\'s next endpoint goes in place', async () => {
    const first = await applyAndCheck(policy(base()));
    const owned = (l: LockedPolicy, text: string): LockedPolicy => ({ ...l, endpoints: [...l.endpoints, { endpoint: parseEndpoint(text), owner: { kind: 'uid', uid: 65534 } }] });
    const one = owned(base(), '203.0.113.7:1194/udp');
    const added = await applyAndCheck(policy(one));
    expect(added.main.handle).not.toBe(first.main.handle);
    expect(added.main.elements['endpoints4_u65534']).toBe(1);
    // Main: output and postrouting; the guard of a lock: postrouting (guardCarries).
    for (const [table, chain] of [['tunlock', 'output'], ['tunlock', 'postrouting'], ['tunlock_guard', 'postrouting']] as const) {
      expect(nft(['list', 'chain', 'inet', table, chain])).toMatch(/meta skuid (65534|nobody) ip daddr \. meta l4proto \. th dport @endpoints4_u65534 accept/);
    }
    const two = await applyAndCheck(policy(owned(one, '203.0.113.8:1194/udp')));
    expect(two.main.handle).toBe(added.main.handle);
    expect(two.main.elements['endpoints4_u65534']).toBe(2);
    const gone = await applyAndCheck(policy(base()));
    expect(gone.main.handle).not.toBe(added.main.handle);
    expect(gone.main.elements).not.toHaveProperty('endpoints4_u65534');
    expect(nft(['list', 'chain', 'inet', 'tunlock', 'output'])).not.toContain('endpoints4_u65534');
  });

  it('a binding or LAN access changes rules, chains and counters in place (same table, sets kept)', async () => {
    const before = await applyAndCheck(policy(base()));
    const bound = await applyAndCheck(policy(plusEndpoint(base(), '203.0.113.7:1194/udp'), [{ kind: 'user', uid: 65534 }]));
    expect(bound.main.handle).toBe(before.main.handle);
    // The guard of a lock gains its output chain with the first binding (a base chain: it is replaced).
    expect(bound.guard.handle).not.toBe(before.guard.handle);
    expect(bound.guard.chains).toEqual(['output', 'postrouting', 'bind_0']);
    expect(bound.main.chains).toContain('bind_0');
    expect(nft(['list', 'chain', 'inet', 'tunlock', 'output'])).toMatch(/meta skuid (65534|nobody) jump bind_0/);
    expect(nft(['list', 'chain', 'inet', 'tunlock_guard', 'bind_0'])).toContain('counter name "bind_0"');
    const lanOff = await applyAndCheck(policy({ ...base(), allowLan: false }));
    expect(lanOff.main.handle).toBe(before.main.handle);
    expect(lanOff.main.chains).not.toContain('bind_0');
    expect(nft(['list', 'counters', 'table', 'inet', 'tunlock'])).not.toContain('bind_0');
    expect(nft(['list', 'chain', 'inet', 'tunlock', 'input'])).not.toContain('@lan4');
    // What the kernel holds is what a fresh table of that policy would hold, rule for rule.
    const rules = (table: string) => nft(['-t', 'list', 'table', 'inet', table]).replace(/\n\t\tpackets \d+ bytes \d+/g, '');
    const inPlace = rules('tunlock');
    await applyAndCheck(policy({ ...base(), allowLan: false }), { replace: true });
    expect(rules('tunlock')).toBe(inPlace);
  });

  it('lock on or off with a binding in force (base chains appear or go) replaces the table', async () => {
    const bindings: Policy['bindings'] = [{ kind: 'user', uid: 65534 }];
    const locked = await applyAndCheck(policy(base(), bindings));
    const unlocked = await applyAndCheck({ kind: 'open', bindings, tunnels: ['wg0'], allowLan: true, lanRanges: [...DEFAULT_LAN_RANGES] });
    expect(unlocked.main.handle).not.toBe(locked.main.handle);
    expect(unlocked.main.chains).toEqual(['output', 'bind_0']);
  });

  it('lock off with nothing bound removes both tables; the apply confirms the main table is gone', async () => {
    await applyAndCheck(policy(base()));
    const off: Policy = { kind: 'open', bindings: [], tunnels: ['wg0'], allowLan: true, lanRanges: [...DEFAULT_LAN_RANGES] };
    expect(await backend.apply(off, Date.now())).toBeNull();
    expect(listed('tunlock')).toBeNull();
    expect(await backend.read()).toBeNull(); // the guard's removal trails in the session; the read queues behind it
    expect(listed('tunlock_guard')).toBeNull();
    await applyAndCheck(policy(base())); // and on again: created without a counter read first
  });

  it('when the kernel refuses the in-place change (an element we would delete is gone), it replaces the table', async () => {
    const extra = plusEndpoint(base(), '203.0.113.8:1194/udp');
    await applyAndCheck(policy(extra));
    const plan = planUpdate(tableModel(policy(base()), 0), tableModel(policy(extra), 0));
    if (plan.kind !== 'elements') throw new Error('expected an element change');
    const change = plan.changes[0]!;
    nft(['delete', 'element', 'inet', 'tunlock', change.set, `{ ${change.add[0]} }`]);
    warnings.length = 0;
    await applyAndCheck(policy(base()));
    expect(warnings.join('\n')).toMatch(/in place failed, replacing it/);
  });

  it('an element change finds a rule someone else edited since our last apply and replaces the table, instead of adopting it', async () => {
    await applyAndCheck(policy(base()));
    const applied = (await backend.apply(policy(base()), Date.now()))!.content;
    nft(['insert', 'rule', 'inet', 'tunlock', 'output', 'meta l4proto udp accept']);
    warnings.length = 0;
    const observed = await backend.apply(policy(plusEndpoint(base(), '203.0.113.10:1194/udp')), Date.now());
    expect(observed!.content).toBe(applied);
    expect(nft(['list', 'chain', 'inet', 'tunlock', 'output'])).not.toContain('meta l4proto udp accept');
    expect(warnings.join('\n')).toMatch(/changed by another program; replacing it/);
    expect(backend.replacedForeignChange).toBe(true); // reported, so the daemon counts it as tampering
    await applyAndCheck(policy(base()));
    expect(backend.replacedForeignChange).toBe(false);
  });

  it('replace: true rewrites a table someone added an element to', async () => {
    await applyAndCheck(policy(base()));
    nft(['add', 'element', 'inet', 'tunlock', 'lan4', '{ 203.0.113.0/24 }']);
    await backend.apply(policy(base()), Date.now());
    expect(nft(['list', 'set', 'inet', 'tunlock', 'lan4'])).toContain('203.0.113.0/24'); // nothing to change as far as it knew
    await applyAndCheck(policy(base()), { replace: true });
    expect(nft(['list', 'set', 'inet', 'tunlock', 'lan4'])).not.toContain('203.0.113.0/24');
  });

  it('counters count from the previous read across each apply, whether the table changed in place or was replaced', async () => {
    const blocked = async () => (await backend.read())!.counters['blocked_out'] ?? 0;
    const refuse = () => {
      // Neither tunnel, endpoint nor LAN: the lock rejects it (the counter counts it) and the send fails.
      expect(() => execFileSync('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', '192.0.2.1'], { stdio: 'ignore' })).toThrow();
    };
    // A link to send on (the packet meets the output hook before neighbour resolution); no IPv6 on it, whose
    // multicast listener reports after link-up the lock would count too.
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    execFileSync('ip', ['-n', ns, 'link', 'add', 'tlv0', 'type', 'veth', 'peer', 'name', 'tlv1']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', '192.0.2.2/24', 'dev', 'tlv0']);
    for (const l of ['lo', 'tlv0', 'tlv1']) execFileSync('ip', ['-n', ns, 'link', 'set', l, 'up']);
    await applyAndCheck(policy(base()));
    refuse();
    expect(await blocked()).toBe(1);
    await applyAndCheck(policy(plusEndpoint(base(), '203.0.113.9:1194/udp'))); // in place: the kernel keeps counting
    expect(await blocked()).toBe(0);
    refuse();
    expect(await blocked()).toBe(1);
    await applyAndCheck(policy({ ...base(), allowLan: false })); // rules changed in place: counting goes on
    expect(await blocked()).toBe(0);
    refuse();
    expect(await blocked()).toBe(1);
    // Counted after the last read and before an apply: reported after it, in place or replaced alike.
    refuse();
    await applyAndCheck(policy({ ...base(), allowLan: false, endpoints: base().endpoints.slice(1) }));
    expect(await blocked()).toBe(1);
    refuse();
    await applyAndCheck(policy(base()));
    expect(await blocked()).toBe(1);
  });
});

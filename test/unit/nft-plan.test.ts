// The incremental planner: which changes become element updates inside one batch, which replace the table.
import { describe, expect, it } from 'vitest';
import { planUpdate, renderElementBatch, renderRuleBatch } from '../../host/src/firewall/nft-plan.js';
import type { RuleChange, SetChange } from '../../host/src/firewall/nft-plan.js';
import { GUARD_TABLE, MAIN_TABLE, guardCarries, guardModel, tableModel } from '../../host/src/firewall/nft-rules.js';
import type { TableModel } from '../../host/src/firewall/nft-rules.js';
import type { AllowedEndpoint, LockedPolicy, Policy } from '../../host/src/firewall/policy.js';
import { DEFAULT_LAN_RANGES, rootEndpoint } from '../../host/src/firewall/policy.js';
import { parseAddress, parseCidr, parseEndpoint } from '../../host/src/net/values.js';

const NOW = 1_700_000_000_000;
const unlocked: Policy = { kind: 'open', bindings: [], tunnels: ['wg0'], allowLan: true, lanRanges: [...DEFAULT_LAN_RANGES] };
const locked = (over: Partial<Omit<LockedPolicy, 'kind'>> = {}): LockedPolicy => ({
  ...unlocked,
  kind: 'locked',
  endpoints: [rootEndpoint(parseEndpoint('198.51.100.10:51820/udp'))],
  onLink: [],
  captive: null,
  ...over,
});
const withEndpoint = (p: LockedPolicy, text: string): LockedPolicy => locked({ ...p, endpoints: [...p.endpoints, rootEndpoint(parseEndpoint(text))] });
const owned = (text: string, uid: number): AllowedEndpoint => ({ endpoint: parseEndpoint(text), owner: { kind: 'uid', uid } });
const withRange = (p: LockedPolicy, text: string): LockedPolicy => locked({ ...p, lanRanges: [...p.lanRanges, parseCidr(text)] });
const model = (p: Policy, now = NOW): TableModel | null => tableModel(p, now);
const hole = { iface: 'eth0', uid: 1000, resolvers: [parseAddress('192.168.77.1')], expiresAt: NOW + 120_000 };

function elements(before: Policy, after: Policy, now = NOW): SetChange[] {
  const plan = planUpdate(model(before), model(after, now));
  if (plan.kind !== 'elements') throw new Error(`expected an element update, got ${plan.kind === 'replace' ? `a replace (${plan.why})` : 'a change of rules'}`);
  return plan.changes;
}

describe('planUpdate: element changes in place', () => {
  it('the same policy needs no change at all', () => {
    expect(elements(locked(), locked())).toEqual([]);
    expect(planUpdate(null, null)).toEqual({ kind: 'elements', changes: [] });
  });

  it('adding one endpoint of an owner that has endpoints adds one element to that owner\'s set', () => {
    const changes = elements(locked(), withEndpoint(locked(), '203.0.113.7:1194/udp'));
    expect(changes).toEqual([{ set: 'endpoints4_u0', flush: false, add: ['203.0.113.7 . udp . 1194'], remove: [] }]);
  });

  it('removing one endpoint (v6) of an owner that keeps others removes exactly that element', () => {
    const v6 = withEndpoint(locked(), '[2001:db8::8]:443/tcp');
    const changes = elements(withEndpoint(v6, '[2001:db8::7]:443/tcp'), v6);
    expect(changes).toEqual([{ set: 'endpoints6_u0', flush: false, add: [], remove: ['2001:db8::7 . tcp . 443'] }]);
  });

  it('an endpoint moved between two owners that both keep endpoints: one element out of one set, into the other', () => {
    const two = locked({ endpoints: [...locked().endpoints, owned('203.0.113.8:1194/udp', 1000), owned('203.0.113.7:1194/udp', 1000)] });
    const moved = locked({ endpoints: [...locked().endpoints, owned('203.0.113.8:1194/udp', 1000), rootEndpoint(parseEndpoint('203.0.113.7:1194/udp'))] });
    expect(elements(two, moved)).toEqual([
      { set: 'endpoints4_u0', flush: false, add: ['203.0.113.7 . udp . 1194'], remove: [] },
      { set: 'endpoints4_u1000', flush: false, add: [], remove: ['203.0.113.7 . udp . 1194'] },
    ]);
  });

  it('fwmark-owned endpoints: the first and the last change elements only (the mark sets are always there)', () => {
    const marked = locked({ endpoints: [...locked().endpoints, { endpoint: parseEndpoint('203.0.113.9:51820/udp'), owner: { kind: 'mark', mark: 51820 } }] });
    expect(elements(locked(), marked)).toEqual([{ set: 'endpoints4_mark', flush: false, add: ['203.0.113.9 . udp . 51820 . 51820'], remove: [] }]);
    expect(elements(marked, locked())).toEqual([{ set: 'endpoints4_mark', flush: false, add: [], remove: ['203.0.113.9 . udp . 51820 . 51820'] }]);
  });

  it('adding or removing a LAN range changes lan4 or lan6', () => {
    expect(elements(locked(), withRange(locked(), '100.64.9.0/24'))).toEqual([{ set: 'lan4', flush: false, add: ['100.64.9.0/24'], remove: [] }]);
    expect(elements(withRange(locked(), '2001:db8:9::/48'), locked())).toEqual([{ set: 'lan6', flush: false, add: [], remove: ['2001:db8:9::/48'] }]);
  });

  it('a second tunnel is an element of the tunnels set and a rule of its own in the chains it leaves by, in place', () => {
    const plan = planUpdate(model(locked()), model(locked({ tunnels: ['wg0', 'tun0'] })));
    if (plan.kind !== 'rules') throw new Error(`expected a change of rules, got ${plan.kind}`);
    expect(plan.changes).toEqual([{ set: 'tunnels', flush: false, add: ['"tun0"'], remove: [] }]);
    expect(plan.rules.rewriteChains.map((c) => c.name)).toEqual(['output', 'forward', 'postrouting']);
  });

  it('several sets change in one plan, with 10,000 endpoints present', () => {
    const endpoints = Array.from({ length: 10_000 }, (_, i) => rootEndpoint(parseEndpoint(`198.19.${i >> 8}.${i & 255}:51820/udp`)));
    const big = locked({ endpoints });
    const changes = elements(big, withRange(withEndpoint(big, '203.0.113.9:51820/udp'), '100.64.1.0/24'));
    expect(changes.map((c) => [c.set, c.add.length, c.remove.length])).toEqual([
      ['endpoints4_u0', 1, 0],
      ['lan4', 1, 0],
    ]);
  });

  it('the captive hole (elements with a kernel timeout) is flushed and refilled, never deleted element by element', () => {
    const changes = elements(locked(), locked({ captive: hole }));
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) {
      expect(c.set).toMatch(/^captive_/);
      expect(c).toMatchObject({ flush: true, remove: [] });
    }
    // Closing it empties the timeout sets the same way (an element may have expired in the kernel already).
    for (const c of elements(locked({ captive: hole }), locked())) expect(c).toMatchObject({ flush: true, add: [], remove: [] });
  });

  it('an open hole seen later is refilled with the remaining time (the same expiry in the kernel)', () => {
    const changes = elements(locked({ captive: hole }), locked({ captive: hole }), NOW + 30_000);
    const web = changes.find((c) => c.set === 'captive_web')!;
    expect(web.add).toEqual(['"eth0" . 1000 timeout 90s']);
  });
});

const bound = (p: Policy, ...uids: number[]): Policy => ({ ...p, bindings: uids.map((uid) => ({ kind: 'user' as const, uid })) });

function rules(before: Policy, after: Policy): RuleChange {
  const plan = planUpdate(model(before), model(after));
  if (plan.kind !== 'rules') throw new Error(`expected a change of rules, got ${plan.kind === 'replace' ? `a replace (${plan.why})` : 'an element update'}`);
  return plan.rules;
}
const names = (r: RuleChange) => ({
  add: r.addChains.map((c) => c.name),
  rewrite: r.rewriteChains.map((c) => c.name),
  remove: r.removeChains,
  counters: [r.addCounters, r.removeCounters],
});

describe('planUpdate: rules, regular chains and counters change in place; the sets stay', () => {
  it('a binding added: its chain and counter are created, output gains the jump, no set is touched', () => {
    const plan = planUpdate(model(locked()), model(bound(locked(), 109)));
    expect(plan).toMatchObject({ kind: 'rules', changes: [] });
    if (plan.kind !== 'rules') return;
    expect(names(plan.rules)).toEqual({ add: ['bind_0'], rewrite: ['output'], remove: [], counters: [['bind_0'], []] });
    expect(plan.rules.rewriteChains[0]!.rules).toContain('meta skuid 109 jump bind_0');
  });

  it('a binding removed: its chain and counter are deleted, output loses the jump', () => {
    expect(names(rules(bound(locked(), 109, 110), bound(locked(), 109)))).toEqual({ add: [], rewrite: ['output'], remove: ['bind_1'], counters: [[], ['bind_1']] });
  });

  it('a binding replaced by another rewrites the jump and keeps chain and counter', () => {
    expect(names(rules(bound(locked(), 109), bound(locked(), 110)))).toEqual({ add: [], rewrite: ['output'], remove: [], counters: [[], []] });
  });

  it('LAN access blocked rewrites every chain with LAN rules, in place', () => {
    expect(names(rules(locked(), locked({ allowLan: false })))).toEqual({ add: [], rewrite: ['output', 'input', 'forward', 'postrouting'], remove: [], counters: [[], []] });
  });

  it('bindings while unlocked (policy accept): added and removed in place too', () => {
    expect(names(rules(bound(unlocked, 109), bound(unlocked, 109, 110)))).toMatchObject({ add: ['bind_1'], remove: [] });
  });

  it('elements that change at the same time travel with the rules, in the same plan', () => {
    const plan = planUpdate(model(locked()), model(bound(withEndpoint(locked(), '203.0.113.7:1194/udp'), 109)));
    expect(plan.kind).toBe('rules');
    if (plan.kind === 'rules') expect(plan.changes.map((c) => [c.set, c.add.length])).toEqual([['endpoints4_u0', 1]]);
  });
});

describe('planUpdate: changes of shape replace the table', () => {
  it.each<[string, Policy, Policy]>([
    ['lock on with a binding in force (base chains appear)', bound(unlocked, 109), bound(locked(), 109)],
    ['lock off with a binding in force (base chains go)', bound(locked(), 109), bound(unlocked, 109)],
  ])('%s', (_, before, after) => {
    // (the endpoint sets appear or go with the lock too)
    expect(planUpdate(model(before), model(after))).toMatchObject({ kind: 'replace' });
  });

  it.each<[string, LockedPolicy, LockedPolicy]>([
    ['an endpoint of an owner without endpoints so far (its set and its rules appear)', locked(), locked({ endpoints: [...locked().endpoints, owned('203.0.113.7:1194/udp', 1000)] })],
    ['the last endpoint of an owner removed (its set and its rules go)', locked({ endpoints: [...locked().endpoints, owned('203.0.113.7:1194/udp', 1000)] }), locked()],
    ['root\'s first IPv6 endpoint (one set per family and owner)', locked(), withEndpoint(locked(), '[2001:db8::7]:443/tcp')],
    ['root\'s last IPv6 endpoint removed', withEndpoint(locked(), '[2001:db8::7]:443/tcp'), locked()],
    ['every endpoint handed from root to another account', locked(), locked({ endpoints: [owned('198.51.100.10:51820/udp', 1000)] })],
  ])('%s: a full apply', (_, before, after) => {
    expect(planUpdate(model(before), model(after))).toEqual({ kind: 'replace', why: 'set declarations changed' });
    // …and the rules that name the sets change with them: an in-place plan would need both.
    expect(model(after)!.chains.find((c) => c.name === 'output')!.rules).not.toEqual(model(before)!.chains.find((c) => c.name === 'output')!.rules);
  });

  it('a base chain whose hook line changes (its policy) is a replace', () => {
    const m = model(locked())!;
    const accept: TableModel = { ...m, chains: m.chains.map((c) => (c.name === 'forward' ? { ...c, policy: 'accept', base: c.base!.replace('policy drop', 'policy accept') } : c)) };
    expect(planUpdate(m, accept)).toMatchObject({ kind: 'replace', why: 'base chains changed' });
  });

  it('the table appearing or going is a replace', () => {
    expect(planUpdate(null, model(locked()))).toEqual({ kind: 'replace', why: 'table created' });
    expect(planUpdate(model(locked()), null)).toEqual({ kind: 'replace', why: 'table removed' });
  });

  it('is generic over the sets the model declares: a new set, or a changed declaration, is a change of shape', () => {
    const m = model(locked())!;
    const extra: TableModel = { ...m, sets: [...m.sets, { name: 'extra', decl: 'type ipv4_addr', items: [] }] };
    expect(planUpdate(m, extra)).toMatchObject({ kind: 'replace', why: 'set declarations changed' });
    const redeclared: TableModel = { ...m, sets: m.sets.map((s) => (s.name === 'lan4' ? { ...s, decl: 'type ipv4_addr' } : s)) };
    expect(planUpdate(m, redeclared)).toMatchObject({ kind: 'replace', why: 'set declarations changed' });
    // …while elements of a set the planner has never heard of change in place.
    const filled: TableModel = { ...extra, sets: extra.sets.map((s) => (s.name === 'extra' ? { ...s, items: ['192.0.2.1'] } : s)) };
    expect(planUpdate(extra, filled)).toEqual({ kind: 'elements', changes: [{ set: 'extra', flush: false, add: ['192.0.2.1'], remove: [] }] });
  });
});

describe('renderElementBatch', () => {
  const changes: SetChange[] = [
    { set: 'lan4', flush: false, add: ['100.64.0.0/16'], remove: ['100.64.1.0/24', '100.64.2.0/24'] },
    { set: 'captive_web', flush: true, add: ['"eth0" . 1000 timeout 90s'], remove: [] },
  ];

  it('deletes and flushes first, then adds, all for one table', () => {
    expect(renderElementBatch(changes, MAIN_TABLE)).toBe(
      [
        'delete element inet tunlock lan4 { 100.64.1.0/24, 100.64.2.0/24 }',
        'flush set inet tunlock captive_web',
        'add element inet tunlock lan4 { 100.64.0.0/16 }',
        'add element inet tunlock captive_web { "eth0" . 1000 timeout 90s }',
        '',
      ].join('\n'),
    );
    expect(renderElementBatch(changes, GUARD_TABLE)).toMatch(/^delete element inet tunlock_guard lan4 /);
  });

  it('nothing to change is an empty batch', () => {
    expect(renderElementBatch([], MAIN_TABLE)).toBe('');
  });
});

describe('renderRuleBatch', () => {
  it('creates counters and chains before rules refer to them; flushes before deleting; rules last', () => {
    const before = model(bound(locked(), 109, 110))!;
    const after = model(bound(withEndpoint(locked(), '203.0.113.7:1194/udp'), 111))!;
    const plan = planUpdate(before, after);
    if (plan.kind !== 'rules') throw new Error('expected a change of rules');
    const batch = renderRuleBatch(plan.rules, plan.changes, MAIN_TABLE).trimEnd().split('\n');
    const at = (prefix: string) => batch.findIndex((l) => l.startsWith(prefix));
    // bind_0's own rules do not name the account (the jump in output does): it is kept as it is.
    expect(batch.slice(0, 3)).toEqual(['flush chain inet tunlock output', 'flush chain inet tunlock bind_1', 'delete chain inet tunlock bind_1']);
    expect(at('delete counter inet tunlock bind_1')).toBe(3);
    expect(at('add element inet tunlock endpoints4_u0 { 203.0.113.7 . udp . 1194 }')).toBe(4);
    expect(batch.slice(5).every((l) => l.startsWith('add rule inet tunlock '))).toBe(true);
    expect(batch).toContain('add rule inet tunlock output meta skuid 111 jump bind_0');
    expect(batch.filter((l) => l.startsWith('add rule inet tunlock output'))).toHaveLength(after.chains[0]!.rules.length);
  });

  it('a new binding: counter, then chain, then its rules; for the guard table by name', () => {
    const plan = planUpdate(guardModel(model(bound(unlocked, 109))), guardModel(model(bound(unlocked, 109, 110))));
    if (plan.kind !== 'rules') throw new Error('expected a change of rules');
    const batch = renderRuleBatch(plan.rules, plan.changes, GUARD_TABLE).trimEnd().split('\n');
    expect(batch.slice(0, 3)).toEqual(['add counter inet tunlock_guard bind_1', 'add chain inet tunlock_guard bind_1', 'flush chain inet tunlock_guard output']);
    expect(batch.at(-1)).toMatch(/^add rule inet tunlock_guard bind_1 .*reject with icmpx admin-prohibited$/);
  });

  it('the first binding under a lock gives the guard its output chain (a base chain: the guard is replaced)', () => {
    const plan = planUpdate(guardModel(model(locked())), guardModel(model(bound(locked(), 109))));
    expect(plan).toEqual({ kind: 'replace', why: 'base chains changed' });
    // The main table changes in place all the same.
    expect(planUpdate(model(locked()), model(bound(locked(), 109))).kind).toBe('rules');
  });
});

describe('planUpdate: element differences of large sets', () => {
  it('finds exactly the added and removed elements among 10,000 (merge of sorted lists)', () => {
    const endpoints = Array.from({ length: 10_000 }, (_, i) => rootEndpoint(parseEndpoint(`198.19.${i >> 8}.${i & 255}:51820/udp`)));
    const before = locked({ endpoints });
    const after = locked({ endpoints: [...endpoints.filter((_, i) => i !== 5000 && i !== 17), rootEndpoint(parseEndpoint('198.19.255.1:1/udp'))] });
    expect(elements(before, after)).toEqual([
      { set: 'endpoints4_u0', flush: false, add: ['198.19.255.1 . udp . 1'], remove: ['198.19.0.17 . udp . 51820', '198.19.19.136 . udp . 51820'] },
    ]);
  });

  it('elements given unsorted (a model built elsewhere) still compare as sets', () => {
    const m = model(locked())!;
    const shuffled = (items: string[]): TableModel => ({ ...m, sets: m.sets.map((s) => (s.name === 'lan4' ? { ...s, items } : s)) });
    const plan = planUpdate(shuffled(['10.0.0.0/8', '100.64.0.0/10']), shuffled(['192.0.2.0/24', '10.0.0.0/8']));
    expect(plan).toEqual({ kind: 'elements', changes: [{ set: 'lan4', flush: false, add: ['192.0.2.0/24'], remove: ['100.64.0.0/10'] }] });
  });
});

describe('guardModel', () => {
  const names = (m: TableModel | null) => m?.chains.map((c) => c.name);

  it('a lock: the same sets and counters, and only postrouting (every packet that leaves passes it)', () => {
    const m = model(locked())!;
    const g = guardModel(m)!;
    expect(g.sets).toEqual(m.sets);
    expect(g.counters).toEqual(m.counters);
    expect(names(m)).toEqual(['output', 'input', 'forward', 'postrouting']);
    expect(g.chains).toEqual(m.chains.filter((c) => c.name === 'postrouting'));
    expect(guardModel(null)).toBeNull();
  });

  it('a lock with bindings: output and the binding chains too (cgroups cannot be matched after routing)', () => {
    const m = model(bound(locked(), 109))!;
    expect(names(guardModel(m))).toEqual(['output', 'postrouting', 'bind_0']);
    expect(guardModel(m)!.chains.find((c) => c.name === 'output')).toEqual(m.chains.find((c) => c.name === 'output'));
  });

  it('unlocked with bindings: the whole table (output and its binding chains; there is no postrouting)', () => {
    const m = model({ ...unlocked, bindings: [{ kind: 'cgroup', path: 'tunlock/run-1' }] })!;
    expect(guardModel(m)).toEqual(m);
  });

  it('a table without postrouting (an older lock kept as found): output and forward, never input', () => {
    const m = model(locked())!;
    const old = { ...m, chains: m.chains.filter((c) => c.name !== 'postrouting') };
    expect(names(guardModel(old))).toEqual(['output', 'forward']);
    expect(guardCarries([{ name: 'pre', base: 'type filter hook prerouting priority filter; policy drop;' }])).toEqual(new Set());
  });

  it('an element change of the model is an element change of the guard too', () => {
    const plan = planUpdate(guardModel(model(locked())), guardModel(model(withEndpoint(locked(), '203.0.113.7:1194/udp'))));
    expect(plan.kind).toBe('elements');
  });
});

describe('planUpdate with remembered element lists (sorted-elements.ts behind tableModel)', () => {
  const endpoints = Array.from({ length: 3000 }, (_, i) => rootEndpoint(parseEndpoint(`198.19.${i >> 8}.${i & 255}:51820/udp`)));
  const big = locked({ endpoints });

  it('an unchanged set is the same array in both models, and no change is planned', () => {
    const before = model(big)!;
    const after = model(locked({ endpoints: [...endpoints] }))!;
    expect(after.sets.find((s) => s.name === 'endpoints4_u0')!.items).toBe(before.sets.find((s) => s.name === 'endpoints4_u0')!.items);
    expect(planUpdate(before, after)).toEqual({ kind: 'elements', changes: [] });
  });

  it('one endpoint more, then less: exactly that element, and each model lists what a fresh sort gives', () => {
    const extra = rootEndpoint(parseEndpoint('192.0.2.77:51820/udp'));
    const before = model(big)!;
    const plus = model(locked({ endpoints: [...endpoints.slice(0, 10), extra, ...endpoints.slice(10)] }))!;
    const fresh = [...endpoints, extra].map((e) => `${e.endpoint.address.text} . udp . 51820`).sort();
    expect(plus.sets.find((s) => s.name === 'endpoints4_u0')!.items).toEqual(fresh);
    expect(planUpdate(before, plus)).toEqual({ kind: 'elements', changes: [{ set: 'endpoints4_u0', flush: false, add: ['192.0.2.77 . udp . 51820'], remove: [] }] });
    expect(planUpdate(plus, model(big))).toEqual({ kind: 'elements', changes: [{ set: 'endpoints4_u0', flush: false, add: [], remove: ['192.0.2.77 . udp . 51820'] }] });
  });

  it('an endpoint object changed in place is not served its old element text', () => {
    const mine = parseEndpoint('192.0.2.78:51820/udp');
    const before = model(locked({ endpoints: [...endpoints, rootEndpoint(mine)] }))!;
    mine.port = 51821;
    const after = model(locked({ endpoints: [...endpoints, rootEndpoint(mine)] }))!;
    expect(planUpdate(before, after)).toEqual({
      kind: 'elements',
      changes: [{ set: 'endpoints4_u0', flush: false, add: ['192.0.2.78 . udp . 51821'], remove: ['192.0.2.78 . udp . 51820'] }],
    });
  });

  it('a list that repeats an element (a model built elsewhere) is compared as a set', () => {
    const m = model(locked())!;
    const withLan = (items: string[]): TableModel => ({ ...m, sets: m.sets.map((s) => (s.name === 'lan4' ? { ...s, items } : s)) });
    const plan = planUpdate(withLan(['10.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10']), withLan(['10.0.0.0/8', '192.0.2.0/24']));
    expect(plan).toEqual({ kind: 'elements', changes: [{ set: 'lan4', flush: false, add: ['192.0.2.0/24'], remove: ['100.64.0.0/10'] }] });
  });
});

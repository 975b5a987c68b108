// The incremental planner: which changes become element updates inside one batch, which replace the table.
import { describe, expect, it } from 'vitest';
import { planUpdate, renderElementBatch } from '../../host/src/firewall/nft-plan.js';
import type { SetChange } from '../../host/src/firewall/nft-plan.js';
import { GUARD_TABLE, MAIN_TABLE, guardModel, tableModel } from '../../host/src/firewall/nft-rules.js';
import type { TableModel } from '../../host/src/firewall/nft-rules.js';
import type { LockedPolicy, Policy } from '../../host/src/firewall/policy.js';
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
const withRange = (p: LockedPolicy, text: string): LockedPolicy => locked({ ...p, lanRanges: [...p.lanRanges, parseCidr(text)] });
const model = (p: Policy, now = NOW): TableModel | null => tableModel(p, now);
const hole = { iface: 'eth0', uid: 1000, resolvers: [parseAddress('192.168.77.1')], expiresAt: NOW + 120_000 };

function elements(before: Policy, after: Policy, now = NOW): SetChange[] {
  const plan = planUpdate(model(before), model(after, now));
  if (plan.kind !== 'elements') throw new Error(`expected an element update, got a replace (${plan.why})`);
  return plan.changes;
}

describe('planUpdate: element changes in place', () => {
  it('the same policy needs no change at all', () => {
    expect(elements(locked(), locked())).toEqual([]);
    expect(planUpdate(null, null)).toEqual({ kind: 'elements', changes: [] });
  });

  it('adding one endpoint adds one element to the one endpoint set of its family', () => {
    const changes = elements(locked(), withEndpoint(locked(), '203.0.113.7:1194/udp'));
    expect(changes).toHaveLength(1);
    expect(changes[0]!.set).toMatch(/^endpoints4/);
    expect(changes[0]!.add).toHaveLength(1);
    expect(changes[0]!.add[0]).toContain('203.0.113.7');
    expect(changes[0]!).toMatchObject({ flush: false, remove: [] });
  });

  it('removing one endpoint (v6) removes exactly that element', () => {
    const before = withEndpoint(locked(), '[2001:db8::7]:443/tcp');
    const changes = elements(before, locked());
    expect(changes).toHaveLength(1);
    expect(changes[0]!.set).toMatch(/^endpoints6/);
    expect(changes[0]!.remove).toHaveLength(1);
    expect(changes[0]!.remove[0]).toContain('2001:db8::7');
    expect(changes[0]!.add).toEqual([]);
  });

  it('adding or removing a LAN range changes lan4 or lan6', () => {
    expect(elements(locked(), withRange(locked(), '100.64.9.0/24'))).toEqual([{ set: 'lan4', flush: false, add: ['100.64.9.0/24'], remove: [] }]);
    expect(elements(withRange(locked(), '2001:db8:9::/48'), locked())).toEqual([{ set: 'lan6', flush: false, add: [], remove: ['2001:db8:9::/48'] }]);
  });

  it('a second tunnel is an element of the tunnels set', () => {
    expect(elements(locked(), locked({ tunnels: ['wg0', 'tun0'] }))).toEqual([{ set: 'tunnels', flush: false, add: ['"tun0"'], remove: [] }]);
  });

  it('several sets change in one plan, with 10,000 endpoints present', () => {
    const endpoints = Array.from({ length: 10_000 }, (_, i) => rootEndpoint(parseEndpoint(`198.19.${i >> 8}.${i & 255}:51820/udp`)));
    const big = locked({ endpoints });
    const changes = elements(big, withRange(withEndpoint(big, '203.0.113.9:51820/udp'), '100.64.1.0/24'));
    expect(changes.map((c) => [c.set.replace(/^(endpoints4).*/, '$1'), c.add.length, c.remove.length])).toEqual([
      ['endpoints4', 1, 0],
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

describe('planUpdate: changes of shape replace the table', () => {
  it.each<[string, Policy, Policy]>([
    ['lock on', unlocked, locked()],
    ['lock off', locked(), unlocked],
    ['LAN access blocked (rules change)', locked(), locked({ allowLan: false })],
    ['a binding added (a chain and a counter)', locked(), { ...locked(), bindings: [{ kind: 'user', uid: 109 }] }],
    ['a binding removed', { ...locked(), bindings: [{ kind: 'user', uid: 109 }] }, locked()],
    ['a binding replaced by another', { ...locked(), bindings: [{ kind: 'user', uid: 109 }] }, { ...locked(), bindings: [{ kind: 'group', gid: 109 }] }],
  ])('%s', (_, before, after) => {
    expect(planUpdate(model(before), model(after)).kind).toBe('replace');
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

describe('guardModel', () => {
  it('keeps the sets, counters and every chain a packet can leave by; drops the input chain', () => {
    const m = model({ ...locked(), bindings: [{ kind: 'user', uid: 109 }] })!;
    const g = guardModel(m)!;
    expect(g.sets).toEqual(m.sets);
    expect(g.counters).toEqual(m.counters);
    expect(m.chains.map((c) => c.name)).toContain('input');
    expect(g.chains).toEqual(m.chains.filter((c) => c.name !== 'input'));
    expect(g.chains.map((c) => c.name)).toEqual(expect.arrayContaining(['output', 'forward', 'bind_0']));
    expect(guardModel(null)).toBeNull();
  });

  it('an element change of the model is an element change of the guard too', () => {
    const plan = planUpdate(guardModel(model(locked())), guardModel(model(withEndpoint(locked(), '203.0.113.7:1194/udp'))));
    expect(plan.kind).toBe('elements');
  });
});

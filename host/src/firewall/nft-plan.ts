// The incremental planner: what the kernel holds (the model last applied) + what it should hold → the
// smallest atomic change. Pure, and generic over the sets, counters and chains the rule model declares
// (nft-rules.ts). Every plan is rendered as one batch: one transaction, so the kernel switches from the old
// table to the new at once, whichever kind it is.
//   elements  only set elements differ: `delete element` / `add element` commands. nft parses only the
//             elements that changed (with 10,000 endpoints a whole table costs ~100 ms of nft parsing; one
//             element ~2 ms).
//   rules     the same sets (names and declarations) and the same base chains (hooks, priorities, policies),
//             but rules, regular chains or counters differ — a binding, LAN access: the changed chains are
//             flushed and refilled, regular chains and counters added or deleted, the sets and their elements
//             kept (elements that differ change too). A table with 10,000 endpoints changes in a few ms.
//   replace   anything else — a set declaration, a set appearing or going (the first endpoint of a new owner
//             uid or family, or an owner's last one: nft-rules.ts keeps one set per family and uid), a base
//             chain, the table appearing or going: the whole table is replaced (renderReplaceBatch).
// Sets whose elements carry a kernel timeout (the captive hole) are flushed and refilled when they differ:
// an element may have expired in the kernel already, and deleting a missing element would fail the batch.
import type { TableId, TableModel } from './nft-rules.js';
import { TABLE_FAMILY } from './nft-rules.js';

export interface SetChange {
  set: string;
  /** empty the set first (timeout sets); `add` then holds every element */
  flush: boolean;
  add: string[];
  remove: string[];
}

type Chain = TableModel['chains'][number];

export interface RuleChange {
  /** regular chains to create (then filled) */
  addChains: Chain[];
  /** existing chains whose rules are flushed and written again */
  rewriteChains: Chain[];
  /** regular chains to flush and delete */
  removeChains: string[];
  addCounters: string[];
  removeCounters: string[];
}

export type Plan =
  /** replace the whole table (or remove it when the new model is null) */
  | { kind: 'replace'; why: string }
  /** change elements in place; an empty list means the kernel already holds the new model */
  | { kind: 'elements'; changes: SetChange[] }
  /** change chains, rules and counters in place, and elements as in `elements` */
  | { kind: 'rules'; changes: SetChange[]; rules: RuleChange };

const TIMEOUT_SET = /\bflags\b[^;]*\btimeout\b/;

/** A set whose elements expire in the kernel by themselves (they are flushed and refilled, never deleted one by one). */
export function isTimeoutSet(decl: string): boolean {
  return TIMEOUT_SET.test(decl);
}

export function planUpdate(before: TableModel | null, after: TableModel | null): Plan {
  if (before === null || after === null) {
    if (before === after) return { kind: 'elements', changes: [] };
    return { kind: 'replace', why: after === null ? 'table removed' : 'table created' };
  }
  if (before.sets.length !== after.sets.length || before.sets.some((s, i) => s.name !== after.sets[i]!.name || s.decl !== after.sets[i]!.decl)) {
    return { kind: 'replace', why: 'set declarations changed' };
  }
  const baseBefore = baseChains(before);
  if (baseBefore !== baseChains(after)) return { kind: 'replace', why: 'base chains changed' };
  const changes = setChanges(before, after);
  const rules = ruleChange(before, after);
  return rules ? { kind: 'rules', changes, rules } : { kind: 'elements', changes };
}

/** The base chains (name, hook line) in order: these change only by replacing the table. */
function baseChains(m: TableModel): string {
  return JSON.stringify(m.chains.filter((c) => c.base !== null).map((c) => [c.name, c.base, c.policy]));
}

function setChanges(before: TableModel, after: TableModel): SetChange[] {
  const changes: SetChange[] = [];
  after.sets.forEach((set, i) => {
    const old = before.sets[i]!.items;
    // The same array: an unchanged set whose sorted elements were remembered (sorted-elements.ts).
    if (old === set.items || sameItems(old, set.items)) return;
    if (isTimeoutSet(set.decl)) {
      changes.push({ set: set.name, flush: true, add: [...set.items], remove: [] });
      return;
    }
    const { add, remove } = difference(old, set.items);
    if (add.length || remove.length) changes.push({ set: set.name, flush: false, add, remove });
  });
  return changes;
}

/** What differs in chains and counters; null when nothing does. */
function ruleChange(before: TableModel, after: TableModel): RuleChange | null {
  const had = new Map(before.chains.map((c) => [c.name, c]));
  const has = new Set(after.chains.map((c) => c.name));
  const addChains = after.chains.filter((c) => !had.has(c.name));
  const rewriteChains = after.chains.filter((c) => had.has(c.name) && !sameItems(had.get(c.name)!.rules, c.rules));
  const removeChains = before.chains.filter((c) => !has.has(c.name)).map((c) => c.name);
  const counters = difference([...before.counters].sort(), [...after.counters].sort());
  if (!addChains.length && !rewriteChains.length && !removeChains.length && !counters.add.length && !counters.remove.length) return null;
  return { addChains, rewriteChains, removeChains, addCounters: counters.add, removeCounters: counters.remove };
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * `after` minus `before` and `before` minus `after`. The model lists elements sorted and without duplicates,
 * so one merge pass does it (no hashing of 10,000 strings), checking the order as it goes; unsorted input
 * falls back to sets.
 */
function difference(before: readonly string[], after: readonly string[]): { add: string[]; remove: string[] } {
  return merged(before, after) ?? hashed(before, after);
}

/** The merge pass; null as soon as either list is out of order or repeats an element. */
function merged(before: readonly string[], after: readonly string[]): { add: string[]; remove: string[] } | null {
  const add: string[] = [];
  const remove: string[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const b = before[i];
    const a = after[j];
    if (b !== undefined && (a === undefined || b < a)) {
      remove.push(b);
      i++;
    } else if (a !== undefined && (b === undefined || a < b)) {
      add.push(a);
      j++;
    } else {
      i++;
      j++;
    }
    if ((i > 1 && i <= before.length && !(before[i - 2]! < before[i - 1]!)) || (j > 1 && j <= after.length && !(after[j - 2]! < after[j - 1]!))) return null;
  }
  return { add, remove };
}

function hashed(before: readonly string[], after: readonly string[]): { add: string[]; remove: string[] } {
  const had = new Set(before);
  const has = new Set(after);
  return { add: [...has].filter((e) => !had.has(e)), remove: [...had].filter((e) => !has.has(e)) };
}

/**
 * The element changes as one nft batch for `table` (run with `include`, so it is one transaction). Deletions
 * come first, so an interval may be replaced by an overlapping one in the same batch.
 */
export function renderElementBatch(changes: SetChange[], table: TableId): string {
  return lines(elementRemovals(changes, table), elementAdditions(changes, table));
}

/**
 * A `rules` plan as one batch. Order matters within the transaction: new counters and chains exist before a
 * rule refers to them; a chain is empty (flushed) and no longer jumped to before it is deleted; a counter is
 * no longer referred to before it is deleted; element deletions precede additions.
 */
export function renderRuleBatch(rules: RuleChange, changes: SetChange[], table: TableId): string {
  const id = `${TABLE_FAMILY} ${table.name}`;
  const flushed = [...rules.rewriteChains.map((c) => c.name), ...rules.removeChains];
  return lines(
    rules.addCounters.map((c) => `add counter ${id} ${c}`),
    rules.addChains.map((c) => `add chain ${id} ${c.name}`),
    flushed.map((c) => `flush chain ${id} ${c}`),
    rules.removeChains.map((c) => `delete chain ${id} ${c}`),
    rules.removeCounters.map((c) => `delete counter ${id} ${c}`),
    elementRemovals(changes, table),
    elementAdditions(changes, table),
    [...rules.rewriteChains, ...rules.addChains].flatMap((c) => c.rules.map((r) => `add rule ${id} ${c.name} ${r}`)),
  );
}

function elementRemovals(changes: SetChange[], table: TableId): string[] {
  const id = `${TABLE_FAMILY} ${table.name}`;
  return changes.flatMap((c) => (c.flush ? [`flush set ${id} ${c.set}`] : c.remove.length ? [`delete element ${id} ${c.set} { ${c.remove.join(', ')} }`] : []));
}

function elementAdditions(changes: SetChange[], table: TableId): string[] {
  const id = `${TABLE_FAMILY} ${table.name}`;
  return changes.filter((c) => c.add.length).map((c) => `add element ${id} ${c.set} { ${c.add.join(', ')} }`);
}

function lines(...groups: string[][]): string {
  const all = groups.flat();
  return all.length ? `${all.join('\n')}\n` : '';
}

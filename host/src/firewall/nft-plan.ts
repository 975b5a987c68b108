// The incremental planner: what the kernel holds (the model last applied) + what it should hold → the
// smallest atomic change. Pure, and generic over the sets the rule model declares (nft-rules.ts).
//
// When only set elements differ, the change is a batch of `delete element` / `add element` commands: one
// transaction, so the kernel switches from the old elements to the new at once, and nft parses only the
// elements that changed (with 10,000 endpoints a whole table costs ~100 ms of nft parsing; one element ~2 ms).
// Anything else — a chain, a rule, a set declaration, a counter, a table appearing or going — is a change of
// shape: the whole table is replaced (renderReplaceBatch), as before incremental updates existed.
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

export type Plan =
  /** replace the whole table (or remove it when the new model is null) */
  | { kind: 'replace'; why: string }
  /** change elements in place; an empty list means the kernel already holds the new model */
  | { kind: 'elements'; changes: SetChange[] };

const TIMEOUT_SET = /\bflags\b[^;]*\btimeout\b/;

export function planUpdate(before: TableModel | null, after: TableModel | null): Plan {
  if (before === null || after === null) {
    if (before === after) return { kind: 'elements', changes: [] };
    return { kind: 'replace', why: after === null ? 'table removed' : 'table created' };
  }
  const why = shapeDifference(before, after);
  if (why) return { kind: 'replace', why };
  const changes: SetChange[] = [];
  after.sets.forEach((set, i) => {
    const old = before.sets[i]!.items;
    // Most sets do not change: compare in order first (the model lists elements sorted), diff only the rest.
    if (sameItems(old, set.items)) return;
    if (TIMEOUT_SET.test(set.decl)) {
      changes.push({ set: set.name, flush: true, add: [...set.items], remove: [] });
      return;
    }
    const had = new Set(old);
    const has = new Set(set.items);
    const add = [...has].filter((e) => !had.has(e));
    const remove = [...had].filter((e) => !has.has(e));
    if (add.length || remove.length) changes.push({ set: set.name, flush: false, add, remove });
  });
  return { kind: 'elements', changes };
}

/** Why two models differ in more than set elements, or null when they do not. */
function shapeDifference(a: TableModel, b: TableModel): string | null {
  if (a.sets.length !== b.sets.length || a.sets.some((s, i) => s.name !== b.sets[i]!.name || s.decl !== b.sets[i]!.decl)) {
    return 'set declarations changed';
  }
  if (a.counters.join('\n') !== b.counters.join('\n')) return 'counters changed';
  if (JSON.stringify(a.chains) !== JSON.stringify(b.chains)) return 'chains or rules changed';
  return null;
}

function sameItems(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The element changes as one nft batch for `table` (run with `include`, so it is one transaction). Deletions
 * come first, so an interval may be replaced by an overlapping one in the same batch.
 */
export function renderElementBatch(changes: SetChange[], table: TableId): string {
  const id = `${TABLE_FAMILY} ${table.name}`;
  const lines: string[] = [];
  for (const c of changes) {
    if (c.flush) lines.push(`flush set ${id} ${c.set}`);
    else if (c.remove.length) lines.push(`delete element ${id} ${c.set} { ${c.remove.join(', ')} }`);
  }
  for (const c of changes) if (c.add.length) lines.push(`add element ${id} ${c.set} { ${c.add.join(', ')} }`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

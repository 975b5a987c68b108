// Sorted, duplicate-free element lists, remembered between applies. With 10,000 endpoints, sorting the set's
// elements is most of an in-place apply's own work, and nearly every apply passes the same elements again, or
// one more, or one less. So each list (a slot: the set's name) keeps its last input and answer (the
// MAX_SLOTS most recently used lists):
//   the same input        → the same answer, the same array (the planner sees an unchanged set by identity);
//   a small edit          → a common prefix and suffix with at most EDIT_LIMIT elements between them, on an
//                           input without duplicates: the last answer with those elements taken out and put in
//                           by binary search (a copy; an answer is never changed once returned);
//   anything else         → sorted afresh.
// The input is compared element by element, so a stale answer can only come from a wrong comparison, never
// from an unchanged object holding new contents.

/** Longest run of changed elements taken as an edit of the last input (beyond it, sorting afresh is as cheap). */
const EDIT_LIMIT = 64;

/** Lists remembered at most (a set per family and owner, see nft-rules.ts). */
const MAX_SLOTS = 32;

interface Remembered {
  input: readonly string[];
  sorted: readonly string[];
  /** the input held no duplicates (its length is the answer's) */
  unique: boolean;
}

export class SortedElements {
  private readonly slots = new Map<string, Remembered>();

  /**
   * `items` sorted (code-unit order) without duplicates. `items` is handed over: it is kept (not copied) to be
   * compared with the next call's, so the caller must not change it afterwards.
   */
  sorted(slot: string, items: readonly string[]): readonly string[] {
    const last = this.slots.get(slot);
    const sorted = last ? (same(last.input, items) ? last.sorted : edited(last, items)) : null;
    const answer = sorted ?? sortUnique(items);
    // Most recently used last; sets that are gone (an owner without endpoints) are forgotten in time.
    this.slots.delete(slot);
    this.slots.set(slot, { input: items, sorted: answer, unique: answer.length === items.length });
    if (this.slots.size > MAX_SLOTS) this.slots.delete(this.slots.keys().next().value!);
    return answer;
  }
}

function same(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The answer for `items` from the last one when `items` is a small edit of the last input; else null. */
function edited(last: Remembered, items: readonly string[]): readonly string[] | null {
  if (!last.unique) return null;
  const before = last.input;
  const shorter = Math.min(before.length, items.length);
  let head = 0;
  while (head < shorter && before[head] === items[head]) head++;
  let tail = 0;
  while (tail < shorter - head && before[before.length - 1 - tail] === items[items.length - 1 - tail]) tail++;
  const removed = before.slice(head, before.length - tail);
  const added = items.slice(head, items.length - tail);
  if (removed.length + added.length > EDIT_LIMIT) return null;
  const out = [...last.sorted];
  // The last input had no duplicates, so each removed element occurred there once: it leaves the answer.
  for (const e of removed) {
    const at = lowerBound(out, e);
    if (out[at] !== e) return null; // not where the last answer put it: trust nothing remembered
    out.splice(at, 1);
  }
  for (const e of added) {
    const at = lowerBound(out, e);
    // Already there: a duplicate in the new input. Its count is no longer known cheaply: sort afresh.
    if (out[at] === e) return null;
    out.splice(at, 0, e);
  }
  return out;
}

/** The first index whose element is not below `e`. */
function lowerBound(items: readonly string[], e: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]! < e) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A sorted copy without duplicates (cheaper than a Set for 10,000 strings). */
export function sortUnique(items: readonly string[]): string[] {
  const out = [...items].sort();
  let kept = 0;
  for (let i = 0; i < out.length; i++) if (i === 0 || out[i] !== out[i - 1]) out[kept++] = out[i]!;
  out.length = kept;
  return out;
}

// What the nft backend reads back from the kernel, and how it decides that the kernel still holds what it
// applied: shape (chains, rule counts, sets, counters), the table's canonical text, and every set's elements.
// Pure: the backend (nft-firewall.ts) does the reading.
import type { TableShape } from './nft-rules.js';

export interface Observed {
  shape: TableShape;
  /**
   * The table's canonical text without what changes by itself (handles, counter values, set elements): right
   * after an apply it is what we wrote; any later difference is someone else's edit (a verdict swapped in a
   * rule keeps every count the same).
   */
  content: string;
  /** normalized set elements per set (normalizeElement); null when the listing left them out (terse) */
  elements: Record<string, string[]> | null;
  /** packets counted by each named counter */
  counters: Record<string, number>;
  /** the guard table is present too */
  guarded: boolean;
  /** the table was in the listing */
  found: boolean;
}

/** A lock in the sense of this project: input, output and forward all drop what no rule accepts. */
export function isLockShape(shape: TableShape): boolean {
  return ['input', 'output', 'forward'].every((c) => shape.chains[c]?.policy === 'drop');
}

/** Captive-hole elements expire by themselves in the kernel, so the kernel may hold fewer than we wrote. */
const EXPIRING_SETS = new Set(['captive_web', 'captive_dns4', 'captive_dns6']);

/** The first set whose elements are not the ones the policy puts there (captive sets may hold fewer), or null. */
function elementDifference(want: Record<string, string[]>, have: Record<string, string[]> | null): string | null {
  if (have === null) return null;
  const names = Object.keys(want);
  const extra = Object.keys(have).find((n) => !(n in want));
  if (extra !== undefined) return `set ${extra} is not one of tunlockd's`;
  for (const name of names) {
    const h = have[name];
    if (!h) return `set ${name} is missing`;
    const w = new Set(want[name]);
    const foreign = h.find((e) => !w.has(e));
    if (foreign !== undefined) return `set ${name} holds ${foreign}, which tunlockd did not put there`;
    if (!EXPIRING_SETS.has(name) && h.length !== w.size) return `set ${name} holds ${h.length} elements where tunlockd put ${w.size}`;
  }
  return null;
}

/**
 * The set elements the kernel holds are exactly the ones the policy puts there (captive sets may hold fewer:
 * their elements expire). True when the listing had no elements to compare.
 */
export function sameElements(want: Record<string, string[]>, have: Record<string, string[]> | null): boolean {
  return elementDifference(want, have) === null;
}

export function sameShape(want: TableShape | null, have: TableShape | null): boolean {
  if (want === null || have === null) return want === have;
  const chainNames = Object.keys(want.chains);
  if (chainNames.length !== Object.keys(have.chains).length) return false;
  for (const name of chainNames) {
    const w = want.chains[name]!;
    const h = have.chains[name];
    if (!h || h.policy !== w.policy || h.rules !== w.rules) return false;
  }
  const setNames = Object.keys(want.sets);
  if (setNames.length !== Object.keys(have.sets).length) return false;
  for (const name of setNames) {
    const h = have.sets[name];
    if (h === undefined) return false;
    if (h === null) continue; // a terse listing does not count elements
    if (EXPIRING_SETS.has(name) ? h > want.sets[name]! : h !== want.sets[name]) return false;
  }
  return [...want.counters].sort().join() === [...have.counters].sort().join();
}

/** The first line where two listings differ, as `kernel has "…" where tunlockd applied "…"`. */
function lineDifference(applied: string, kernel: string): string {
  const a = applied.split('\n');
  const k = kernel.split('\n');
  for (let i = 0; i < Math.max(a.length, k.length); i++) {
    if (a[i] !== k[i]) return `kernel has "${(k[i] ?? '(nothing)').trim()}" where tunlockd applied "${(a[i] ?? '(nothing)').trim()}"`;
  }
  return 'no line differs';
}

export interface Expected {
  shape: TableShape | null;
  /** the canonical text read back right after the apply (null: not known, only shape and elements count) */
  content: string | null;
  /** normalized elements per set; null when there is no table */
  elements: Record<string, string[]> | null;
}

/**
 * Why the kernel's table is not what the last apply left, for a person; null when it is. Counts are not
 * enough (an `accept` swapped in for a `reject` keeps them): the contents must be what that apply read back,
 * and every set must hold exactly the policy's elements (captive ones may have expired).
 */
export function differenceFromApplied(want: Expected, observed: Observed | null): string | null {
  if (!sameShape(want.shape, observed?.shape ?? null)) {
    return `the kernel differs from the rules tunlockd applied: want ${JSON.stringify(want.shape)}, kernel has ${JSON.stringify(observed?.shape ?? null)}`;
  }
  if (!observed) return null;
  if (want.content !== null && observed.content !== want.content) return lineDifference(want.content, observed.content);
  return elementDifference(want.elements ?? {}, observed.elements);
}

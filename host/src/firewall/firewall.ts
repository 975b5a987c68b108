// The one interface every firewall backend implements (Linux: nft-backend.ts). The daemon chooses the
// policy; a backend only enforces it, atomically, and reports what the kernel really holds.
import type { Policy } from './policy.js';
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

export interface Firewall {
  /**
   * Makes our rules enforce `policy` in one transaction and verifies the read-back. Throws FirewallError.
   * Backends may change only what differs from the last apply; `replace` rewrites everything (after tampering).
   * Counters reported after an apply count from the previous read's values, whether the backend changed the
   * table in place (the kernel keeps counting) or replaced it (the kernel restarts at zero): fold the values of
   * the last read into running totals at each apply, and nothing is counted twice or lost.
   */
  apply(policy: Policy, now: number, opts?: { replace?: boolean }): Promise<Observed | null>;
  /** Removes our rules and nothing else. */
  reset(): Promise<void>;
  /** What the kernel holds now; null when our table is absent. `full` also counts set elements (slower). */
  read(opts?: { full?: boolean }): Promise<Observed | null>;
  /**
   * Makes the guard a copy of the main table as the kernel holds it now: for rules the daemon keeps without
   * having written them (its saved state is unreadable). Throws FirewallError.
   */
  guardCurrent(): Promise<void>;
  /** Calls onChange on every ruleset change by anyone (so tampering is noticed at once). */
  watch(onChange: (line: string) => void, onExit: (why: string) => void): void;
  close(): void;
}

export class FirewallError extends Error {
  override name = 'FirewallError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A lock in the sense of this project: input, output and forward all drop what no rule accepts. */
export function isLockShape(shape: TableShape): boolean {
  return ['input', 'output', 'forward'].every((c) => shape.chains[c]?.policy === 'drop');
}

/** Captive-hole elements expire by themselves in the kernel, so the kernel may hold fewer than we wrote. */
const EXPIRING_SETS = new Set(['captive_web', 'captive_dns4', 'captive_dns6']);

/**
 * The set elements the kernel holds are exactly the ones the policy puts there (captive sets may hold fewer:
 * their elements expire). True when the listing had no elements to compare.
 */
export function sameElements(want: Record<string, string[]>, have: Record<string, string[]> | null): boolean {
  if (have === null) return true;
  const names = Object.keys(want);
  if (names.length !== Object.keys(have).length) return false;
  for (const name of names) {
    const h = have[name];
    if (!h) return false;
    const w = new Set(want[name]);
    if (EXPIRING_SETS.has(name) ? !h.every((e) => w.has(e)) : h.length !== w.size || !h.every((e) => w.has(e))) return false;
  }
  return true;
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

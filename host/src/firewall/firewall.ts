// The one interface every firewall backend implements (Linux: nft-firewall.ts; system.ts chooses). The daemon
// chooses the policy; a backend only enforces it, atomically, and reports in the daemon's terms — is what the
// kernel holds still what was applied, how many packets were refused — never in its own (tables, counters).
import type { Policy } from './policy.js';

/** Packets refused by our rules since the firewall object was created, however often the rules were replaced. */
export interface RefusedCounts {
  /** by the lock, in every direction ("blocked N packets") */
  blocked: number;
  /** by the lock, leaving this machine (what the self-test's probes move) */
  blockedOutgoing: number;
  /** per bound account (bindingKey in policy.ts): what that account tried to send outside the tunnels */
  perBinding: ReadonlyMap<string, number>;
}

/**
 * What verify found. `superseded`: the rules changed while the kernel was read, or `policy` is not the one
 * applied last: the read says nothing (verify again from the request queue).
 */
export type Verification =
  /** `guarded`: the backend's second line of defence is in place too (the daemon restores it by re-applying) */
  | { kind: 'intact'; guarded: boolean; evidence: string }
  /** someone else changed or removed our rules; `difference` says what, for a person */
  | { kind: 'tampered'; removed: boolean; difference: string }
  | { kind: 'superseded' };

/**
 * What an apply found on the way. `foreignChange`: the rules had been changed by another program since the last
 * apply, and the apply rewrote them whole; the daemon counts that as tampering (its own check may never see
 * it: the apply repaired the table before the check could read it). Null when nothing of the kind was found.
 */
export interface Applied {
  foreignChange: string | null;
}

/** What rules of ours the kernel holds, whoever wrote them (the daemon's saved state may be unreadable). */
export interface Held {
  /** every direction drops what no rule accepts: a lock, though maybe not one we wrote */
  lock: boolean;
  guarded: boolean;
}

export interface Firewall {
  /** How a person finds our rules (for messages): `table inet tunlock`. */
  readonly label: string;
  /** The file name under which the daemon keeps bootScript's output for the early-boot unit. */
  readonly bootScriptName: string;
  /**
   * Makes our rules enforce `policy` in one transaction and verifies the read-back. Throws FirewallError (the
   * previous rules then stay in force). Backends may change only what differs from the last apply; `replace`
   * rewrites everything (after tampering). Refused counts carry on across applies.
   */
  apply(policy: Policy, now: number, opts?: { replace?: boolean }): Promise<Applied>;
  /**
   * Compares the kernel with `policy`, which must be the policy applied last: content, not only counts (a
   * verdict swapped in a rule keeps them). `deep` also compares the second line of defence rule by rule (slower;
   * the self-test). Throws FirewallError when the kernel cannot be read.
   */
  verify(policy: Policy, now: number, opts?: { deep?: boolean }): Promise<Verification>;
  /** Reads the current counts from the kernel (fast). Throws FirewallError when it cannot be read. */
  readCounts(): Promise<RefusedCounts>;
  /** The counts as of the last kernel read (apply, verify, readCounts): no I/O. */
  counts(): RefusedCounts;
  /** What the kernel holds now; null when none of our rules are there. Throws FirewallError. */
  held(): Promise<Held | null>;
  /**
   * Guards the rules the kernel holds now like our own: for rules the daemon keeps without having written them
   * (its saved state is unreadable). Throws FirewallError.
   */
  guardCurrent(): Promise<void>;
  /** What the early-boot unit loads for `policy` before any daemon runs; null: nothing to load. */
  bootScript(policy: Policy, now: number): string | null;
  /** Removes our rules and nothing else. */
  reset(): Promise<void>;
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

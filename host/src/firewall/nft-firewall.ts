// The Firewall interface on Linux: NftBackend (nft-backend.ts) changes and reads the tables; this adds what
// the daemon asks in its own terms. Verification compares the kernel with what the last apply read back
// (nft-verify.ts); refused counts are kept as running totals, because the kernel's counters restart at zero
// whenever a table is replaced, and the named counters are mapped to what they mean (the lock's refusals,
// each bound account's).
import { spawnSync } from 'node:child_process';
import type { Applied, Firewall, Held, RefusedCounts, Verification } from './firewall.js';
import { FirewallError } from './firewall.js';
import type { NftBackendOptions } from './nft-backend.js';
import { NftBackend } from './nft-backend.js';
import { guardDifference, listTable } from './nft-guard-diff.js';
import { BLOCK_COUNTERS, bindingCounter, expectedElements, expectedShape, GUARD_TABLE_NAME, renderApplyBatch, RESET_BATCH, TABLE, TABLE_NAME } from './nft-rules.js';
import { differenceFromApplied, isLockShape } from './nft-verify.js';
import type { Policy } from './policy.js';
import { bindingKey, isEmptyPolicy } from './policy.js';

type Counters = Record<string, number>;

export class NftFirewall implements Firewall {
  readonly label = `table ${TABLE}`;
  readonly bootScriptName = 'boot.nft';
  private readonly backend: NftBackend;
  private readonly nft: string;
  /** the policy of the last successful apply (null: none, or reset) and the table text it read back */
  private applied: Policy | null = null;
  private content: string | null = null;
  /** bumped by every apply and reset: a read that straddles one says nothing about the rules now in force */
  private generation = 0;
  /** the counters as last read, counted from the last apply (NftBackend's read) */
  private last: Counters = {};
  /** what earlier applies counted, folded in when the next apply starts a new count */
  private base = { blocked: 0, blockedOutgoing: 0, perBinding: new Map<string, number>() };

  constructor(opts: NftBackendOptions) {
    this.backend = new NftBackend(opts);
    this.nft = opts.nft ?? 'nft';
  }

  async apply(policy: Policy, now: number, opts: { replace?: boolean } = {}): Promise<Applied> {
    const observed = await this.backend.apply(policy, now, opts);
    // After an apply the backend counts from our last read: fold what that read showed into the totals.
    this.fold();
    this.applied = policy;
    this.generation++;
    this.content = observed?.content ?? null;
    this.last = observed?.counters ?? {};
    const foreignChange = this.backend.replacedForeignChange ? `${this.label} was changed by another program (found while applying a change)` : null;
    return { foreignChange };
  }

  async verify(policy: Policy, now: number, opts: { deep?: boolean } = {}): Promise<Verification> {
    const generation = this.generation;
    const shape = expectedShape(policy, now);
    // Only the policy applied last has a read-back to compare with (an empty policy needs none: no table).
    if (shape !== null && policy !== this.applied) return { kind: 'superseded' };
    const content = this.content;
    const observed = await this.backend.read({ full: true });
    if (generation !== this.generation) return { kind: 'superseded' };
    this.last = observed?.counters ?? {};
    const difference = differenceFromApplied({ shape, content, elements: expectedElements(policy, now) }, observed);
    if (difference !== null) {
      return observed
        ? { kind: 'tampered', removed: false, difference: `${this.label} was changed by another program: ${difference}` }
        : { kind: 'tampered', removed: true, difference: `${this.label} was removed by another program` };
    }
    if (!observed) return { kind: 'intact', guarded: true, evidence: `no ${this.label}, as applied (nothing to enforce)` };
    const chains = Object.entries(observed.shape.chains).map(([n, c]) => `${n} ${c.rules} rules${c.policy ? ` policy ${c.policy}` : ''}`);
    const evidence = `${this.label} matches the applied policy (${chains.join(', ')})`;
    if (!opts.deep) return { kind: 'intact', guarded: observed.guarded, evidence };
    if (!observed.guarded) return { kind: 'tampered', removed: false, difference: `the guard table inet ${GUARD_TABLE_NAME} is missing` };
    // The read above listed the guard through the nft session, after its pending update: it is current.
    const [main, guard] = await Promise.all([listTable(this.nft, TABLE_NAME), listTable(this.nft, GUARD_TABLE_NAME)]);
    const differs = main && guard ? guardDifference(main, guard) : 'cannot list the tables';
    if (differs) return { kind: 'tampered', removed: false, difference: `${this.label} was changed by another program: ${differs}` };
    return { kind: 'intact', guarded: true, evidence: `${evidence}; guard table present` };
  }

  async readCounts(): Promise<RefusedCounts> {
    const observed = await this.backend.read();
    // Counters of a table we did not write (kept while the daemon's state is unreadable) are not ours to count.
    if (observed && this.applied) this.last = observed.counters;
    return this.counts();
  }

  counts(): RefusedCounts {
    const sum = (names: readonly string[]) => names.reduce((n, c) => n + (this.last[c] ?? 0), 0);
    const perBinding = new Map(this.base.perBinding);
    this.applied?.bindings.forEach((b, i) => {
      const key = bindingKey(b);
      perBinding.set(key, (perBinding.get(key) ?? 0) + (this.last[bindingCounter(i)] ?? 0));
    });
    return {
      blocked: this.base.blocked + sum(BLOCK_COUNTERS),
      blockedOutgoing: this.base.blockedOutgoing + sum(['blocked_out']),
      perBinding,
    };
  }

  private fold(): void {
    const now = this.counts();
    this.base = { blocked: now.blocked, blockedOutgoing: now.blockedOutgoing, perBinding: new Map(now.perBinding) };
    this.last = {};
  }

  async held(): Promise<Held | null> {
    const observed = await this.backend.read();
    return observed && { lock: isLockShape(observed.shape), guarded: observed.guarded };
  }

  guardCurrent(): Promise<void> {
    return this.backend.guardCurrent();
  }

  bootScript(policy: Policy, now: number): string | null {
    return isEmptyPolicy(policy) ? null : renderApplyBatch(policy, now);
  }

  async reset(): Promise<void> {
    // Before the table goes: its counts join the running totals.
    const observed = await this.backend.read().catch(() => null);
    if (observed) this.last = observed.counters;
    this.generation++;
    await this.backend.reset();
    this.fold();
    this.applied = null;
    this.content = null;
  }

  watch(onChange: (line: string) => void, onExit: (why: string) => void): void {
    this.backend.watch(onChange, onExit);
  }

  close(): void {
    this.backend.close();
  }
}

/** Removes our table (and only it) with no daemon running: uninstall, recovery. Says what it did. */
export function removeNftTable(nft = 'nft'): string {
  const r = spawnSync(nft, ['-f', '-'], { input: RESET_BATCH, encoding: 'utf8' });
  if (r.error) return `nft not available (${r.error.message}): no table to remove`;
  if (r.status !== 0) throw new FirewallError(`nft could not remove table ${TABLE}: ${r.stderr.trim()}`, 'run `nft list tables` as root to see what is there');
  return `removed firewall table ${TABLE}`;
}

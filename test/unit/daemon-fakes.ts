// Fakes for the daemon's two I/O dependencies: a firewall that records what it is asked and can be told to
// fail or to report tampering, and a state store kept in memory. The real ones are tested against a real
// kernel (test/lab) and a real directory (state-store.test.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Applied, Firewall, Held, RefusedCounts, Verification } from '../../host/src/firewall/firewall.js';
import { FirewallError } from '../../host/src/firewall/firewall.js';
import type { Policy } from '../../host/src/firewall/policy.js';
import { isEmptyPolicy } from '../../host/src/firewall/policy.js';
import type { SavedState } from '../../host/src/daemon/state-store.js';
import { StateError, StateStore } from '../../host/src/daemon/state-store.js';

export class FakeFirewall implements Firewall {
  readonly label = 'fake rules';
  readonly bootScriptName = 'boot.fake';
  /** every call in order: `apply locked`, `apply open`, `reset`, `guard` */
  calls: string[] = [];
  /** the policy the "kernel" holds now (null: none) */
  enforced: Policy | null = null;
  /** the next apply throws this many times */
  failApplies = 0;
  /** what the next verify finds (then back to comparing `enforced` with the policy) */
  nextVerify: Verification | null = null;
  /** the guard is gone (its process ended) until the next apply puts it back */
  unguarded = false;
  /** what held() reports (the unreadable-state path) */
  holding: Held | null = null;
  blocked = 0;
  watching: ((line: string) => void) | null = null;

  /** every policy applied successfully, in order */
  applied: Policy[] = [];

  /** the next apply reports that it found and rewrote someone else's change */
  nextForeignChange: string | null = null;

  /** the next apply waits for this before it takes effect (an apply in flight) */
  applyGate: Promise<void> | null = null;
  /** how many times verify was called */
  verifies = 0;

  async apply(policy: Policy, _now: number, opts: { replace?: boolean } = {}): Promise<Applied> {
    this.calls.push(`apply ${policy.kind}${opts.replace ? ' replace' : ''}`);
    const gate = this.applyGate;
    this.applyGate = null;
    if (gate) await gate;
    if (this.failApplies > 0) {
      this.failApplies--;
      throw new FirewallError('the kernel refused the batch (fake)');
    }
    this.enforced = isEmptyPolicy(policy) ? null : policy;
    this.unguarded = false;
    this.applied.push(policy);
    const foreignChange = this.nextForeignChange;
    this.nextForeignChange = null;
    return { foreignChange };
  }

  async verify(policy: Policy): Promise<Verification> {
    this.verifies++;
    const next = this.nextVerify;
    this.nextVerify = null;
    if (next) return next;
    const want = isEmptyPolicy(policy) ? null : policy;
    if (JSON.stringify(want) === JSON.stringify(this.enforced)) return { kind: 'intact', guarded: !this.unguarded, evidence: 'as applied' };
    const removed = this.enforced === null;
    return { kind: 'tampered', removed, difference: `${this.label} ${removed ? 'was removed' : 'differ'}` };
  }

  async readCounts(): Promise<RefusedCounts> {
    return this.counts();
  }

  counts(): RefusedCounts {
    return { blocked: this.blocked, blockedOutgoing: this.blocked, perBinding: new Map() };
  }

  async held(): Promise<Held | null> {
    return this.holding;
  }

  async guardCurrent(): Promise<void> {
    this.calls.push('guard');
  }

  bootScript(policy: Policy): string | null {
    return isEmptyPolicy(policy) ? null : `boot ${policy.kind}\n`;
  }

  async reset(): Promise<void> {
    this.calls.push('reset');
    this.enforced = null;
  }

  watch(onChange: (line: string) => void): void {
    this.watching = onChange;
  }

  close(): void {
    this.watching = null;
  }
}

/**
 * A real StateStore (its directory holds the history and boot files; remove it after the test) whose settings
 * live in memory. Saves are recorded in `calls` (share the firewall's to see the order).
 */
export class FakeStore extends StateStore {
  saved: SavedState | null = null;
  /** load() throws this (the unreadable-state path) */
  unreadable: string | null = null;
  /** the next save throws */
  failSaves = 0;

  constructor(private readonly calls: string[] = []) {
    super(mkdtempSync(path.join(tmpdir(), 'tunlock-fake-store-')));
  }

  override load(): SavedState | null {
    if (this.unreadable) throw new StateError(this.unreadable);
    return this.saved && structuredClone(this.saved);
  }

  override save(state: SavedState): void {
    if (this.failSaves > 0) {
      this.failSaves--;
      throw new Error('disk full (fake)');
    }
    this.calls.push('save');
    this.saved = structuredClone(state);
  }
}

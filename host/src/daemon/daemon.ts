// tunlockd's core: owns the settings, the observed tunnel links and the firewall. Every change goes through
// one serial queue, is applied to the kernel in one batch, verified, and only then saved and announced; a
// failed apply leaves the previous rules and settings in force (nothing half-applied). Fails closed: when the
// saved state cannot be read, the block stays and the error is reported until the user chooses a setting.
// This class holds the queue, the I/O and the wiring; the decisions are pure and live beside it: what a request
// changes (next-state.ts), the lock state and its policy (lock-machine.ts), what status shows (status-view.ts).
// The firewall keeps the refused counts (firewall.ts).
import type { Firewall } from '../firewall/firewall.js';
import { FirewallError } from '../firewall/firewall.js';
import type { BoundAccount, Policy } from '../firewall/policy.js';
import { isEmptyPolicy } from '../firewall/policy.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cidr } from '../net/values.js';
import type { BindTarget, DetectedTunnel, ErrorBody, Event, HistoryResult, LockState, Request, SelfTestResult, Status } from '../protocol/schema.js';
import { PROTOCOL_VERSION, ProtocolError, versionMismatch } from '../protocol/schema.js';
import { groupId, userId } from './accounts.js';
import { cgroupExists, cgroupPopulated, enterCgroup, removeIdleCgroups } from './cgroups.js';
import { authorize } from './roles.js';
import type { LockConfig } from './lock-machine.js';
import { lockState, policyFor, shownState } from './lock-machine.js';
import type { Facts, Mutation } from './next-state.js';
import { next, withLearned } from './next-state.js';
import { projectStatus } from './status-view.js';
import { detectTunnels } from './detect-tunnels.js';
import { isLinkUp, linkExists, LinkWatcher } from './link-watch.js';
import { onLinkSubnets, physicalDefaultRoute, readAddresses, resolvConfNameservers } from './network-info.js';
import type { SavedState, StateStore } from './state-store.js';
import { StateError, defaultState } from './state-store.js';
import { learnWireGuard } from './wireguard.js';
import type { WireGuardFacts } from './wireguard.js';
import { NOT_A_TUNNEL_HINT } from '../common/tunnel-hint.js';
import { linkKind, readLinkKinds, trustProblem } from './link-kind.js';
import { History } from './history.js';
import { kernelBootId, probeUsers, selfTestDeps } from './self-test-wiring.js';
import { runSelfTest } from './self-test.js';

export type Log = (message: string) => void;

/** Who sent a request, from the connection's SO_PEERCRED (peer-cred.ts). */
export interface Client {
  uid: number;
  gid: number;
  /** 0 when the peer is in a pid namespace where it has no number */
  pid: number;
  /** a handle on the connecting process itself (null: none could be taken); owned by the server */
  pidfd: number | null;
}

export interface DaemonDeps {
  firewall: Firewall;
  store: StateStore;
  log: Log;
  now?: () => number;
  /** re-verify the kernel table this often even without monitor events (ms) */
  verifyIntervalMs?: number;
  resolvConf?: string;
  /** history: bound in bytes, and how often blocked-packet counts are recorded (ms) */
  historyBytes?: number;
  historyPeriodMs?: number;
}

export class Daemon {
  private saved: SavedState = defaultState();
  private stateError: ErrorBody | null = null;
  private applyError: ErrorBody | null = null;
  private tunnelsUp = new Set<string>();
  /** configured tunnel names that exist as something else (see link-kind.ts), with the reason */
  private refused = new Map<string, string>();
  /** tunnels that are up but not configured (detect-tunnels.ts), refreshed on every link change */
  private detected: DetectedTunnel[] = [];
  /** subnets directly connected to non-tunnel interfaces: LAN = private ∩ these (see lanRangesFor) */
  private onLink: Cidr[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private applied: Policy | null = null;
  private tamper = { count: 0, last: null as string | null };
  private verifiedAt: number | null = null;
  /** a verification is running; another was asked for meanwhile */
  private verifying = false;
  private verifyAgain = false;
  /**
   * applies in flight: a check asked for meanwhile (our own apply's change events ask for one) waits for them,
   * since a read that straddles an apply is discarded anyway and would only compete with it for the CPU
   */
  private applying = 0;
  /** state unreadable and the lock the kernel held was kept (not written by us, so `applied` is null) */
  private keptLock = false;
  private captiveTimer: NodeJS.Timeout | null = null;
  private verifyTimer: NodeJS.Timeout | null = null;
  private links = new LinkWatcher();
  private listeners = new Set<(e: Event) => void>();
  /** which uid bound each `tunlock run` cgroup (members may unbind only their own) */
  private runOwners = new Map<string, number>();
  private lastStatusJson = '';
  private stopped = false;
  private readonly now: () => number;
  private readonly history: History;
  /** the last state the history recorded, when, and why the next change happens */
  private historyState: { state: LockState; at: number } | null = null;
  private cause: 'link' | 'request' | 'start' | 'expiry' = 'start';
  private tamperAtLastTest = 0;
  private blockedAtLastPeriod = 0;
  private historyTimer: NodeJS.Timeout | null = null;
  private selfTestRunning = false;

  constructor(private readonly deps: DaemonDeps) {
    this.now = deps.now ?? Date.now;
    this.history = new History(deps.store, deps.log, deps.historyBytes);
  }

  /** Loads state and enforces it in the kernel. Call before accepting any client. */
  async start(): Promise<void> {
    try {
      this.saved = this.deps.store.load() ?? defaultState();
    } catch (e) {
      if (!(e instanceof StateError)) throw e;
      await this.failClosedOnUnreadableState(e);
    }
    await this.refreshLinks();
    await this.refreshDetected();
    this.history.load();
    const last = this.history.lastState();
    if (last) this.historyState = { state: last.type as LockState, at: last.at };
    if (!this.stateError) {
      await this.noticeRulesLostWhileStopped();
      await this.enforce('start');
      this.writeBootRules();
    }
    this.links.start(
      () => this.onLinkEvent(),
      (why) => this.onWatcherExit('link', why),
    );
    this.deps.firewall.watch(
      () => this.scheduleVerify(),
      (why) => this.onWatcherExit('firewall', why),
    );
    this.verifyTimer = setInterval(() => this.scheduleVerify(), this.deps.verifyIntervalMs ?? 5000);
    this.verifyTimer.unref();
    this.historyTimer = setInterval(() => this.recordBlocked(), this.deps.historyPeriodMs ?? 3_600_000);
    this.historyTimer.unref();
    this.armCaptiveTimer();
  }

  /**
   * Same boot, saved settings that need a table, and no table: someone removed it while no daemon watched
   * (after a reboot, an absent table is normal in mode `on`). Counted and recorded as tampering.
   */
  private async noticeRulesLostWhileStopped(): Promise<void> {
    const boot = kernelBootId();
    let savedBoot: string | null = null;
    try {
      savedBoot = readFileSync(join(this.deps.store.dir, 'boot-id'), 'utf8').trim();
    } catch {
      // first start
    }
    if (boot) this.deps.store.writeAtomically('boot-id', `${boot}\n`, 0o600);
    if (!boot || savedBoot !== boot || isEmptyPolicy(this.policy())) return;
    if ((await this.deps.firewall.held().catch(() => null)) !== null) return;
    const detail = `${this.deps.firewall.label} was missing when tunlockd started (removed while it was stopped)`;
    this.recordTamper(detail, `tamper: ${detail}; re-applying`);
  }

  /** Someone else changed our rules: counted, logged, kept in the history and announced to subscribers. */
  private recordTamper(detail: string, logLine: string): void {
    this.tamper = { count: this.tamper.count + 1, last: `${new Date(this.now()).toISOString()} ${detail}` };
    this.deps.log(logLine);
    this.history.record({ at: this.now(), type: 'tamper', detail });
    this.emit({ event: 'tamper', detail, at: this.now() });
  }

  stop(): void {
    this.stopped = true;
    this.links.close();
    this.deps.firewall.close();
    if (this.captiveTimer) clearTimeout(this.captiveTimer);
    if (this.verifyTimer) clearInterval(this.verifyTimer);
    if (this.historyTimer) clearInterval(this.historyTimer);
    this.recordBlocked();
    this.history.flush();
  }

  onEvent(listener: (e: Event) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ── fail closed ────────────────────────────────────────────────────────────────────────────────────

  private async failClosedOnUnreadableState(e: StateError): Promise<void> {
    this.stateError = {
      code: 'state_unreadable',
      message: `${e.message}; the network stays blocked`,
      hint: `choose a setting (tunlock lock on|always|off) to start from a clean state, or repair ${this.deps.store.file}`,
    };
    this.deps.log(`state unreadable: ${e.message}`);
    this.saved = { ...defaultState(), config: { ...defaultState().config, mode: 'always', allowLan: false } };
    await this.holdOrBlock();
  }

  /**
   * State unreadable: keep the lock the kernel holds — only if it is one (input, output and forward drop by
   * default), guarded like our own — else install the full block (nothing out but loopback). What status
   * reports follows from this read of the kernel, never from an assumption.
   */
  private async holdOrBlock(): Promise<void> {
    const existing = await this.deps.firewall.held().catch(() => null);
    if (existing?.lock) {
      try {
        await this.deps.firewall.guardCurrent();
        this.keptLock = true;
        this.deps.log('state unreadable: keeping the lock already in the kernel (guarded)');
        return;
      } catch (e) {
        this.deps.log(`state unreadable: cannot guard the kept lock (${(e as Error).message}); replacing it with the full block`);
      }
    } else if (existing) {
      this.deps.log('state unreadable: the table in the kernel is not a lock (it lets unmatched traffic out); installing the full block');
    }
    this.keptLock = false;
    await this.applyPolicy(this.policy(), 'state unreadable: full block');
    this.deps.log('state unreadable: installed the full block');
  }

  // ── the serial queue: one change at a time, in order ─────────────────────────────────────────────────

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private observations() {
    return { tunnelsUp: this.tunnelsUp, refused: this.refused, onLink: this.onLink, captive: this.saved.captive, now: this.now() };
  }

  private policy(config: LockConfig = this.saved.config, captive = this.saved.captive, bindings = this.saved.bindings): Policy {
    return policyFor(config, { ...this.observations(), captive }, this.resolveBindings(bindings));
  }

  private resolveBindings(targets: BindTarget[]): BoundAccount[] {
    const out: BoundAccount[] = [];
    for (const t of targets) {
      if (t.kind === 'user') {
        const uid = userId(t.name);
        if (uid !== null) out.push({ kind: 'user', uid });
      } else if (t.kind === 'group') {
        const gid = groupId(t.name);
        if (gid !== null) out.push({ kind: 'group', gid });
      } else if (cgroupExists(t.name)) {
        // A cgroup that no longer exists (after a reboot) matches nothing; nft could not even name it.
        out.push({ kind: 'cgroup', path: `tunlock/${t.name}` });
      }
    }
    return out;
  }

  /** Applies the policy for `next` to the kernel; on success adopts and saves it. On failure nothing changes. */
  private async commit(next: SavedState, why: string): Promise<void> {
    const before = this.saved;
    const policy = this.policy(next.config, next.captive, next.bindings);
    await this.applyPolicy(policy, why);
    try {
      this.deps.store.save(next);
    } catch (e) {
      // Roll the kernel back so rules and saved settings never disagree.
      await this.applyPolicy(this.policy(before.config, before.captive, before.bindings), `rollback of ${why}`).catch(
        (rollback: Error) => this.deps.log(`rollback failed: ${rollback.message}`),
      );
      throw new ProtocolError('internal', `cannot save settings: ${(e as Error).message}`, 'check the state directory');
    }
    this.saved = next;
    this.stateError = null;
    this.keptLock = false;
    this.writeBootRules();
    this.armCaptiveTimer();
    this.announce();
  }

  /** `replace`: the kernel's table differs from what we applied (tampering): rewrite all of it. */
  private async applyPolicy(policy: Policy, why: string, opts: { replace?: boolean } = {}): Promise<void> {
    const started = this.now();
    this.applying++;
    try {
      const { foreignChange } = await this.deps.firewall.apply(policy, this.now(), opts);
      this.applied = policy;
      this.applyError = null;
      this.verifiedAt = this.now();
      this.deps.log(`applied (${why}): ${policy.kind === 'locked' ? 'locked' : 'unlocked'}, ${policy.bindings.length} bindings, ${this.now() - started} ms`);
      // The apply repaired it before any check could read it: without this, nobody would learn of it.
      if (foreignChange) this.recordTamper(foreignChange, `tamper: ${foreignChange}; rewritten by the apply (${why})`);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.applyError = {
        code: 'firewall_failed',
        message: `could not apply the rules (${why}): ${message}`,
        hint: (e instanceof FirewallError && e.hint) || 'the previous rules stay in force; run `tunlock doctor`',
      };
      this.deps.log(this.applyError.message);
      this.announce();
      throw new ProtocolError('firewall_failed', this.applyError.message, this.applyError.hint);
    } finally {
      this.applying--;
      // After the answer has gone out (setImmediate): the check compares with what this apply wrote.
      if (this.applying === 0 && this.verifyAgain && !this.verifying) {
        this.verifyAgain = false;
        setImmediate(() => this.scheduleVerify());
      }
    }
  }

  private async enforce(why: string): Promise<void> {
    await this.applyPolicy(this.policy(), why);
    this.announce();
  }

  // ── live observations: tunnel links, tampering, captive expiry ───────────────────────────────────────

  /**
   * Re-reads which configured tunnels are up, and re-checks that each one that exists is a tunnel: a name that
   * appears as a physical link is refused (never allowed out) until it is a tunnel again.
   */
  private async refreshLinks(config: LockConfig = this.saved.config): Promise<{ cameUp: string[]; changed: boolean }> {
    // One link event costs two `ip` runs; in parallel, so a tunnel drop reaches the status no later.
    const [kinds, addresses] = await Promise.all([readLinkKinds(), readAddresses()]);
    const refused = new Map<string, string>();
    for (const { iface } of config.tunnels) {
      const problem = trustProblem(iface, kinds, linkExists(iface));
      if (problem) refused.set(iface, problem);
    }
    const next = new Set(config.tunnels.map((t) => t.iface).filter((i) => !refused.has(i) && isLinkUp(i)));
    const cameUp = [...next].filter((i) => !this.tunnelsUp.has(i));
    // What a tunnel's address covers is not the LAN. Unknown kinds: at least the configured tunnels.
    const tunnelLinks = new Set([...(kinds ?? []).filter((k) => k.tunnel).map((k) => k.iface), ...next]);
    const onLink = parseOnLink(addresses, tunnelLinks) ?? this.onLink;
    const changed =
      cameUp.length > 0 ||
      [...this.tunnelsUp].some((i) => !next.has(i)) ||
      JSON.stringify([...refused]) !== JSON.stringify([...this.refused]) ||
      JSON.stringify(onLink) !== JSON.stringify(this.onLink);
    this.onLink = onLink;
    for (const [iface, why] of refused) if (this.refused.get(iface) !== why) this.deps.log(`refused as a tunnel: ${why}`);
    this.tunnelsUp = next;
    this.refused = refused;
    return { cameUp, changed };
  }

  private onLinkEvent(): void {
    void this.serial(async () => {
      this.cause = 'link';
      const { cameUp, changed } = await this.refreshLinks();
      if (changed) {
        this.deps.log(`tunnels up: [${[...this.tunnelsUp].join(', ')}]`);
        if (cameUp.length) await this.onTunnelsUp(cameUp);
        await this.enforceIfPolicyChanged('link change');
      }
      // Detected tunnels only inform the status: looked up once the rules are in force, so a drop is not delayed.
      if (await this.refreshDetected()) this.announce();
    }).catch((e: Error) => this.deps.log(`link change: ${e.message}`));
  }

  /** Re-reads the tunnels that are up but not configured; true when the list changed. */
  private async refreshDetected(): Promise<boolean> {
    const next = await detectTunnels(this.saved.config.tunnels.map((t) => t.iface)).catch((e: Error) => {
      this.deps.log(`tunnel detection failed: ${e.message}`);
      return [];
    });
    const changed = JSON.stringify(next) !== JSON.stringify(this.detected);
    this.detected = next;
    return changed;
  }

  /** A tunnel came up: the deliberate disconnect is over, the captive hole closes, endpoints are learned. */
  private async onTunnelsUp(ifaces: string[]): Promise<void> {
    let next: SavedState = { ...this.saved, config: { ...this.saved.config, deliberateDisconnect: false }, captive: null };
    for (const iface of ifaces) next = withLearned(next, iface, { wireGuard: new Map([[iface, await learnWireGuard(iface)]]) });
    if (JSON.stringify(next) !== JSON.stringify(this.saved)) await this.commit(next, 'tunnel up');
  }

  private async enforceIfPolicyChanged(why: string): Promise<void> {
    const policy = this.policy();
    if (this.applied && JSON.stringify(policy) === JSON.stringify(this.applied)) {
      this.announce();
      return;
    }
    await this.enforce(why);
  }

  /** A `tunlock run` whose processes have all exited is unbound and its cgroup removed. */
  private async releaseFinishedRuns(): Promise<void> {
    const finished = this.saved.bindings.filter((b) => b.kind === 'cgroup' && !cgroupPopulated(b.name));
    if (finished.length) {
      await this.commit({ ...this.saved, bindings: this.saved.bindings.filter((b) => !finished.includes(b)) }, 'runs finished');
    }
    removeIdleCgroups(new Set(this.saved.bindings.filter((b) => b.kind === 'cgroup').map((b) => b.name)));
  }

  /**
   * Periodic and event-driven verification. The kernel read (a full listing, the slow part) runs beside the
   * request queue, never in it: the kernel answers a listing atomically, and a read that straddled an apply is
   * discarded (the firewall reports it superseded). Only a finding — tampering, a lost guard, a finished `tunlock run` — takes a
   * place in the queue, where it is checked again before anything is changed.
   */
  private scheduleVerify(): void {
    if (this.stopped) return;
    if (this.verifying || this.applying > 0) {
      this.verifyAgain = true;
      return;
    }
    this.verifying = true;
    this.verifyOnce()
      .catch((e: Error) => this.deps.log(`verify: ${e.message}`))
      .finally(() => {
        this.verifying = false;
        if (this.verifyAgain) {
          this.verifyAgain = false;
          this.scheduleVerify();
        }
      });
  }

  private async verifyOnce(): Promise<void> {
    const applied = this.applied;
    if (applied && !this.stateError) {
      const found = await this.deps.firewall.verify(applied, this.now()).catch(() => undefined);
      if (found?.kind === 'intact' && found.guarded) {
        this.verifiedAt = this.now();
        const runs = this.saved.bindings.filter((b) => b.kind === 'cgroup');
        if (!runs.some((b) => !cgroupPopulated(b.name))) {
          removeIdleCgroups(new Set(runs.map((b) => b.name)));
          return;
        }
      }
    }
    await this.serial(async () => {
      await this.verify();
      if (!this.stateError) await this.releaseFinishedRuns();
    });
  }

  /** Reads the kernel table; if it is not what we applied, someone tampered: re-assert at once. */
  private async verify(): Promise<void> {
    if (!this.applied) {
      // State unreadable and we kept the lock we found: if it is removed, weakened or loses its guard, the
      // full block goes in.
      if (this.stateError && this.keptLock) {
        const held = await this.deps.firewall.held().catch(() => null);
        if (held?.lock && held.guarded) return;
        this.tamper = { count: this.tamper.count + 1, last: `${new Date(this.now()).toISOString()} kept lock removed or changed while the state was unreadable` };
        this.keptLock = false;
        await this.applyPolicy(this.policy(), 'state unreadable, kept lock changed');
        this.announce();
      }
      return;
    }
    const found = await this.deps.firewall.verify(this.applied, this.now()).catch((e: Error) => {
      this.deps.log(`verify read failed: ${e.message}`);
      return undefined;
    });
    if (found === undefined || found.kind === 'superseded') return;
    if (found.kind === 'intact') {
      this.verifiedAt = this.now();
      // The guard lives with the firewall's own process; if that ended, put it back.
      if (!found.guarded) await this.applyPolicy(this.policy(), 'guard restored');
      return;
    }
    const detail = found.removed ? found.difference : `${this.deps.firewall.label} was modified by another program`;
    this.recordTamper(detail, `tamper: ${found.difference}; re-applying`);
    await this.applyPolicy(this.policy(), 'tamper', { replace: true });
    this.announce();
  }

  private armCaptiveTimer(): void {
    if (this.captiveTimer) clearTimeout(this.captiveTimer);
    this.captiveTimer = null;
    const hole = this.saved.captive;
    if (!hole) return;
    // The kernel closes the hole by itself (set element timeout); this timer only updates our state.
    this.captiveTimer = setTimeout(() => {
      void this.serial(async () => {
        if (this.saved.captive !== hole) return;
        this.cause = 'expiry';
        this.deps.log('captive exception expired');
        await this.commit({ ...this.saved, captive: null }, 'captive expired');
      }).catch((e: Error) => this.deps.log(`captive expiry: ${e.message}`));
    }, Math.max(0, hole.expiresAt - this.now()) + 50);
    this.captiveTimer.unref();
  }

  private onWatcherExit(which: 'link' | 'firewall', why: string): void {
    if (this.stopped) return;
    this.deps.log(`${which} watcher stopped: ${why}; restarting`);
    setTimeout(() => {
      if (this.stopped) return;
      if (which === 'link') this.links.start(() => this.onLinkEvent(), (w) => this.onWatcherExit('link', w));
      else this.deps.firewall.watch(() => this.scheduleVerify(), (w) => this.onWatcherExit('firewall', w));
      this.onLinkEvent();
      this.scheduleVerify();
    }, 200).unref();
  }

  // ── status and events ───────────────────────────────────────────────────────────────────────────────

  status(): Status {
    return projectStatus({
      saved: this.saved,
      obs: this.observations(),
      stateError: this.stateError,
      applyError: this.applyError,
      enforced: this.keptLock || this.applied !== null,
      detected: this.detected,
      accounts: this.saved.bindings.map((target) => this.resolveBindings([target])[0]),
      counts: this.deps.firewall.counts(),
      tamper: this.tamper,
      verifiedAt: this.verifiedAt,
    });
  }

  private emit(e: Event): void {
    for (const l of this.listeners) l(e);
  }

  /** Pushes a status event when anything a client shows has changed. */
  private announce(): void {
    const status = this.status();
    this.recordState(status);
    const { verifiedAt: _v, blockedPackets: _b, ...shown } = status;
    const json = JSON.stringify(shown);
    if (json === this.lastStatusJson) return;
    this.lastStatusJson = json;
    this.emit({ event: 'status', status });
  }

  /**
   * What the early-boot unit loads (no Node at that point; the firewall's bootScript): in mode `always` the lock with
   * no tunnel up, plus user and group bindings (cgroups do not survive a reboot). null: nothing to load.
   */
  bootRules(): string | null {
    const config = this.saved.config.mode === 'always' ? this.saved.config : { ...this.saved.config, mode: 'off' as const };
    const lasting = this.saved.bindings.filter((b) => b.kind !== 'cgroup');
    const policy = policyFor(config, { ...this.observations(), tunnelsUp: new Set(), captive: null }, this.resolveBindings(lasting));
    return this.deps.firewall.bootScript(policy, this.now());
  }

  // ── history and self-test ──────────────────────────────────────────────────────────────────────────

  private recordState(status: Status): void {
    const prev = this.historyState;
    if (prev?.state === status.state) return;
    const at = this.now();
    const hole = status.state === 'exception' ? status.captive : null;
    this.history.record({
      at,
      type: status.state,
      cause: this.cause,
      ...(prev ? { previous: { state: prev.state, ms: Math.max(0, at - prev.at) } } : {}),
      ...(hole ? { uid: hole.uid, seconds: hole.secondsLeft } : {}),
    });
    this.historyState = { state: status.state, at };
  }

  private recordBlocked(): void {
    const total = this.status().blockedPackets;
    const packets = total - this.blockedAtLastPeriod;
    this.blockedAtLastPeriod = total;
    if (packets > 0) this.history.record({ at: this.now(), type: 'blocked', packets, periodMs: this.deps.historyPeriodMs ?? 3_600_000 });
  }

  /** The self-test, in the queue so no change lands between its counter reads. */
  private async selfTest(client: Client): Promise<SelfTestResult> {
    const state = shownState(this.saved.config, this.observations(), this.stateError ? { enforced: this.keptLock || this.applied !== null } : null);
    const lock = this.applied?.kind === 'locked' ? this.applied : null;
    const tamperSince = this.tamper.count - this.tamperAtLastTest;
    const tamperText = tamperSince > 0 ? `${tamperSince} change${tamperSince === 1 ? '' : 's'} by another program since the last test, re-asserted; last: ${this.tamper.last}` : null;
    const { user, nobody } = probeUsers(client);
    /** what the kernel check found changed: repaired like any tampering, once the probes are done */
    let tampered: string | null = null;
    const result = await runSelfTest(
      {
        state,
        tunnels: this.saved.config.tunnels.map((t) => t.iface),
        tunnelsUp: [...this.tunnelsUp],
        endpoints: (lock?.endpoints ?? []).map((e) => e.endpoint),
        resolvers: resolvConfNameservers(this.deps.resolvConf),
        captiveUid: state === 'exception' ? (this.saved.captive?.uid ?? null) : null,
        user,
        nobody,
      },
      selfTestDeps({
        now: this.now,
        kernel: async () => {
          const found = (what: string) => {
            tampered = what;
            return { ok: false, evidence: `${what}; tunlockd re-applied its rules after this test` };
          };
          if (!this.applied) return found('the kernel holds rules tunlockd did not apply (its saved state is unreadable)');
          const v = await this.deps.firewall.verify(this.applied, this.now(), { deep: true });
          if (v.kind === 'superseded') return found('the rules tunlockd applied changed during the test');
          if (v.kind === 'tampered') return found(v.difference);
          if (tamperText) return { ok: false, evidence: tamperText };
          return { ok: true, evidence: `${v.evidence}; no change by another program since the last test` };
        },
        blockedOut: async () => (await this.deps.firewall.readCounts()).blockedOutgoing,
      }),
    );
    if (tampered) {
      const detail = `${tampered} (found by the self-test)`.slice(0, 500);
      this.recordTamper(detail, `tamper: ${detail}; re-applying`);
      await this.applyPolicy(this.policy(), 'tamper found by the self-test', { replace: true });
      this.announce();
    }
    this.tamperAtLastTest = this.tamper.count;
    const failed = result.checks.filter((c) => !c.ok).map((c) => c.name);
    this.history.record({ at: this.now(), type: 'test', ok: result.ok, passed: result.checks.length - failed.length, total: result.checks.length, failed });
    return result;
  }

  // ── requests ────────────────────────────────────────────────────────────────────────────────────────

  /** Handles one validated request from an authenticated client. Throws ProtocolError for the client. */
  async handle(req: Request, client: Client): Promise<Status | { version: number; server: 'tunlockd' } | SelfTestResult | HistoryResult | Record<string, never>> {
    authorize(req, client);
    switch (req.type) {
      case 'selfTest': {
        // One at a time: a test holds the queue for about a second, so a client repeating it cannot keep
        // other clients' changes waiting longer than one test.
        if (this.selfTestRunning) throw new ProtocolError('conflict', 'a self-test is already running', 'wait for its result, then test again');
        this.selfTestRunning = true;
        return this.serial(() => this.selfTest(client)).finally(() => (this.selfTestRunning = false));
      }
      case 'history':
        return Promise.resolve({ events: this.history.events() });
      case 'hello':
        if (req.version !== PROTOCOL_VERSION) throw versionMismatch('tunlockd', PROTOCOL_VERSION, req.client, req.version);
        return { version: PROTOCOL_VERSION, server: 'tunlockd' as const };
      case 'status':
      case 'subscribe':
        // Live counters, so "blocked N packets" is current; in the queue, so it never reads mid-apply.
        return this.serial(async () => {
          await this.deps.firewall.readCounts().catch(() => undefined);
          return this.status();
        });
      default:
        return this.serial(async () => {
          this.cause = 'request';
          await this.mutate(req, client);
          return this.status();
        });
    }
  }

  /** The boot script exists exactly when there is something to enforce from early boot (the unit checks for it). */
  private writeBootRules(): void {
    try {
      const rules = this.bootRules();
      const name = this.deps.firewall.bootScriptName;
      if (rules === null) this.deps.store.remove(name);
      else this.deps.store.writeAtomically(name, rules, 0o600);
    } catch (e) {
      this.deps.log(`cannot write boot rules: ${(e as Error).message}`);
    }
  }

  /** One settings change: gather the facts it needs, decide (next-state.ts), then apply, save and announce. */
  private async mutate(req: Mutation | Extract<Request, { type: 'reset' }>, client: Client): Promise<void> {
    if (req.type === 'reset') return this.reset();
    const change = next(this.saved, req, await this.gather(req, client));
    if (change.kind === 'none') return;
    if (change.note) this.deps.log(change.note);
    if (change.enterCgroup) {
      enterCgroup(change.enterCgroup, client.pid, client.pidfd!);
      this.runOwners.set(change.enterCgroup, client.uid);
    }
    if (req.type === 'bindRemove') this.runOwners.delete(req.target.name);
    // A tunnel added, adopted, reported up or removed: which configured tunnels are up is read again first.
    const tunnels = (st: SavedState) => st.config.tunnels.map((t) => t.iface).join();
    if (req.type === 'tunnelUp' || req.type === 'tunnelAdd' || tunnels(change.state) !== tunnels(this.saved)) await this.refreshLinks(change.state.config);
    await this.commit(change.state, change.why);
  }

  /** The facts `req` needs (next-state.ts), read from the system now. */
  private async gather(req: Mutation, client: Client): Promise<Facts> {
    const obs = this.observations();
    const wireGuard = new Map<string, WireGuardFacts | null>();
    const facts: Facts = {
      now: obs.now,
      client,
      stateError: this.stateError,
      state: lockState(this.saved.config, obs),
      detected: [],
      wireGuard,
      route: null,
      resolvers: [],
      endpointUid: null,
      account: null,
      runOwner: undefined,
    };
    // With the state unreadable only a new mode is decided (next refuses the rest): nothing to read.
    if (this.stateError && req.type !== 'setMode') return facts;
    const learn = async (iface: string) => void wireGuard.set(iface, await learnWireGuard(iface));
    const detect = async () => {
      await this.refreshDetected();
      facts.detected = this.detected;
    };
    switch (req.type) {
      case 'setMode': {
        const base = this.stateError ? defaultState() : this.saved;
        if (req.mode === 'off' || base.config.tunnels.length > 0) break;
        await detect();
        if (facts.detected.length === 1) await learn(facts.detected[0]!.iface);
        break;
      }
      case 'tunnelAdd':
        await assertTunnel(req.iface);
        if (req.endpointUser !== undefined) facts.endpointUid = userId(req.endpointUser);
        if (isLinkUp(req.iface)) await learn(req.iface);
        break;
      case 'tunnelAdopt':
        if (this.saved.config.tunnels.some((t) => t.iface === req.iface)) break;
        await detect();
        if (facts.detected.some((d) => d.iface === req.iface)) await learn(req.iface);
        break;
      case 'tunnelUp':
        await assertTunnel(req.iface);
        await learn(req.iface);
        break;
      case 'captiveOpen':
        facts.route = await physicalDefaultRoute(this.saved.config.tunnels.map((t) => t.iface));
        facts.resolvers = resolvConfNameservers(this.deps.resolvConf);
        break;
      case 'bindAdd':
        facts.account = this.resolveBindings([req.target])[0] ?? null;
        break;
      case 'bindRemove':
        facts.runOwner = this.runOwners.get(req.target.name);
        break;
    }
    return facts;
  }

  /** Removes our rules and the saved settings: back to a fresh install (also the way out of an unreadable state). */
  private async reset(): Promise<void> {
    await this.deps.firewall.reset();
    this.applied = this.policy(defaultState().config, null, []);
    this.stateError = null;
    this.keptLock = false;
    this.applyError = null;
    this.deps.store.save(defaultState());
    this.saved = defaultState();
    this.writeBootRules();
    this.armCaptiveTimer();
    this.deps.log(`reset: removed ${this.deps.firewall.label} and the saved settings`);
    this.announce();
  }
}

/** The directly connected subnets from an `ip -j addr show` listing; null when there is none to read. */
function parseOnLink(addresses: string | null, tunnels: ReadonlySet<string>): Cidr[] | null {
  if (addresses === null) return null;
  try {
    return onLinkSubnets(addresses, tunnels);
  } catch {
    return null;
  }
}

/** Refuses an existing link that is not a tunnel (a name that does not exist yet may be configured). */
async function assertTunnel(iface: string): Promise<void> {
  const kind = await linkKind(iface);
  if (kind === 'unknown') {
    throw new ProtocolError('internal', `cannot tell what kind of link ${iface} is (\`ip -d -j link show\` failed)`, 'check that iproute2 is installed (apt-get install iproute2)');
  }
  if (kind && !kind.tunnel) throw new ProtocolError('invalid_value', `${iface} is not a VPN tunnel: ${kind.reason}`, NOT_A_TUNNEL_HINT);
}

// The Linux backend's kernel side (nft-firewall.ts puts the Firewall interface on it). Every change is one
// atomic batch through a long-lived nft session (nft-session.ts):
// the main table `inet tunlock`, then its guard `inet tunlock_guard` (see GUARD_TABLE in nft-rules.ts), each
// checked against what was asked. A change of set elements, rules, regular chains or counters happens in
// place (nft-plan.ts); a change of base chains or set declarations replaces the table. After a replace or a
// change of rules the table is read back as one terse `list ruleset` as text (nft-text.ts; no set elements:
// nft then fetches none from the kernel, ~1 ms however large the sets; `list table` fetches them all even when
// terse); after an element change the read-back must still show the contents our last apply read back (the
// kernel acknowledged the elements with the batch). The periodic tamper check reads everything, elements
// included, with a separate `nft`. A `nft monitor` process wakes the daemon on any ruleset change. Touches no
// table but ours.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FirewallError } from './firewall.js';
import type { Observed } from './nft-verify.js';
import { sameShape } from './nft-verify.js';
import type { Policy } from './policy.js';
import type { TableId, TableModel, TableShape } from './nft-rules.js';
import { GUARD_TABLE, GUARD_TABLE_NAME, MAIN_TABLE, RESET_BATCH, TABLE_FAMILY, TABLE_NAME, guardModel, modelShape, normalizeElement, renderReplaceBatch, tableModel } from './nft-rules.js';
import type { Plan } from './nft-plan.js';
import { planUpdate, renderElementBatch, renderRuleBatch } from './nft-plan.js';
import { NFT_TIMEOUT_MS, NftSession } from './nft-session.js';
import { observeText } from './nft-text.js';
import { guardShare } from './nft-guard-diff.js';
import { spawnTied, stopTied } from '../process/spawn-tied.js';

function runOnce(nft: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(nft, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new FirewallError(`nft ${args.join(' ')} did not answer within ${timeoutMs} ms (killed)`));
    }, timeoutMs);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new FirewallError(`cannot run ${nft}: ${e.message}`, 'install nftables (apt-get install nftables)'));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

const MISSING = /No such file or directory/i;

type NftObject = Record<string, Record<string, unknown>>;

/** A JSON set element (string, number, prefix, concatenation, element with timeout, range) as text. */
function elementText(e: unknown): string {
  if (typeof e === 'string' || typeof e === 'number') return String(e);
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    if (o['elem'] && typeof o['elem'] === 'object') return elementText((o['elem'] as Record<string, unknown>)['val']);
    if (o['prefix'] && typeof o['prefix'] === 'object') {
      const p = o['prefix'] as Record<string, unknown>;
      return `${elementText(p['addr'])}/${elementText(p['len'])}`;
    }
    if (Array.isArray(o['concat'])) return o['concat'].map(elementText).join(' . ');
    if (Array.isArray(o['range'])) return o['range'].map(elementText).join('-');
  }
  // Something we never write: kept verbatim, so it can only ever compare as different.
  return JSON.stringify(e);
}

/**
 * Turns `nft -j list table inet <table>` output into what we verify and count, set elements included. Its
 * `content` is empty: the canonical contents come from the terse text listing (observeText), which read()
 * always takes too.
 */
export function observeJson(json: string, table = TABLE_NAME, terse = false): Observed {
  const parsed = JSON.parse(json) as { nftables?: NftObject[] };
  const shape: TableShape = { chains: {}, sets: {}, counters: [] };
  let found = false;
  const counters: Record<string, number> = {};
  const elements: Record<string, string[]> = {};
  for (const item of parsed.nftables ?? []) {
    const [kind, v] = Object.entries(item)[0] ?? [];
    if (kind === 'table' && v?.['name'] === table && v['family'] === TABLE_FAMILY) found = true;
    if (!kind || !v || v['table'] !== table || v['family'] !== TABLE_FAMILY) continue;
    const name = String(v['name'] ?? v['chain']);
    if (kind === 'chain') {
      const policy = v['policy'] === 'accept' || v['policy'] === 'drop' ? v['policy'] : null;
      shape.chains[name] = { policy, rules: shape.chains[name]?.rules ?? 0 };
    } else if (kind === 'rule') {
      const chain = shape.chains[name] ?? { policy: null, rules: 0 };
      chain.rules += 1;
      shape.chains[name] = chain;
    } else if (kind === 'set') {
      const elem = Array.isArray(v['elem']) ? v['elem'] : [];
      shape.sets[name] = terse ? null : elem.length;
      elements[name] = elem.map((e) => normalizeElement(elementText(e))).sort();
    } else if (kind === 'counter') {
      shape.counters.push(name);
      counters[name] = Number(v['packets'] ?? 0);
    }
  }
  return { shape, counters, guarded: false, found, content: '', elements: terse ? null : elements };
}

export interface NftBackendOptions {
  /** the nft binary; tests may point at a wrapper */
  nft?: string;
  /** a private directory for batch files (the daemon passes its state directory) */
  workDir: string;
  /** problems that do not stop the main table from being enforced (the guard could not be updated) */
  warn?: (message: string) => void;
  /** every nft child is killed when it does not answer within this (default NFT_TIMEOUT_MS) */
  timeoutMs?: number;
  /** the nft session is renewed once it has been sent this many lines (default SESSION_LINES) */
  sessionLines?: number;
}

type Counters = Record<string, number>;

/**
 * nft keeps every line of its session in memory (nft-session.ts), ~100 bytes each: at 20,000 lines (~2 MB; an
 * idle daemon's checks send that in about nine hours) the session is renewed.
 */
export const SESSION_LINES = 20_000;

function found(o: Observed): Observed | null {
  return o.found ? o : null;
}

/** `counters` minus `listed`: the same count once a table whose counters showed `listed` restarts at zero. */
function shift(counters: Counters, listed: Counters): Counters {
  const out: Counters = { ...counters };
  for (const [name, packets] of Object.entries(listed)) out[name] = (out[name] ?? 0) - packets;
  return out;
}
type Which = 'main' | 'guard';

/** What we know a table holds: its model (null: absent), or undefined when unknown (the next apply replaces it). */
type Known = TableModel | null | undefined;

export class NftBackend {
  private readonly nft: string;
  private readonly warn: (message: string) => void;
  private readonly workDir: string;
  private readonly timeoutMs: number;
  private readonly sessionLines: number;
  private readonly session: NftSession;
  private monitor: ChildProcess | null = null;
  private onChange: ((line: string) => void) | null = null;
  private known: Record<Which, Known> = { main: undefined, guard: undefined };
  /**
   * The guard update the last apply left behind (it never rejects). apply, read, reset and guardCurrent wait
   * for it first, so nothing of ours runs between the two tables' updates except the main table's read-back.
   */
  private trailing: Promise<void> = Promise.resolve();
  private closed = false;
  /** the last apply found our table changed by another program and rewrote it (NftFirewall reports it) */
  replacedForeignChange = false;
  /**
   * The main table's contents (Observed.content) as read back after our last apply; null when unknown. Element
   * changes leave them as they are, so a difference after one is someone else's edit.
   */
  private verified: string | null = null;
  /**
   * Counters, per table, in the kernel's numbers: `raw` as last listed, `seen` as last reported by read(),
   * `base` the values reported as zero. Each apply starts a new count from `seen` for both tables at once (see
   * Firewall.apply). A table changed in place keeps counting; when one is replaced the kernel restarts at zero,
   * and base and seen shift by the last listed values so the count goes on where it was.
   */
  private raw: Record<Which, Counters> = { main: {}, guard: {} };
  private seen: Record<Which, Counters> = { main: {}, guard: {} };
  private base: Record<Which, Counters> = { main: {}, guard: {} };

  constructor(opts: NftBackendOptions) {
    this.nft = opts.nft ?? 'nft';
    this.warn = opts.warn ?? (() => undefined);
    this.workDir = opts.workDir;
    this.timeoutMs = opts.timeoutMs ?? NFT_TIMEOUT_MS;
    this.sessionLines = opts.sessionLines ?? SESSION_LINES;
    // The path goes into an `include "..."` line.
    if (/["\n\r\\]/.test(this.workDir)) throw new FirewallError(`unusable directory name for nft batches: ${JSON.stringify(this.workDir)}`);
    mkdirSync(this.workDir, { recursive: true, mode: 0o700 });
    // A lost session takes the guard with it: a change event makes the daemon verify and restore it.
    this.session = new NftSession(
      this.nft,
      (why) => {
        this.known.guard = undefined;
        this.warn(why);
        this.onChange?.(why);
      },
      this.timeoutMs,
    );
  }

  /**
   * A batch by file, also a small one: `nft -i` keeps every distinct input line in its line editor's history
   * (in memory for the session's life, then in $HOME/.nft.history), and an `include` line repeats.
   */
  private async include(name: string, batch: string): Promise<void> {
    const file = join(this.workDir, name);
    writeFileSync(file, batch, { mode: 0o600 });
    await this.session.run(`include "${file}"`, false);
  }

  /**
   * Brings one table from what we know it holds to `next`: in place when only set elements, rules, regular
   * chains or counters differ (nft-plan.ts), otherwise (or when that fails, or `replace`) the whole table in
   * one batch. Returns the plan carried out.
   */
  private async update(which: Which, table: TableId, next: TableModel | null, replace: boolean): Promise<Plan> {
    const known = this.known[which];
    const plan: Plan = replace || known === undefined ? { kind: 'replace', why: 'state unknown' } : planUpdate(known, next);
    // Anything but a completed update leaves the table's content unknown: the next apply replaces it.
    this.known[which] = undefined;
    if (plan.kind !== 'replace') {
      const batch = plan.kind === 'elements' ? renderElementBatch(plan.changes, table) : renderRuleBatch(plan.rules, plan.changes, table);
      try {
        if (batch) await this.include(`${which}-update.nft`, batch);
        // A counter created or deleted in place starts again at zero; the others keep counting.
        if (plan.kind === 'rules') this.forget(which, [...plan.rules.addCounters, ...plan.rules.removeCounters]);
        this.known[which] = next;
        return plan;
      } catch (e) {
        // e.g. someone removed an element we would delete: the kernel refused the whole batch, nothing changed.
        this.warn(`changing ${table.name} in place failed, replacing it: ${(e as Error).message}`);
      }
    }
    // The counters just before the replace (they restart at zero), queued back to back with it in the
    // session, so that nothing else runs between them. A table we know is absent has none to read (lock on).
    const listed = known === null ? undefined : this.list().catch(() => undefined);
    const replaced = this.include(`${which}.nft`, renderReplaceBatch(next, table));
    // Both awaited at once: a refused replace must not go unhandled while the listing is still on its way.
    await Promise.all([listed, replaced]);
    const before = this.raw[which];
    this.base[which] = shift(this.base[which], before);
    this.seen[which] = shift(this.seen[which], before);
    this.raw[which] = {};
    this.known[which] = next;
    return { kind: 'replace', why: plan.kind === 'replace' ? plan.why : 'in-place change refused' };
  }

  private forget(which: Which, counters: string[]): void {
    for (const name of counters) {
      delete this.raw[which][name];
      delete this.seen[which][name];
      delete this.base[which][name];
    }
  }

  /**
   * `replace`: the caller found the kernel's table differs from what was applied (tampering): rewrite it whole
   * instead of trusting the last applied state.
   */
  async apply(policy: Policy, now: number, opts: { replace?: boolean } = {}): Promise<Observed | null> {
    await this.trailing;
    const next = tableModel(policy, now);
    const replace = opts.replace ?? false;
    this.replacedForeignChange = false;
    let observed = await this.applyMain(next, replace);
    if (observed === undefined) {
      // Someone else changed our table since our last read-back: what they did is no baseline. Rewrite it.
      this.warn(`table ${TABLE_FAMILY} ${TABLE_NAME} was changed by another program; replacing it`);
      this.replacedForeignChange = true;
      observed = (await this.applyMain(next, true)) ?? null;
    }
    // The main table is in force. The guard follows without delaying the answer: it only covers the moments
    // after someone else flushes the main table, and while it lags a packet must pass both tables, so the
    // stricter of old and new applies. Even its planning waits until the caller has its answer (a macrotask
    // later); every later operation of ours waits for it (trailing).
    this.trailing = this.updateGuard(next, replace);
    return observed;
  }

  private async updateGuard(main: TableModel | null, replace: boolean): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    // Closed meanwhile: a command now would start a new session that nobody ends.
    if (this.closed) return;
    try {
      if (main === null) await this.dropGuard();
      else await this.update('guard', GUARD_TABLE, guardModel(main), replace);
    } catch (e) {
      this.warn(`guard table not updated: ${(e as Error).message}`);
    }
  }

  /**
   * The main table brought to `next` and read back (terse: chains, rules, counters, no elements), its shape
   * checked. After an element change the contents must also still be what our last apply read back (element
   * changes touch no rule). Undefined when a change in place does not read back as asked (the caller replaces
   * the table); a replace that does not is an error.
   */
  private async applyMain(next: TableModel | null, replace: boolean): Promise<Observed | null | undefined> {
    const baseline = this.verified;
    this.verified = null;
    let plan: Plan;
    try {
      plan = await this.update('main', MAIN_TABLE, next, replace);
    } catch (e) {
      // The kernel applies a batch whole or not at all: the previous rules are still in force.
      throw new FirewallError(`nft refused the rules: ${(e as Error).message}`);
    }
    this.base = { main: { ...this.seen.main }, guard: { ...this.seen.guard } };
    // A removed table (lock off) is confirmed gone by asking for it alone: nft answers "No such file" without
    // listing the guard and everything else. Anything else, or any other answer, is read back whole.
    const observed = next === null && (await this.absent()) ? null : await this.read();
    const want = modelShape(next);
    const sameAsAsked = sameShape(want, observed?.shape ?? null);
    // In place, we changed only what the plan names: anything else that differs is someone else's edit.
    if (plan.kind !== 'replace' && (!sameAsAsked || (plan.kind === 'elements' && baseline !== null && observed?.content !== baseline))) {
      this.known.main = undefined;
      return undefined;
    }
    if (!sameAsAsked) {
      this.known.main = undefined;
      throw new FirewallError(
        `read-back after apply does not match: want ${JSON.stringify(want)}, kernel has ${JSON.stringify(observed?.shape ?? null)}`,
      );
    }
    this.verified = observed?.content ?? null;
    return observed;
  }

  /** The kernel says our main table does not exist (false when it lists it, or answers anything else). */
  private async absent(): Promise<boolean> {
    try {
      await this.session.run(`list table ${TABLE_FAMILY} ${TABLE_NAME}`, true);
      return false;
    } catch (e) {
      if (!MISSING.test((e as Error).message)) return false;
      this.raw.main = {};
      this.seen = { main: {}, guard: { ...this.raw.guard } };
      return true;
    }
  }

  async guardCurrent(): Promise<void> {
    await this.trailing;
    const r = await runOnce(this.nft, ['list', 'table', TABLE_FAMILY, TABLE_NAME], this.timeoutMs);
    const head = `table ${TABLE_FAMILY} ${TABLE_NAME} {\n`;
    if (r.code !== 0 || !r.stdout.startsWith(head)) throw new FirewallError(`cannot copy table ${TABLE_FAMILY} ${TABLE_NAME} into the guard: ${r.stderr.trim() || 'unexpected listing'}`);
    const guard = `${TABLE_FAMILY} ${GUARD_TABLE_NAME}`;
    // The chains our own guard of such a table would carry (guardCarries), so the self-test compares it alike.
    const copy = `table ${guard} {\n\tflags owner;\n${guardShare(r.stdout.split('\n')).join('\n').slice(head.length)}`;
    // Written behind the incremental planner's back: what the guard holds is no model of ours.
    this.known.guard = undefined;
    try {
      await this.include('guard.nft', `table ${guard} { flags owner; }\ndelete table ${guard}\n${copy}`);
    } catch (e) {
      throw new FirewallError(`nft refused the guard copy of the kept rules: ${(e as Error).message}`);
    }
  }

  /** Removes the guard table; written so that it cannot fail when the table is already gone. */
  private async dropGuard(): Promise<void> {
    this.known.guard = undefined;
    await this.update('guard', GUARD_TABLE, null, true);
  }

  async reset(): Promise<void> {
    await this.trailing;
    this.known.main = undefined;
    this.verified = null;
    try {
      await this.include('reset.nft', RESET_BATCH);
    } catch (e) {
      throw new FirewallError(`nft could not remove table ${TABLE_FAMILY} ${TABLE_NAME}: ${(e as Error).message}`);
    }
    this.known.main = null;
    this.raw.main = {};
    this.seen.main = {};
    this.base.main = {};
    await this.dropGuard();
  }

  /**
   * The main table (null when absent) with counters summed over it and the guard. Terse and fast by default;
   * `full` also counts set elements (an element added by someone else is a hole), at the cost of listing them.
   */
  async read(opts: { full?: boolean } = {}): Promise<Observed | null> {
    await this.trailing;
    await this.renewLongSession();
    const { main: terse, guard } = await this.list();
    const full = opts.full && terse ? await this.readFull(TABLE_NAME) : null;
    // The contents always from the terse listing (the form the apply's read-back kept), elements from the full one.
    const main = !opts.full ? terse : full && terse ? { ...full, content: terse.content } : null;
    if (main) this.raw.main = main.counters;
    this.seen = { main: { ...this.raw.main }, guard: { ...this.raw.guard } };
    if (!main) return null;
    main.counters = this.since('main');
    for (const [name, packets] of Object.entries(this.since('guard'))) main.counters[name] = (main.counters[name] ?? 0) + packets;
    main.guarded = guard !== null;
    return main;
  }

  /**
   * Ends a session that has kept too many lines (SESSION_LINES) and starts a new one, between two operations
   * of ours. The guard table ends with the old session and the new one writes it again at once; the main table
   * stays in force throughout, so only the second layer is absent, for one batch. Waits while the guard's
   * content is unknown (the next apply makes it known).
   */
  private async renewLongSession(): Promise<void> {
    const guard = this.known.guard;
    if (this.closed || guard === undefined || this.session.linesSent < this.sessionLines) return;
    // The guard's counters end with it: the count goes on from what it shows now, as after a replace.
    await this.list();
    await this.session.renew();
    this.base.guard = shift(this.base.guard, this.raw.guard);
    this.seen.guard = shift(this.seen.guard, this.raw.guard);
    this.raw.guard = {};
    this.known.guard = null;
    // Not restored: read() reports the table unguarded, and the daemon restores the guard as after any loss.
    if (guard !== null) await this.update('guard', GUARD_TABLE, guard, true).catch((e: Error) => this.warn(`guard table not restored after renewing the nft session: ${e.message}`));
  }

  /** Both tables from one terse listing; records their raw counters. */
  private async list(): Promise<{ main: Observed | null; guard: Observed | null }> {
    const ruleset = await this.listRuleset();
    const main = found(observeText(ruleset, TABLE_NAME));
    const guard = found(observeText(ruleset, GUARD_TABLE_NAME));
    this.raw = { main: main?.counters ?? {}, guard: guard?.counters ?? {} };
    return { main, guard };
  }

  private since(which: Which): Counters {
    const out: Counters = {};
    for (const [name, packets] of Object.entries(this.raw[which])) out[name] = Math.max(0, packets - (this.base[which][name] ?? 0));
    return out;
  }

  /** Terse: chains, rules, set declarations and counters of every table, no set elements. */
  private async listRuleset(): Promise<string> {
    try {
      return (await this.session.run('list ruleset', true)) ?? '';
    } catch (e) {
      throw new FirewallError(`cannot read the ruleset: ${(e as Error).message}`);
    }
  }

  private async readFull(table: string): Promise<Observed | null> {
    const r = await runOnce(this.nft, ['-j', 'list', 'table', TABLE_FAMILY, table], this.timeoutMs);
    if (r.code !== 0) {
      if (MISSING.test(r.stderr)) return null;
      throw new FirewallError(`cannot read table ${TABLE_FAMILY} ${table}: ${r.stderr.trim()}`);
    }
    try {
      return found(observeJson(r.stdout, table));
    } catch (e) {
      throw new FirewallError(`unreadable nft JSON: ${(e as Error).message}`);
    }
  }

  watch(onChange: (line: string) => void, onExit: (why: string) => void): void {
    this.onChange = onChange;
    if (this.monitor) return;
    const child = spawnTied(this.nft, ['monitor']);
    this.monitor = child;
    createInterface({ input: child.stdout! }).on('line', onChange);
    child.on('error', (e) => onExit(`nft monitor failed: ${e.message}`));
    child.on('exit', (code, signal) => {
      if (this.monitor === child) {
        this.monitor = null;
        onExit(`nft monitor exited (${signal ?? code})`);
      }
    });
  }

  close(): void {
    this.closed = true;
    const m = this.monitor;
    this.monitor = null;
    if (m) stopTied(m);
    void this.session.close();
  }
}

// The Linux backend. Every change is one atomic batch through a long-lived nft session (nft-session.ts):
// the main table `inet tunlock`, then its guard `inet tunlock_guard` (see GUARD_TABLE in nft-rules.ts), each
// read back and checked against what was asked. Reads for counters and the post-apply check are terse (no set
// elements); the periodic tamper check reads everything, element counts included, with a separate `nft`. A
// `nft monitor` process wakes the daemon on any ruleset change. Touches no table but ours.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Firewall, Observed } from './firewall.js';
import { FirewallError, sameShape } from './firewall.js';
import type { Policy } from './policy.js';
import { isEmptyPolicy } from './policy.js';
import type { TableShape } from './nft-rules.js';
import { GUARD_TABLE, GUARD_TABLE_NAME, RESET_BATCH, TABLE_FAMILY, TABLE_NAME, expectedShape, renderApplyBatch } from './nft-rules.js';
import { NftSession } from './nft-session.js';
import { spawnTied, stopTied } from '../process/spawn-tied.js';

function runOnce(nft: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(nft, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new FirewallError(`cannot run ${nft}: ${e.message}`, 'install nftables (apt-get install nftables)')));
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

const MISSING = /No such file or directory/i;

type NftObject = Record<string, Record<string, unknown>>;

/**
 * Turns `nft -j list table inet <table>` output into what we verify and count. A terse listing (`-t`) has no
 * set elements: their counts are then null ("not read"), not 0.
 */
export function observeJson(json: string, table = TABLE_NAME, terse = false): Observed {
  const parsed = JSON.parse(json) as { nftables?: NftObject[] };
  const shape: TableShape = { chains: {}, sets: {}, counters: [] };
  let found = false;
  const counters: Record<string, number> = {};
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
      shape.sets[name] = terse ? null : Array.isArray(v['elem']) ? v['elem'].length : 0;
    } else if (kind === 'counter') {
      shape.counters.push(name);
      counters[name] = Number(v['packets'] ?? 0);
    }
  }
  return { shape, counters, guarded: false, found };
}

export interface NftBackendOptions {
  /** the nft binary; tests may point at a wrapper */
  nft?: string;
  /** a private directory for batch files (the daemon passes its state directory) */
  workDir: string;
  /** problems that do not stop the main table from being enforced (the guard could not be updated) */
  warn?: (message: string) => void;
}

export class NftBackend implements Firewall {
  private readonly nft: string;
  private readonly warn: (message: string) => void;
  private readonly workDir: string;
  private readonly session: NftSession;
  private monitor: ChildProcess | null = null;
  private onChange: ((line: string) => void) | null = null;

  constructor(opts: NftBackendOptions) {
    this.nft = opts.nft ?? 'nft';
    this.warn = opts.warn ?? (() => undefined);
    this.workDir = opts.workDir;
    // The path goes into an `include "..."` line.
    if (/["\n\r\\]/.test(this.workDir)) throw new FirewallError(`unusable directory name for nft batches: ${JSON.stringify(this.workDir)}`);
    mkdirSync(this.workDir, { recursive: true, mode: 0o700 });
    // A lost session takes the guard with it: a change event makes the daemon verify and restore it.
    this.session = new NftSession(this.nft, (why) => {
      this.warn(why);
      this.onChange?.(why);
    });
  }

  private async include(name: string, batch: string): Promise<void> {
    const file = join(this.workDir, name);
    writeFileSync(file, batch, { mode: 0o600 });
    await this.session.run(`include "${file}"`, false);
  }

  async apply(policy: Policy, now: number): Promise<Observed | null> {
    try {
      await this.include('apply.nft', renderApplyBatch(policy, now));
    } catch (e) {
      // The kernel applies a batch whole or not at all: the previous rules are still in force.
      throw new FirewallError(`nft refused the rules: ${(e as Error).message}`);
    }
    const observed = await this.read();
    const want = expectedShape(policy, now);
    if (!sameShape(want, observed?.shape ?? null)) {
      throw new FirewallError(
        `read-back after apply does not match: want ${JSON.stringify(want)}, kernel has ${JSON.stringify(observed?.shape ?? null)}`,
      );
    }
    // The main table is in force. The guard follows without delaying the answer: it only covers the moments
    // after someone else flushes the main table, and while it lags a packet must pass both tables, so the
    // stricter of old and new applies. The session runs it before any later operation.
    const guard = isEmptyPolicy(policy) ? this.dropGuard() : this.include('guard.nft', renderApplyBatch(policy, now, GUARD_TABLE));
    void guard.catch((e: Error) => this.warn(`guard table not updated: ${e.message}`));
    return observed;
  }

  private async dropGuard(): Promise<void> {
    await this.session.run(`delete table ${TABLE_FAMILY} ${GUARD_TABLE_NAME}`, false).catch((e: Error) => {
      if (!MISSING.test(e.message)) throw e;
    });
  }

  async reset(): Promise<void> {
    try {
      await this.include('reset.nft', RESET_BATCH);
    } catch (e) {
      throw new FirewallError(`nft could not remove table ${TABLE_FAMILY} ${TABLE_NAME}: ${(e as Error).message}`);
    }
    await this.dropGuard();
  }

  /**
   * The main table (null when absent) with counters summed over it and the guard. Terse and fast by default;
   * `full` also counts set elements (an element added by someone else is a hole), at the cost of listing them.
   */
  async read(opts: { full?: boolean } = {}): Promise<Observed | null> {
    const main = opts.full ? await this.readFull(TABLE_NAME) : await this.readTerse(TABLE_NAME);
    if (!main) return null;
    const guard = await this.readTerse(GUARD_TABLE_NAME).catch(() => null);
    for (const [name, packets] of Object.entries(guard?.counters ?? {})) main.counters[name] = (main.counters[name] ?? 0) + packets;
    main.guarded = guard !== null;
    return main;
  }

  private async readTerse(table: string): Promise<Observed | null> {
    let line: string | null;
    try {
      line = await this.session.run(`list table ${TABLE_FAMILY} ${table}`, true);
    } catch (e) {
      if (MISSING.test((e as Error).message)) return null;
      throw new FirewallError(`cannot read table ${TABLE_FAMILY} ${table}: ${(e as Error).message}`);
    }
    return this.parse(line ?? '', table, true);
  }

  private async readFull(table: string): Promise<Observed | null> {
    const r = await runOnce(this.nft, ['-j', 'list', 'table', TABLE_FAMILY, table]);
    if (r.code !== 0) {
      if (MISSING.test(r.stderr)) return null;
      throw new FirewallError(`cannot read table ${TABLE_FAMILY} ${table}: ${r.stderr.trim()}`);
    }
    return this.parse(r.stdout, table, false);
  }

  private parse(json: string, table: string, terse: boolean): Observed | null {
    try {
      const o = observeJson(json, table, terse);
      return o.found ? o : null;
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
    const m = this.monitor;
    this.monitor = null;
    if (m) stopTied(m);
    void this.session.close();
  }
}

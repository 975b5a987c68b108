// The Linux backend: runs `nft`. Applies a whole policy as one atomic batch, reads the table back and
// checks it matches what was asked, reads counters, and watches `nft monitor` so the daemon can re-assert
// when another tool flushes or edits our table. Touches no table but `inet tunlock`.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Firewall, Observed } from './firewall.js';
import { FirewallError, sameShape } from './firewall.js';
import type { Policy } from './policy.js';
import type { TableShape } from './nft-rules.js';
import { GUARD_TABLE, GUARD_TABLE_NAME, RESET_BATCH, TABLE_FAMILY, TABLE_NAME, expectedShape, renderApplyBatch } from './nft-rules.js';
import { NftGuard } from './nft-guard.js';
import { isEmptyPolicy } from './policy.js';

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(nft: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(nft, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new FirewallError(`cannot run ${nft}: ${e.message}`, 'install nftables (apt-get install nftables)')));
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    if (child.stdin) {
      // nft may exit before reading all of stdin; its exit status tells what happened, not EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

type NftObject = Record<string, Record<string, unknown>>;

/** Turns `nft -j list table inet <table>` output into what we verify and count. */
export function observeJson(json: string, table = TABLE_NAME): Observed {
  const parsed = JSON.parse(json) as { nftables?: NftObject[] };
  const shape: TableShape = { chains: {}, sets: {}, counters: [] };
  const counters: Record<string, number> = {};
  for (const item of parsed.nftables ?? []) {
    const [kind, v] = Object.entries(item)[0] ?? [];
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
      shape.sets[name] = Array.isArray(v['elem']) ? v['elem'].length : 0;
    } else if (kind === 'counter') {
      shape.counters.push(name);
      counters[name] = Number(v['packets'] ?? 0);
    }
  }
  return { shape, counters };
}

export interface NftBackendOptions {
  /** the nft binary; tests may point at a wrapper */
  nft?: string;
  /** problems that do not stop the main table from being enforced (the guard could not be updated) */
  warn?: (message: string) => void;
}

export class NftBackend implements Firewall {
  private readonly nft: string;
  private readonly guard: NftGuard;
  private readonly warn: (message: string) => void;
  private monitor: ChildProcess | null = null;

  constructor(opts: NftBackendOptions = {}) {
    this.nft = opts.nft ?? 'nft';
    this.guard = new NftGuard(this.nft);
    this.warn = opts.warn ?? (() => undefined);
  }

  async apply(policy: Policy, now: number): Promise<Observed | null> {
    const batch = renderApplyBatch(policy, now);
    const r = await run(this.nft, ['-f', '-'], batch);
    if (r.code !== 0) {
      // The kernel applies a batch whole or not at all: the previous rules are still in force.
      throw new FirewallError(`nft refused the rules (exit ${r.code}): ${r.stderr.trim().slice(0, 800)}`);
    }
    const observed = await this.read();
    const want = expectedShape(policy, now);
    if (!sameShape(want, observed?.shape ?? null)) {
      throw new FirewallError(
        `read-back after apply does not match: want ${JSON.stringify(want)}, kernel has ${JSON.stringify(observed?.shape ?? null)}`,
      );
    }
    // The main table is in force: the guard follows without delaying the answer (it only covers the moments
    // after someone else flushes the main table). Its queue keeps applies in order; nothing to enforce ends
    // its session, and the kernel removes the guard with it.
    const guarded = isEmptyPolicy(policy) ? this.guard.drop() : this.guard.apply(renderApplyBatch(policy, now, GUARD_TABLE));
    void guarded.catch((e: Error) => this.warn(`guard table not updated: ${e.message}`));
    return observed;
  }

  async reset(): Promise<void> {
    const r = await run(this.nft, ['-f', '-'], RESET_BATCH);
    if (r.code !== 0) throw new FirewallError(`nft could not remove table ${TABLE_FAMILY} ${TABLE_NAME}: ${r.stderr.trim()}`);
    await this.guard.drop();
  }

  /** The main table (null when absent), with counters summed over the main table and the guard. */
  async read(): Promise<Observed | null> {
    const main = await this.readTable(TABLE_NAME);
    if (!main) return null;
    const guard = await this.readTable(GUARD_TABLE_NAME).catch(() => null);
    for (const [name, packets] of Object.entries(guard?.counters ?? {})) main.counters[name] = (main.counters[name] ?? 0) + packets;
    return main;
  }

  private async readTable(table: string): Promise<Observed | null> {
    const r = await run(this.nft, ['-j', 'list', 'table', TABLE_FAMILY, table]);
    if (r.code !== 0) {
      if (/No such file or directory/i.test(r.stderr)) return null;
      throw new FirewallError(`cannot read table ${TABLE_FAMILY} ${table}: ${r.stderr.trim()}`);
    }
    try {
      return observeJson(r.stdout, table);
    } catch (e) {
      throw new FirewallError(`unreadable nft JSON: ${(e as Error).message}`);
    }
  }

  watch(onChange: (line: string) => void, onExit: (why: string) => void): void {
    if (this.monitor) return;
    const child = spawn(this.nft, ['monitor'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    m?.kill('SIGTERM');
    this.guard.close();
  }
}

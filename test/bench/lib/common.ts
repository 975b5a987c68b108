// Shared pieces of the benchmarks (test/bench/README.md): statistics, the result line test/bench/run.mjs
// collects for its summary table, where the bundled daemon and CLI are, and a cross-process clock.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** The repository (run.mjs passes it: a bundle's own import.meta.url points into a temp dir). */
export const REPO = process.env.TUNLOCK_BENCH_REPO ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The daemon and CLI under test: bundled from host/src by run.mjs, else host/dist. */
export function daemonScripts(): { daemonJs: string; cliJs: string } {
  const daemonJs = process.env.TUNLOCK_BENCH_DAEMON ?? path.join(REPO, 'host/dist/tunlockd.js');
  const cliJs = process.env.TUNLOCK_BENCH_CLI ?? path.join(REPO, 'host/dist/tunlock.js');
  for (const f of [daemonJs, cliJs]) if (!fs.existsSync(f)) throw new Error(`${f} missing: run the benches with node test/bench/run.mjs`);
  return { daemonJs, cliJs };
}

/**
 * A bench file's entry point. `node bundle.js worker ARGS…` (the same file restarted inside a namespace) runs
 * `worker(ARGS)`; anything else runs the bench. A failure prints its stack and exits non-zero.
 */
export function runBench(main: () => Promise<void>, worker?: (args: string[]) => Promise<void>): void {
  const inWorker = process.argv[2] === 'worker';
  if (inWorker && !worker) throw new Error('this bench has no worker');
  const run = inWorker ? worker!(process.argv.slice(3)) : main();
  run.catch((e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}

/** This bench's own bundle: workers are the same file started again inside a namespace with `worker …`. */
export function selfScript(): string {
  const self = process.argv[1];
  if (!self) throw new Error('cannot tell which script is running');
  return path.resolve(self);
}

/**
 * Wall-clock time in ms with sub-ms resolution, comparable between processes on this machine (each process's
 * time origin is a wall-clock reading; performance.now() runs monotonic from it).
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ── statistics ─────────────────────────────────────────────────────────────────────────────────────────

export interface Stats {
  n: number;
  min: number;
  median: number;
  p95: number;
  mean: number;
  max: number;
}

/** Nearest-rank quantile of sorted values (q in 0..1). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    min: s[0] ?? NaN,
    median: s.length % 2 ? quantile(s, 0.5) : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2,
    p95: quantile(s, 0.95),
    mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
    max: s[s.length - 1] ?? NaN,
  };
}

export function fmtMs(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
}

export function fmtStats(s: Stats, unit: (v: number) => string = fmtMs): string {
  return `median ${unit(s.median)}  p95 ${unit(s.p95)}  (min ${unit(s.min)}, max ${unit(s.max)}, n=${s.n})`;
}

/** p50 and p95 in ms, rounded to 0.01 ms, for the JSON figures. */
export function p50p95(values: number[]): { p50: number; p95: number } {
  const s = stats(values);
  return { p50: Math.round(s.median * 100) / 100, p95: Math.round(s.p95 * 100) / 100 };
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a';
}

export function fmtMbit(bitsPerSecond: number): string {
  return `${(bitsPerSecond / 1e6).toFixed(0)} Mbit/s`;
}

// ── results for run.mjs ────────────────────────────────────────────────────────────────────────────────

export interface Row {
  metric: string;
  value: string;
  /** the bar this figure is held to ("p95 < 50 ms"), if it has one */
  target?: string;
  /** met the target? undefined when there is none */
  pass?: boolean;
}

export const RESULT_PREFIX = '@@tunlock-bench ';

/** The machine-readable figures of `npm run bench -- --json` (test/bench/README.md names each key). */
export type Figures = Record<string, unknown>;

/**
 * Prints the figures (human-readable) and one machine-readable line for run.mjs: the rows of its summary
 * table and `figures`, merged into the JSON object `--json` prints.
 */
export function emitResult(bench: string, rows: Row[], reproduce: string, figures: Figures = {}): void {
  const w = Math.max(...rows.map((r) => r.metric.length));
  console.log(`\n── ${bench} ──`);
  for (const r of rows) {
    const verdict = r.pass === undefined ? '' : r.pass ? `   [target ${r.target}: met]` : `   [target ${r.target}: MISSED]`;
    console.log(`  ${r.metric.padEnd(w)}  ${r.value}${verdict}`);
  }
  console.log(`  reproduce: ${reproduce}`);
  console.log(RESULT_PREFIX + JSON.stringify({ bench, rows, reproduce, figures }));
}

/** ABBA order of two subjects over `pairs` pairs: a b b a a b … (cancels a slow drift of the machine). */
export function abba(pairs: number): ('a' | 'b')[] {
  const out: ('a' | 'b')[] = [];
  for (let i = 0; i < pairs; i++) out.push(...((i % 2 === 0 ? ['a', 'b'] : ['b', 'a']) as ('a' | 'b')[]));
  return out;
}

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
}

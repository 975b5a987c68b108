#!/usr/bin/env node
// `npm run bench [-- [--json] name ...]` / `node test/bench/run.mjs [--json] [name ...]`: the benchmarks
// (test/bench/README.md). Bundles tunlockd and the CLI from host/src, and each test/bench/<name>.ts, with
// esbuild into a temp dir, runs each bench with node (one after the other: they share two cores) and ends with
// one summary table; with --json, then one JSON object on the last line (the figures, the machine, the run).
// Benchmarks print figures; they are not tests and never fail on a slow machine (exit 1 only if a bench broke).
// Needs root: every bench builds network namespaces (nothing touches the machine's own namespace).
import { build } from 'esbuild';
import { bundlePrograms, koffiByPath } from '../../host/bundle.mjs';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const BENCHES = ['lock-latency', 'drop-detect', 'scale', 'throughput', 'leaks', 'daemon-load', 'self-test'];
const PREFIX = '@@tunlock-bench ';
const BENCH_TIMEOUT_MS = 5 * 60_000;

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const args = argv.filter((a) => a !== '--json');
if (args.includes('-h') || args.includes('--help')) {
  console.log(`usage: node test/bench/run.mjs [--json] [name ...]   (as root)\nbenches: ${BENCHES.join(', ')}`);
  process.exit(0);
}
const names = args.length ? args : BENCHES;
for (const n of names) {
  if (!BENCHES.includes(n)) {
    console.error(`unknown bench ${JSON.stringify(n)}; benches: ${BENCHES.join(', ')}`);
    process.exit(2);
  }
}
if (process.getuid?.() !== 0) {
  console.error('the benches need root (network namespaces, nftables, wireguard-go): sudo node test/bench/run.mjs');
  process.exit(2);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunlock-bench-'));
const cleanupTmp = () => fs.rmSync(tmp, { recursive: true, force: true });
process.on('exit', cleanupTmp);

// tunlockd and the CLI exactly as host/build.mjs builds them (host/bundle.mjs); the benches themselves are ES
// modules (.mjs) beside them, finding koffi the same way.
const common = { bundle: true, platform: 'node', target: 'node20', format: 'esm', logLevel: 'warning', legalComments: 'none', plugins: [koffiByPath] };
const t0 = Date.now();
await Promise.all([
  bundlePrograms(tmp, { tunlockd: path.join(REPO, 'host/src/daemon/main.ts'), tunlock: path.join(REPO, 'host/src/cli/main.ts') }),
  ...names.map((n) => build({ ...common, entryPoints: [path.join(HERE, `${n}.ts`)], outfile: path.join(tmp, `${n}.mjs`) })),
]);
console.log(`bundled tunlockd, tunlock and ${names.join(', ')} from source in ${Date.now() - t0} ms (${tmp})`);

const env = {
  ...process.env,
  TUNLOCK_LAB_DIR: path.join(REPO, 'test/lab'),
  TUNLOCK_BENCH_REPO: REPO,
  TUNLOCK_BENCH_DAEMON: path.join(tmp, 'tunlockd.js'),
  TUNLOCK_BENCH_CLI: path.join(tmp, 'tunlock.js'),
};

let current = null;
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    // The bench tears its namespaces down on the signal; wait for it, then stop.
    if (current?.pid) {
      try {
        process.kill(current.pid, sig);
      } catch {}
    }
    interrupted = true;
  });
}

function runBench(name) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [path.join(tmp, `${name}.mjs`)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    current = child;
    let result = null;
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(PREFIX)) {
        try {
          result = JSON.parse(line.slice(PREFIX.length));
        } catch {}
        return;
      }
      console.log(line);
    });
    const timer = setTimeout(() => {
      console.error(`${name}: still running after ${BENCH_TIMEOUT_MS / 1000} s: SIGTERM`);
      child.kill('SIGTERM');
    }, BENCH_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = null;
      resolve({ name, code, signal, result, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const outcomes = [];
for (const name of names) {
  if (interrupted) break;
  console.log(`\n=== bench ${name}`);
  outcomes.push(await runBench(name));
}

// ── summary table ───────────────────────────────────────────────────────────────────────────────────────
const rows = [['bench', 'metric', 'value', 'target', '']];
for (const o of outcomes) {
  if (!o.result) {
    rows.push([o.name, `FAILED (exit ${o.signal ?? o.code})`, '', '', '']);
    continue;
  }
  for (const r of o.result.rows) rows.push([o.name, r.metric, r.value, r.target ?? '', r.pass === undefined ? '' : r.pass ? 'met' : 'MISSED']);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
console.log(`\n=== summary (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} CPUs, ${os.release()})`);
console.log(line(rows[0]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows.slice(1)) console.log(line(r));
console.log(`\ntimes: ${outcomes.map((o) => `${o.name} ${o.seconds.toFixed(0)} s`).join(', ')}`);
const totalSeconds = (Date.now() - t0) / 1000;
console.log(`total: ${totalSeconds.toFixed(0)} s`);
const broken = outcomes.filter((o) => !o.result || o.code !== 0);
if (json) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  // One level deep: two benches may each add to one object (wgquick: leaks from one, throughput from another).
  const figures = {};
  for (const [k, v] of outcomes.flatMap((o) => Object.entries(o.result?.figures ?? {}))) {
    figures[k] = v && typeof v === 'object' && !Array.isArray(v) ? { ...(figures[k] ?? {}), ...v } : v;
  }
  const machine = `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}`;
  const run = { at: new Date().toISOString(), seconds: Math.round(totalSeconds), benches: names, broken: broken.map((o) => o.name), load_average: os.loadavg().map((l) => Math.round(l * 100) / 100) };
  console.log(JSON.stringify({ ...figures, machine, run }));
}
process.exitCode = broken.length || interrupted ? 1 : 0;

// lock-latency: "click to rules in the kernel". A client in the lab's client namespace (where tunlockd runs
// and identifies its clients) keeps ONE connection, as tunlock-host does, and toggles the lock on/off 200×:
//   request → response   the daemon answers after the batch is applied and read back (and the guard updated)
//   request → monitor    `nft monitor`, started in that namespace beforehand, prints the table's new rules
// Baselines, interleaved in the same run, in another lab namespace (the printer's, so the daemon sees none of
// it), with the same batches tunlockd renders: A = raw `nft -f -`, one spawn per call; B = one long-lived
// `nft -i` session fed `include FILE` (how the daemon already feeds its guard table). Bar: p95 < 50 ms.
// Run: node test/bench/run.mjs lock-latency   (root)
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { DaemonClient } from '../../host/src/client/daemon-client';
import type { Status } from '../../host/src/protocol/schema';
import type { Policy } from '../../host/src/firewall/policy';
import { DEFAULT_LAN_RANGES, rootEndpoint } from '../../host/src/firewall/policy';
import { renderApplyBatch } from '../../host/src/firewall/nft-rules';
import { parseEndpoint } from '../../host/src/net/values';
import { emitResult, fmtRatio, fmtStats, log, p50p95, selfScript, sleep, stats, runBench } from './lib/common';
import { LAB_ENDPOINT, withLabDaemon } from './lib/lab-daemon';
import { NsWorker, serveWorker } from './lib/worker';

const TOGGLES = 200;
const WARMUP = 10;
/** Idle time after each toggle: clicks are not back to back (the daemon re-verifies after its own change). */
const PACE_MS = 80;
const BURST = 40;
const REPRODUCE = 'node test/bench/run.mjs lock-latency';

interface ToggleResult {
  ms: number;
  monitorMs: number | null;
  state: string;
}

// ── workers (run inside lab namespaces) ───────────────────────────────────────────────────────────────

async function subjectWorker(socket: string): Promise<void> {
  const c = new DaemonClient(socket, 'test');
  await c.connect();
  // nft monitor in the daemon's namespace: the moment our table's new rules are committed.
  const monitor: ChildProcess = spawn('nft', ['monitor'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let armedAt: number | null = null;
  let seenAt: number | null = null;
  let probeSeen = false;
  readline.createInterface({ input: monitor.stdout! }).on('line', (line) => {
    const t = performance.now();
    if (line.includes('inet tlbench_probe')) probeSeen = true;
    if (armedAt !== null && seenAt === null && / inet tunlock( |$)/.test(line)) seenAt = t;
  });
  // Wait until the monitor listens: a throwaway table it must report.
  for (let i = 0; !probeSeen; i++) {
    if (i > 100) throw new Error('nft monitor never reported the probe table');
    await run('nft', ['-f', '-'], 'table inet tlbench_probe { }\ndelete table inet tlbench_probe\n');
    await sleep(20);
  }

  serveWorker(
    {
      async toggle(p) {
        const mode = p.mode as 'on' | 'off';
        seenAt = null;
        armedAt = performance.now();
        const t0 = armedAt;
        const st = (await c.request({ type: 'setMode', mode })) as Status;
        const t1 = performance.now();
        // The monitor's line may be read just after the response; give it a moment.
        for (let i = 0; seenAt === null && i < 50; i++) await sleep(2);
        const monitorMs = seenAt === null ? null : (seenAt as number) - t0;
        armedAt = null;
        return { ms: t1 - t0, monitorMs, state: st.state } satisfies ToggleResult;
      },
    },
    () => {
      c.close();
      monitor.kill('SIGKILL');
    },
  );
}

function run(cmd: string, args: string[], input: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input);
  });
}

function lockPolicy(iface: string, endpoint: string): Policy {
  // What tunlockd applies for `tunnel add IFACE --endpoint E` + `lock on` with default settings (LAN allowed).
  const lan = [...DEFAULT_LAN_RANGES];
  return { kind: 'locked', endpoints: [rootEndpoint(parseEndpoint(endpoint))], onLink: [], captive: null, bindings: [], tunnels: [iface], allowLan: true, lanRanges: lan };
}

async function baselineWorker(iface: string, endpoint: string, parent: string): Promise<void> {
  const on = lockPolicy(iface, endpoint);
  const off: Policy = { kind: 'open', bindings: on.bindings, tunnels: on.tunnels, allowLan: on.allowLan, lanRanges: on.lanRanges };
  const batch = (mode: unknown) => renderApplyBatch(mode === 'on' ? on : off, Date.now());

  // Baseline B: one long-lived `nft -i` session (as the daemon's guard uses), fed `include FILE` per apply;
  // a listing of a marker table after it tells when the session has finished the batch.
  // In the lab's temp dir: removed with the lab even when this worker is killed.
  const dir = mkdtempSync(path.join(parent, 'baseline-'));
  const file = path.join(dir, 'batch.nft');
  const session = spawn('sh', ['-c', 'exec nft -i 2>&1'], { stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  let wake: (() => void) | null = null;
  session.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    wake?.();
  });
  session.stdin!.on('error', () => undefined);
  const sessionRun = async (text: string): Promise<number> => {
    writeFileSync(file, text);
    out = '';
    const t0 = performance.now();
    session.stdin!.write(`include "${file}"\nlist table inet tlbench_marker\n`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nft -i did not answer: ${out}`)), 10_000);
      wake = () => {
        if (/Error:/.test(out)) reject(new Error(`nft -i: ${out}`));
        else if (/\n\}\n$/.test(out)) resolve();
        else return;
        clearTimeout(timer);
        wake = null;
      };
      wake();
    });
    return performance.now() - t0;
  };
  await sessionRun('table inet tlbench_marker { }\n');

  serveWorker(
    {
      async apply(p) {
        const text = batch(p.mode);
        const t0 = performance.now();
        const r = await run('nft', ['-f', '-'], text);
        const ms = performance.now() - t0;
        if (r.code !== 0) throw new Error(`nft -f failed: ${r.stderr}`);
        return { ms };
      },
      async session(p) {
        const ms = await sessionRun(batch(p.mode));
        // Sanity: the session really changed the kernel's table.
        if (p.check) {
          const r = await run('nft', ['list', 'table', 'inet', 'tunlock'], '');
          if ((r.code === 0) !== (p.mode === 'on')) throw new Error(`nft -i include did not take effect (mode ${String(p.mode)})`);
        }
        return { ms };
      },
    },
    () => {
      session.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  );
}

// ── the bench ─────────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  await withLabDaemon(async (lab, d) => {
    const subject = NsWorker.start(lab.ns.client, selfScript(), ['subject', d.socket], 'subject');
    const baseline = NsWorker.start(lab.ns.printer, selfScript(), ['baseline', lab.wg.client, LAB_ENDPOINT, lab.tmp], 'baseline');

    const daemonMs: number[] = [];
    const daemonOnMs: number[] = [];
    const monitorMs: number[] = [];
    const rawMs: number[] = [];
    const rawOnMs: number[] = [];
    const sessMs: number[] = [];
    let missingMonitor = 0;
    log(`lock-latency: ${WARMUP} warm-up + ${TOGGLES} toggles, ${PACE_MS} ms apart, interleaved with both baselines`);
    for (let i = 0; i < WARMUP + TOGGLES; i++) {
      const mode = i % 2 === 0 ? 'on' : 'off';
      const measured = i >= WARMUP;
      const doSubject = async () => {
        const r = await subject.call<ToggleResult>('toggle', { mode });
        const want = mode === 'on' ? 'protected' : 'off';
        if (r.state !== want) throw new Error(`lock ${mode}: daemon says ${r.state}, expected ${want}`);
        if (measured) {
          daemonMs.push(r.ms);
          if (mode === 'on') daemonOnMs.push(r.ms);
          if (r.monitorMs === null) missingMonitor++;
          else monitorMs.push(r.monitorMs);
        }
        // Let the daemon settle (it re-verifies after its own change) before anything else runs.
        await sleep(PACE_MS);
      };
      const doSpawn = async () => {
        const r = await baseline.call<{ ms: number }>('apply', { mode });
        if (measured) {
          rawMs.push(r.ms);
          if (mode === 'on') rawOnMs.push(r.ms);
        }
        await sleep(20);
      };
      const doSession = async () => {
        const r = await baseline.call<{ ms: number }>('session', { mode, check: i < 2 });
        if (measured) sessMs.push(r.ms);
        await sleep(20);
      };
      // Rotate the order every toggle pair so that none of the three always follows the same one.
      const order = [doSubject, doSpawn, doSession];
      const k = Math.floor(i / 2) % 3;
      for (const task of [...order.slice(k), ...order.slice(0, k)]) await task();
    }

    // Back-to-back toggles (no pause): a burst of clicks, queueing behind the daemon's own re-verify.
    const burstMs: number[] = [];
    for (let i = 0; i < BURST; i++) {
      const r = await subject.call<ToggleResult>('toggle', { mode: i % 2 === 0 ? 'on' : 'off' });
      burstMs.push(r.ms);
    }
    await subject.close();
    await baseline.close();

    const sd = stats(daemonMs);
    const sOn = stats(daemonOnMs);
    const sm = stats(monitorMs);
    const sr = stats(rawMs);
    const srOn = stats(rawOnMs);
    const ss = stats(sessMs);
    const sb = stats(burstMs);
    // The daemon logs how long each apply took (nft -f, read-back, guard update): its share of the total.
    const applied = [...d.log().matchAll(/applied \(lock (?:on|off)\): .*?, (\d+) ms/g)].map((m) => Number(m[1]));
    const sa = stats(applied.slice(-(TOGGLES + BURST), -BURST));
    emitResult(
      'lock-latency',
      [
        { metric: 'toggle request→response (on+off)', value: fmtStats(sd), target: 'p95 < 50 ms', pass: sd.p95 < 50 },
        { metric: 'lock on request→response', value: fmtStats(sOn), target: 'p95 < 50 ms', pass: sOn.p95 < 50 },
        {
          metric: 'request→nft monitor sees the rules',
          value: `${fmtStats(sm)}${missingMonitor ? `, ${missingMonitor} not seen` : ''}`,
          target: 'p95 < 50 ms',
          pass: sm.p95 < 50,
        },
        { metric: "daemon's apply step (its log, 1 ms steps)", value: fmtStats(sa) },
        { metric: 'baseline A: raw nft -f, spawn per call', value: fmtStats(sr) },
        { metric: 'baseline A, lock-on batch only', value: fmtStats(srOn) },
        { metric: 'baseline B: same batch, one nft -i session', value: fmtStats(ss) },
        { metric: 'ratio daemon / baseline A', value: `median ${fmtRatio(sd.median / sr.median)}  p95 ${fmtRatio(sd.p95 / sr.p95)}` },
        { metric: 'ratio daemon / baseline B', value: `median ${fmtRatio(sd.median / ss.median)}  p95 ${fmtRatio(sd.p95 / ss.p95)}` },
        { metric: `burst: ${BURST} toggles back to back`, value: fmtStats(sb) },
      ],
      REPRODUCE,
      { lock_apply_ms: p50p95(daemonMs), lock_to_kernel_ms: p50p95(monitorMs) },
    );
  });
}

runBench(main, async ([kind, ...rest]) => {
  await (kind === 'subject' ? subjectWorker(rest[0]!) : baselineWorker(rest[0]!, rest[1]!, rest[2]!));
});

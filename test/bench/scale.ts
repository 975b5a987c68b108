// scale: 10,000 endpoints and 1,000 LAN ranges. Two throwaway namespaces (tl<id>-a ↔ tl<id>-b, one veth,
// 198.18.0.0/15 benchmarking addresses); the measuring worker runs inside `a` and drives the real NftBackend.
//   apply    NftBackend.apply, request → read back and verified (the trailing guard update settles before each
//            timed call, untimed), 20 rounds, in each: the big policy replacing a table of its size (a full
//            apply), then one change each way, in place: an endpoint, a LAN range (set elements), a binding (a
//            chain, a counter and a rewritten output chain; the sets stay); then the 1-endpoint policy (replace). Also the raw `nft -f` of the big batch
//            and one `nft -j list` read (the parts: nft's own parsing is the floor of a full apply).
//   packets  iperf3 TCP a → b (3 s runs) with `a` locked by each policy, ABBA-interleaved, 3 runs per case:
//            "endpoint" path: the server 198.18.0.2:5201/tcp is one of the allowed endpoints;
//            "LAN" path: the server's second address 198.18.1.2 is in an allowed LAN range (not an endpoint),
//            so each packet misses the endpoint sets and the tunnel set first, then hits the interval set.
//            TCP segmentation offload is capped at 1 segment on the sender (gso_max_segs 1), so every
//            MTU-sized packet passes the output hook — otherwise one 64 KB super-packet hides the per-packet cost.
// Bars: full apply p95 < 100 ms; one endpoint / range / binding added or removed p95 < 10 ms; per-packet
// cost flat (throughput ratio big/small ≈ 1).
// Run: node test/bench/run.mjs scale   (root)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { NftBackend } from '../../host/src/firewall/nft-backend';
import type { Policy } from '../../host/src/firewall/policy';
import { DEFAULT_LAN_RANGES, rootEndpoint } from '../../host/src/firewall/policy';
import { BLOCK_COUNTERS, renderApplyBatch } from '../../host/src/firewall/nft-rules';
import type { Cidr, Endpoint } from '../../host/src/net/values';
import { parseCidr, parseEndpoint } from '../../host/src/net/values';
import { abba, emitResult, runBench, fmtMbit, fmtMs, fmtRatio, fmtStats, log, p50p95, selfScript, sleep, stats } from './lib/common';
import { BenchNetns } from './lib/netns';
import { NsWorker, serveWorker } from './lib/worker';

const ENDPOINTS = 10_000;
const LAN_RANGES = 1_000;
const APPLY_REPS = 20;
const IPERF_SECONDS = 3;
const IPERF_PAIRS = 3; // ABBA pairs per path: 3 runs per case
const PORT = 5201;
const A_ADDR = '198.18.0.1';
const SERVER = '198.18.0.2';
const SERVER_LAN = '198.18.1.2';
const REPRODUCE = 'node test/bench/run.mjs scale';

type Size = 'small' | 'big';
type Variant = Size | 'bigPlusEndpoint' | 'bigPlusRange' | 'bigPlusBinding';
interface IperfRun {
  bps: number;
  /** packets the lock's counters (blocked_out/in/fwd) counted during the run */
  blocked: number;
  error: string | null;
}

// ── policies ──────────────────────────────────────────────────────────────────────────────────────────

function policies(): Record<Variant, Policy> {
  const server = parseEndpoint(`${SERVER}:${PORT}/tcp`);
  const serverLan = parseCidr(`${SERVER_LAN.replace(/\.\d+$/, '.0')}/24`);
  // 10,000 endpoints: the server, then half UDP (WireGuard-like) and half TCP (OpenVPN-over-TCP-like) in
  // 198.19.0.0/16, all root's (the set the test flow looks up, endpoints4_u0, holds all 10,000).
  const endpoints: Endpoint[] = [server];
  for (let i = 0; endpoints.length < ENDPOINTS; i++) {
    const addr = `198.19.${(i >> 8) & 255}.${i & 255}`;
    endpoints.push(parseEndpoint(i % 2 === 0 ? `${addr}:51820/udp` : `${addr}:443/tcp`));
  }
  // 1,000 LAN ranges: the defaults, the server's second subnet, then /24s in 100.64.0.0/10 and /48s in
  // 2001:db8:100::/40 — none overlapping (an interval set refuses overlaps).
  const lan: Cidr[] = [...DEFAULT_LAN_RANGES, serverLan];
  const v6 = 300;
  for (let i = 0; lan.length < LAN_RANGES - v6; i++) lan.push(parseCidr(`100.${64 + (i >> 8)}.${i & 255}.0/24`));
  for (let i = 0; lan.length < LAN_RANGES; i++) lan.push(parseCidr(`2001:db8:${(0x100 + i).toString(16)}::/48`));
  const make = (eps: Endpoint[], ranges: Cidr[]): Policy => ({
    kind: 'locked',
    endpoints: eps.map(rootEndpoint),
    onLink: [],
    captive: null,
    bindings: [],
    tunnels: ['wgbench0'],
    allowLan: true,
    lanRanges: ranges,
  });
  const big = make(endpoints, lan);
  return {
    small: make([server], [...DEFAULT_LAN_RANGES, serverLan]),
    big,
    bigPlusEndpoint: make([...endpoints, parseEndpoint('192.0.2.77:51820/udp')], lan),
    bigPlusRange: make(endpoints, [...lan, parseCidr('100.127.77.0/24')]),
    bigPlusBinding: { ...big, bindings: [{ kind: 'user', uid: 65534 }] },
  };
}

// ── worker (inside namespace a) ───────────────────────────────────────────────────────────────────────

function run(cmd: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

async function worker(pin: boolean): Promise<void> {
  const p = policies();
  // Batch files go to a directory under TMPDIR, which the bench points into its namespaces' temp dir.
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'scale-nft-'));
  const backend = new NftBackend({ workDir, warn: (m) => process.stderr.write(`warn: ${m}\n`) });
  /** Runs f and returns its result with the milliseconds it took. */
  const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const v = await f();
    return [v, performance.now() - t0];
  };
  serveWorker(
    {
      describe() {
        const b = renderApplyBatch(p.big, Date.now());
        return { bigBatchBytes: b.length, bigBatchLines: b.split('\n').length };
      },
      /**
       * NftBackend.apply of a policy (plan, batch, read-back), left in force. The guard update the previous
       * apply left trailing settles first (a read queues behind it), untimed.
       */
      async apply(q) {
        await backend.read();
        const [, ms] = await timed(() => backend.apply(p[q.size as Variant], Date.now(), { replace: q.replace === true }));
        if (!q.count) return { ms };
        // The apply's own read-back is terse (no elements); count them with a full read, outside the timing.
        const full = await backend.read({ full: true });
        return { ms, endpoints4: full?.shape.sets['endpoints4_u0'] ?? 0, lan4: full?.shape.sets['lan4'] ?? 0 };
      },
      /** The parts: raw `nft -f` of the batch (spawn per call), then one `nft -j list table` of the result. */
      async raw(q) {
        const batch = renderApplyBatch(p[q.size as Size], Date.now());
        const [r, nftMs] = await timed(() => run('nft', ['-f', '-'], batch));
        if (r.code !== 0) throw new Error(`nft -f: ${r.stderr}`);
        const [, listMs] = await timed(() => run('nft', ['-j', 'list', 'table', 'inet', 'tunlock']));
        return { nftMs, listMs };
      },
      async iperf(q) {
        const host = String(q.host);
        const seconds = String(q.seconds ?? IPERF_SECONDS);
        const argv = [...(pin ? ['taskset', '-c', '0'] : []), 'iperf3', '-c', host, '-p', String(PORT), '-t', seconds, '-J'];
        // The lock's own counters around the run: a failed run with blocked packets would be the lock's fault.
        const blocked = async () => {
          const c = (await backend.read())?.counters ?? {};
          return BLOCK_COUNTERS.reduce((n, k) => n + (c[k] ?? 0), 0);
        };
        const before = await blocked();
        const r = await run(argv[0]!, argv.slice(1));
        const delta = (await blocked()) - before;
        let json: { end?: { sum_received?: { bits_per_second?: number } }; error?: string } = {};
        try {
          json = JSON.parse(r.stdout) as typeof json;
        } catch {
          // no JSON: the error is on stderr
        }
        const bps = json.end?.sum_received?.bits_per_second ?? 0;
        return { bps, blocked: delta, error: bps ? null : (json.error ?? r.stderr.trim()) || `exit ${r.code}` };
      },
      /** Sanity: the policy in force really locks (ping to the server is neither endpoint nor LAN traffic). */
      async blockedCheck() {
        const r = await run('ping', ['-c', '1', '-W', '1', SERVER]);
        return { refused: r.code !== 0 };
      },
    },
    () => backend.close(),
  );
}

// ── the bench ─────────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const ns = await BenchNetns.create(['a', 'b']);
  const a = ns.names.a!;
  const b = ns.names.b!;
  try {
    const pin = process.env.TUNLOCK_BENCH_PIN !== '0' && os.cpus().length >= 2;
    // Distinct ifindexes for the two ends (see test/lab/README.md: equal ones delay the carrier by up to 1 s).
    await ns.ip(a, [`link add v0 index 100 type veth peer name v1 index 101 netns ${b}`]);
    await ns.ip(a, ['link set v0 gso_max_segs 1', `addr add ${A_ADDR}/24 dev v0`, 'link set v0 up', `route add ${SERVER_LAN.replace(/\.\d+$/, '.0')}/24 dev v0`]);
    await ns.ip(b, [`addr add ${SERVER}/24 dev v1`, `addr add ${SERVER_LAN}/24 dev v1`, 'link set v1 up']);
    const server = ns.spawn(b, pin ? 'taskset' : 'iperf3', [...(pin ? ['-c', '1', 'iperf3'] : []), '-s', '-p', String(PORT)]);
    for (let i = 0; ; i++) {
      const ss = await ns.exec(b, 'ss', ['-Hltn', `sport = :${PORT}`]);
      if (ss.stdout.trim()) break;
      if (i > 100 || server.exitCode !== null) throw new Error('iperf3 server did not start listening');
      await sleep(50);
    }

    // TMPDIR: the worker's batch files go with the namespaces' temp dir, removed on every exit path.
    const w = NsWorker.start(a, selfScript(), [pin ? 'pin' : 'nopin'], 'scale-worker', { ...process.env, TMPDIR: ns.tmp });
    const desc = await w.call<{ bigBatchBytes: number; bigBatchLines: number }>('describe');
    log(`scale: big batch ${(desc.bigBatchBytes / 1024).toFixed(0)} KiB, ${desc.bigBatchLines} lines; ${APPLY_REPS} applies per size, interleaved`);

    // 1. apply time. Each round: a full apply of the big policy, then single changes in place and back, a
    //    binding (rules in place), and the 1-endpoint policy; each timed from the state the one before left.
    const apply: Record<string, number[]> = {};
    const rawNft: number[] = [];
    const list: number[] = [];
    const steps: [string, Variant, boolean][] = [
      ['full', 'big', true],
      ['addEndpoint', 'bigPlusEndpoint', false],
      ['removeEndpoint', 'big', false],
      ['addRange', 'bigPlusRange', false],
      ['removeRange', 'big', false],
      ['addBinding', 'bigPlusBinding', false],
      ['removeBinding', 'big', false],
      ['small', 'small', true],
    ];
    for (let round = 0; round < APPLY_REPS; round++) {
      for (const [name, size, replace] of steps) {
        const r = await w.call<{ ms: number; endpoints4?: number }>('apply', { size, replace, count: round === 0 });
        if (round === 0 && size.startsWith('big') && (r.endpoints4 ?? 0) < ENDPOINTS) {
          throw new Error(`${size} read back with ${r.endpoints4} endpoints`);
        }
        (apply[name] ??= []).push(r.ms);
      }
      if (round % 4 === 0) {
        const raw = await w.call<{ nftMs: number; listMs: number }>('raw', { size: 'big' });
        rawNft.push(raw.nftMs);
        list.push(raw.listMs);
      }
    }

    // 2. per-packet cost: iperf3 with each policy in force, both paths, ABBA.
    await w.call('iperf', { host: SERVER, seconds: 1 }); // warm-up (first connection, caches), not counted
    const bps: Record<string, number[]> = {};
    const failures: string[] = [];
    let blockedTotal = 0;
    const pairRatio: Record<string, number[]> = { endpoint: [], lan: [] };
    for (const [path, host] of [
      ['endpoint', SERVER],
      ['lan', SERVER_LAN],
    ] as const) {
      let pending: Partial<Record<Size, number>> = {};
      for (const x of abba(IPERF_PAIRS)) {
        const size: Size = x === 'a' ? 'small' : 'big';
        await w.call('apply', { size });
        let r = await w.call<IperfRun>('iperf', { host }, (IPERF_SECONDS + 30) * 1000);
        blockedTotal += r.blocked;
        if (r.error) {
          // iperf3 3.x sometimes fails a test that starts right after the previous one; one retry, counted.
          failures.push(`${path}/${size}: ${r.error} (lock counters +${r.blocked})`);
          log(`  ${path} ${size}: iperf3 failed (${r.error}; lock counters +${r.blocked}); retrying`);
          await sleep(1000);
          r = await w.call<IperfRun>('iperf', { host }, (IPERF_SECONDS + 30) * 1000);
          blockedTotal += r.blocked;
          if (r.error) throw new Error(`iperf3 ${path}/${size} failed twice: ${r.error} (lock counters +${r.blocked})`);
        }
        (bps[`${path}/${size}`] ??= []).push(r.bps);
        log(`  ${path.padEnd(8)} ${size.padEnd(5)} ${fmtMbit(r.bps)}`);
        pending[size] = r.bps;
        if (pending.small !== undefined && pending.big !== undefined) {
          pairRatio[path]!.push(pending.big / pending.small);
          pending = {};
        }
      }
    }
    await w.call('apply', { size: 'big' });
    const { refused } = await w.call<{ refused: boolean }>('blockedCheck');
    if (!refused) throw new Error('with the big policy in force, ping to the server (not allowed) got through');
    await w.close();

    const sa = (k: string) => stats(apply[k] ?? []);
    const med = (k: string) => stats(bps[k] ?? []).median;
    const runs = (k: string) => (bps[k] ?? []).map((v) => (v / 1e6).toFixed(0)).join(', ');
    const flat = (path: string) => {
      const r = stats(pairRatio[path] ?? []);
      return { value: `${fmtRatio(r.median)}  pairs ${(pairRatio[path] ?? []).map((v) => v.toFixed(3)).join(', ')}`, ratio: r.median };
    };
    const fe = flat('endpoint');
    const fl = flat('lan');
    emitResult(
      'scale',
      [
        { metric: `full apply, ${ENDPOINTS} endpoints + ${LAN_RANGES} ranges`, value: fmtStats(sa('full')), target: 'p95 < 100 ms', pass: sa('full').p95 < 100 },
        ...(
          [
            ['addEndpoint', 'add one endpoint (in place)'],
            ['removeEndpoint', 'remove one endpoint (in place)'],
            ['addRange', 'add one LAN range (in place)'],
            ['removeRange', 'remove one LAN range (in place)'],
            ['addBinding', 'add one binding (rules in place)'],
            ['removeBinding', 'remove one binding (rules in place)'],
          ] as const
        ).map(([k, metric]) => ({ metric: `  at that size: ${metric}`, value: fmtStats(sa(k)), target: 'p95 < 10 ms', pass: sa(k).p95 < 10 })),
        { metric: 'full apply, 1 endpoint (baseline)', value: fmtStats(sa('small')) },
        { metric: '  parts, big: raw nft -f (nft parsing); one nft -j list', value: `median ${fmtMs(stats(rawNft).median)}; ${fmtMs(stats(list).median)}` },
        { metric: `iperf3 endpoint path, 1 endpoint${pin ? ' (pinned)' : ''}`, value: `median ${fmtMbit(med('endpoint/small'))}  runs ${runs('endpoint/small')} Mbit/s` },
        { metric: 'iperf3 endpoint path, big table', value: `median ${fmtMbit(med('endpoint/big'))}  runs ${runs('endpoint/big')} Mbit/s` },
        { metric: 'per-packet: endpoint path big / small', value: fe.value, target: '≈ 1 (flat)', pass: fe.ratio >= 0.95 },
        { metric: 'iperf3 LAN path, 1 endpoint', value: `median ${fmtMbit(med('lan/small'))}  runs ${runs('lan/small')} Mbit/s` },
        { metric: 'iperf3 LAN path, big table', value: `median ${fmtMbit(med('lan/big'))}  runs ${runs('lan/big')} Mbit/s` },
        { metric: 'per-packet: LAN path big / small', value: fl.value, target: '≈ 1 (flat)', pass: fl.ratio >= 0.95 },
        {
          metric: 'lock counters during iperf3 runs',
          value: `${blockedTotal} packets blocked; ${failures.length} failed run(s) retried${failures.length ? `: ${failures.join('; ')}` : ''}`,
        },
      ],
      REPRODUCE,
      {
        apply_10k_ms: p50p95(apply['full'] ?? []),
        add_one_endpoint_at_10k_ms: p50p95(apply['addEndpoint'] ?? []),
        remove_one_endpoint_at_10k_ms: p50p95(apply['removeEndpoint'] ?? []),
        add_one_lan_range_at_10k_ms: p50p95(apply['addRange'] ?? []),
        remove_one_lan_range_at_10k_ms: p50p95(apply['removeRange'] ?? []),
        add_one_binding_at_10k_ms: p50p95(apply['addBinding'] ?? []),
        per_packet_big_over_small: { endpoint_path: Math.round(fe.ratio * 1000) / 1000, lan_path: Math.round(fl.ratio * 1000) / 1000 },
      },
    );
  } finally {
    await ns.destroy();
  }
}

runBench(main, async ([pin]) => worker(pin === 'pin'));

// self-test: how long "Test my lock" takes, end to end: `tunlock test --json` (CLI start, connect, the daemon's
// probes as the requesting user, counter reads, the answer) in the lab's client namespace, 15 runs with the
// tunnel up (protected: five checks, a ping through the real WireGuard tunnel) and 15 with it down (blocking).
// Also the daemon's own figure (the result's `ms`). Bar: under 2 s.
// Run: node test/bench/run.mjs self-test   (root)
import type { SelfTestResult } from '../../host/src/protocol/schema';
import { emitResult, fmtStats, log, p50p95, runBench, stats } from './lib/common';
import { withLabDaemon } from './lib/lab-daemon';

const RUNS = 15;
const REPRODUCE = 'node test/bench/run.mjs self-test';

async function main(): Promise<void> {
  await withLabDaemon(async (lab, d) => {
    await d.cli(['lock', 'on']);
    const measure = async (label: string) => {
      const wall: number[] = [];
      const daemon: number[] = [];
      const failed = new Set<string>();
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        const r = await d.cliRaw(['test']);
        wall.push(performance.now() - t0);
        const result = r.json as SelfTestResult;
        daemon.push(result.ms);
        for (const c of result.checks) if (!c.ok) failed.add(c.name);
      }
      log(`${label}: ${RUNS} runs${failed.size ? `, failing checks: ${[...failed].join(', ')}` : ', every check passed'}`);
      return { wall: stats(wall), daemon: stats(daemon), failed, raw: wall };
    };
    const up = await measure('protected');
    await lab.deleteTunnel();
    const down = await measure('blocking');
    emitResult(
      'self-test',
      [
        { metric: 'tunlock test, protected (CLI → verdict)', value: fmtStats(up.wall), target: 'p95 < 2 s', pass: up.wall.p95 < 2000 },
        { metric: '  of which in the daemon', value: fmtStats(up.daemon) },
        { metric: 'tunlock test, blocking (CLI → verdict)', value: fmtStats(down.wall), target: 'p95 < 2 s', pass: down.wall.p95 < 2000 },
        { metric: '  of which in the daemon', value: fmtStats(down.daemon) },
        { metric: 'checks failing in the lab', value: [...new Set([...up.failed, ...down.failed])].join(', ') || 'none' },
      ],
      REPRODUCE,
      { self_test_ms: { protected: p50p95(up.raw), blocking: p50p95(down.raw) } },
    );
  });
}

runBench(main);

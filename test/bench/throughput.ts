// throughput: TCP through the lab's real WireGuard tunnel (wireguard-go, userspace) with the lock off vs on.
// iperf3 client in the client namespace → server on the internet sink (203.0.113.10:5201, inet namespace);
// the route sends it through the tunnel (checked with the tunnel's own byte counters). Lock on = `tunnel add`
// + `lock on` (state protected). 5 pairs of 3 s runs in ABBA order (off on, on off, off on, …); the ratio is
// taken per pair (neighbours in time see the same machine) and its median reported. Bar: on/off ≥ 0.98.
// Run: node test/bench/run.mjs throughput   (root; TUNLOCK_BENCH_PIN=0 to let the scheduler place processes)
import { execFile } from 'node:child_process';
import os from 'node:os';
import { ADDR } from '../lab/lab';
import type { Status } from '../../host/src/protocol/schema';
import { abba, emitResult, fmtMbit, fmtRatio, log, sleep, stats, runBench } from './lib/common';
import { withLabDaemon } from './lib/lab-daemon';

const PAIRS = 5;
const SECONDS = 3;
const PORT = 5201;
const REPRODUCE = 'node test/bench/run.mjs throughput';
const PIN = process.env.TUNLOCK_BENCH_PIN !== '0';

/** A command that changes no network state (taskset), in the bench's own namespace. */
function execRoot(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err) => (err ? reject(err) : resolve()));
  });
}

interface IperfResult {
  end?: { sum_received?: { bits_per_second?: number; bytes?: number } };
  error?: string;
}

async function main(): Promise<void> {
  await withLabDaemon(async (lab, d) => {

    // Two cores, four busy processes: pin the sending side (iperf3 client, the client's wireguard-go) to CPU 0
    // and the receiving side (the server's wireguard-go, iperf3 server) to CPU 1, so that both conditions see
    // the same scheduling instead of whatever the scheduler picks per run.
    const pin = PIN && os.cpus().length >= 2;
    if (pin) {
      const wgServer = lab.processes().find((p) => p.name === `wireguard-go ${lab.wg.server}`)?.pid;
      if (!lab.vpnPid || !wgServer) throw new Error('cannot find the wireguard-go processes');
      await execRoot('taskset', ['-a', '-p', '0x1', String(lab.vpnPid)]);
      await execRoot('taskset', ['-a', '-p', '0x2', String(wgServer)]);
    }
    const cpu = (n: number) => (pin ? ['taskset', '-c', String(n)] : []);
    const [srvCmd, ...srvArgs] = [...cpu(1), 'iperf3', '-s', '-B', ADDR.sink.v4, '-p', String(PORT)];
    const server = lab.spawnIn('inet', srvCmd!, srvArgs, { name: 'iperf3 -s' });
    // iperf3 block-buffers its stdout into a pipe: poll for the listening socket instead of its banner.
    for (let i = 0; ; i++) {
      const ss = await lab.exec('inet', 'ss', ['-Hltn', `sport = :${PORT}`]);
      if (ss.stdout.trim()) break;
      if (i > 100) throw new Error('iperf3 server did not start listening');
      await sleep(50);
    }

    const route = (await lab.exec('client', 'ip', ['route', 'get', ADDR.sink.v4])).stdout.trim();
    if (!route.includes(`dev ${lab.wg.client}`)) throw new Error(`the sink is not routed through the tunnel: ${route}`);
    const tunnelBytes = async () => {
      const out = (await lab.exec('client', 'wg', ['show', lab.wg.client, 'transfer'])).stdout.trim().split(/\s+/);
      return Number(out[2] ?? 0); // sent
    };

    const runs: Record<'off' | 'on', number[]> = { off: [], on: [] };
    const pairRatios: number[] = [];
    let pending: Partial<Record<'off' | 'on', number>> = {};
    const sequence = abba(PAIRS).map((x) => (x === 'a' ? 'off' : 'on') as 'off' | 'on');
    log(`throughput: iperf3 TCP ${SECONDS} s × ${sequence.length} through wireguard-go, order ${sequence.join(' ')}`);
    for (const mode of sequence) {
      const st = (await d.cli(['lock', mode])) as Status;
      const want = mode === 'on' ? 'protected' : 'off';
      if (st.state !== want) throw new Error(`lock ${mode}: state ${st.state}, expected ${want}`);
      const before = await tunnelBytes();
      const [cliCmd, ...cliArgs] = [...cpu(0), 'iperf3', '-c', ADDR.sink.v4, '-p', String(PORT), '-t', String(SECONDS), '-J'];
      const r = await lab.exec('client', cliCmd!, cliArgs, {
        timeoutMs: (SECONDS + 20) * 1000,
        allowFail: true,
      });
      const json = JSON.parse(r.stdout) as IperfResult;
      const bps = json.end?.sum_received?.bits_per_second;
      const bytes = json.end?.sum_received?.bytes ?? 0;
      if (json.error || !bps) throw new Error(`iperf3 (lock ${mode}) failed: ${json.error ?? r.stderr}`);
      const sent = (await tunnelBytes()) - before;
      if (sent < bytes) throw new Error(`lock ${mode}: only ${sent} bytes went through the tunnel for ${bytes} bytes received`);
      runs[mode].push(bps);
      pending[mode] = bps;
      if (pending.on !== undefined && pending.off !== undefined) {
        pairRatios.push(pending.on / pending.off);
        pending = {};
      }
      log(`  lock ${mode.padEnd(3)} ${fmtMbit(bps)}`);
    }
    await server.kill();

    const off = stats(runs.off);
    const on = stats(runs.on);
    const pr = stats(pairRatios);
    const list = (xs: number[]) => xs.map((x) => (x / 1e6).toFixed(0)).join(', ');
    emitResult(
      'throughput',
      [
        { metric: `lock off (wireguard-go, TCP${pin ? ', pinned' : ''})`, value: `median ${fmtMbit(off.median)}  runs ${list(runs.off)} Mbit/s` },
        { metric: 'lock on', value: `median ${fmtMbit(on.median)}  runs ${list(runs.on)} Mbit/s` },
        {
          metric: 'ratio on / off (median of pairs)',
          value: `${fmtRatio(pr.median)}  pairs ${pairRatios.map((r) => r.toFixed(3)).join(', ')}`,
          target: '≥ 0.98',
          pass: pr.median >= 0.98,
        },
        {
          // The true median lies between the smallest and the largest of n pair ratios with probability 1 − 2·2⁻ⁿ.
          metric: `pair ratios min…max (${Math.round(100 * (1 - 2 * 0.5 ** pairRatios.length))}% interval)`,
          value: `${fmtRatio(pr.min)} … ${fmtRatio(pr.max)}${pr.min < 0.98 && pr.max >= 0.98 ? '  (0.98 inside: not resolved at this noise)' : ''}`,
        },
        { metric: 'ratio of the medians', value: fmtRatio(on.median / off.median) },
        {
          metric: 'spread (max/min of all runs)',
          value: fmtRatio(Math.max(...runs.off, ...runs.on) / Math.min(...runs.off, ...runs.on)),
        },
      ],
      REPRODUCE,
    );
  });
}

runBench(main);

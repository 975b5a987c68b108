// The lab with the daemon under test in its client namespace, the lab's tunnel configured: the start of the
// benches that measure tunlockd itself (lock-latency, drop-detect, throughput).
import { Lab } from '../../lab/fixture/lab';
import { ADDR } from '../../lab/fixture/topology';
import type { Daemon } from '../../lab/fixture/daemon';
import { daemonScripts } from './common';

export const LAB_ENDPOINT = `${ADDR.vpn.pub4}:${ADDR.vpn.port}/udp`;

/** Runs `fn` with a fresh lab and daemon (tunnel added, lock off); always tears the lab down. */
export async function withLabDaemon<T>(fn: (lab: Lab, d: Daemon) => Promise<T>): Promise<T> {
  const { daemonJs, cliJs } = daemonScripts();
  const lab = await Lab.create();
  try {
    const d = await lab.startDaemon({ daemonJs, cliJs });
    await d.cli(['tunnel', 'add', lab.wg.client, '--endpoint', LAB_ENDPOINT]);
    return await fn(lab, d);
  } finally {
    await lab.destroy();
  }
}

// leaks: packets on the wire outside the tunnel under load, tunlock beside wg-quick's documented kill switch,
// in the same lab and the same run. tcpdump on the home router's LAN port counts every packet the client
// puts on the wire outside the tunnel (the lab's leak filter: not the tunnel's own packets, not ARP, NDP
// or DHCP). Load: UDP to the sink, v4 + v6, ≥ 1,000 pps from the client, pings and the lab's TCP/UDP/DNS
// stream from the client and from the container behind it (whose packets the client forwards).
//   tunlock   `lock on`; 20 tunnel drops (SIGKILL wireguard-go and `ip link del`, alternating), each
//             restored, with 5 setting flips (LAN access block/allow) around each: 100 flips.
//   wg-quick  tunlock stopped (lock off, no table); the kill switch of wg-quick(8)'s man page, its PostUp
//             `iptables -I OUTPUT ! -o %i -m mark ! --mark $(wg show %i fwmark) -m addrtype ! --dst-type LOCAL
//             -j REJECT` (and ip6tables), written as the same nft rule (no iptables here), with the fwmark
//             wg-quick sets (51820); the same 20 drops. It has no settings to flip.
// Bar: 0 packets leaked (tunlock). wg-quick's figure is the anchor (its rule covers neither forwarded traffic
// from containers nor anything but OUTPUT).
// Run: node test/bench/run.mjs leaks   (root)
import path from 'node:path';
import { Lab } from '../lab/fixture/lab';
import { LAB_DIR } from '../lab/fixture/processes';
import { ADDR } from '../lab/fixture/topology';
import type { Daemon } from '../lab/fixture/daemon';
import type { Status } from '../../host/src/protocol/schema';
import { daemonScripts, emitResult, log, runBench } from './lib/common';
import { LAB_ENDPOINT } from './lib/lab-daemon';
import { WG_FWMARK, wgQuickKillSwitch } from './lib/wg-quick';

const DROPS = 20;
const FLIPS_PER_DROP = 5;
const REPRODUCE = 'node test/bench/run.mjs leaks';
const STREAM = {
  intervalMs: 25,
  tcp: [[ADDR.sink.v4, 80], [ADDR.sink.v6, 80]],
  udp: [[ADDR.sink.v4, 5000], [ADDR.sink.v6, 5000]],
  dns: [[ADDR.ispDns.v4, 53], [ADDR.lanDns.v4, 53]],
};

interface RunFigures {
  leaked: number;
  pps: number;
  seconds: number;
  samples: string[];
}

/**
 * The packet-rate part of the load: UDP datagrams to the sink, v4 and v6, 10 of each every 10 ms (2,000 pps
 * asked; timers lag on a busy machine, so the rate reported is what was sent). Prints {"sent":N} on SIGTERM.
 */
const BLASTER = `
const dgram = require('node:dgram');
const s4 = dgram.createSocket('udp4'), s6 = dgram.createSocket('udp6');
s4.on('error', () => {}); s6.on('error', () => {});
const buf = Buffer.alloc(64);
let sent = 0;
setInterval(() => {
  for (let i = 0; i < 10; i++) {
    s4.send(buf, ${ADDR.sink.udp[0]}, '${ADDR.sink.v4}', () => {});
    s6.send(buf, ${ADDR.sink.udp[0]}, '${ADDR.sink.v6}', () => {});
    sent += 2;
  }
}, 10);
process.on('SIGTERM', () => { process.stdout.write(JSON.stringify({ sent }) + '\\n'); process.exit(0); });
`;

/** Runs `disrupt` under the load, capturing; returns what leaked and the load's packet rate. */
async function underLoad(lab: Lab, disrupt: () => Promise<void>): Promise<RunFigures> {
  const script = path.join(LAB_DIR, 'servers/stream.mjs');
  const started = Date.now();
  const blaster = lab.spawnIn('client', process.execPath, ['-e', BLASTER], { name: 'udp-blaster' });
  let out = '';
  blaster.child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const { packets } = await lab.captureDuring(async () => {
    const others = [
      lab.spawnIn('client', process.execPath, [script, JSON.stringify(STREAM)], { name: 'stream' }),
      lab.spawnIn('client', 'ping', ['-q', '-i', '0.01', ADDR.sink.v4], { name: 'ping4' }),
      lab.spawnIn('client', 'ping', ['-q', '-6', '-i', '0.01', ADDR.sink.v6], { name: 'ping6' }),
      lab.spawnIn('container', process.execPath, [script, JSON.stringify({ ...STREAM, tcp: [[ADDR.sink.v4, 80]], udp: [[ADDR.sink.v4, 5000]], dns: [[ADDR.ispDns.v4, 53]] })], { name: 'stream-ctr' }),
      lab.spawnIn('container', 'ping', ['-q', '-i', '0.01', ADDR.sink.v4], { name: 'ping-ctr' }),
    ];
    try {
      await disrupt();
    } finally {
      for (const p of others) await p.kill('SIGTERM');
    }
  });
  await blaster.kill('SIGTERM');
  const seconds = (Date.now() - started) / 1000;
  const sent = Number(/"sent":(\d+)/.exec(out)?.[1] ?? 0);
  return { leaked: packets.length, pps: Math.round(sent / seconds), seconds: Math.round(seconds), samples: packets.slice(0, 3) };
}

/** DROPS tunnel drops, each restored; `around(phase)` runs before the drop (0) and while the tunnel is down (1). */
async function drops(lab: Lab, around: (phase: 0 | 1) => Promise<void>): Promise<void> {
  for (let i = 0; i < DROPS; i++) {
    await around(0);
    if (i % 2 === 0) await lab.killVpn();
    else await lab.deleteTunnel();
    await around(1);
    await lab.restoreTunnel();
  }
}

async function main(): Promise<void> {
  const { daemonJs, cliJs } = daemonScripts();
  const lab = await Lab.create({ container: true });
  try {
    const d: Daemon = await lab.startDaemon({ daemonJs, cliJs });
    await d.cli(['tunnel', 'add', lab.wg.client, '--endpoint', LAB_ENDPOINT]);
    const st = (await d.cli(['lock', 'on'])) as Status;
    if (st.state !== 'protected') throw new Error(`lock on: state ${st.state}`);

    log(`leaks: tunlock, ${DROPS} tunnel drops + ${DROPS * FLIPS_PER_DROP} setting flips under load`);
    let flips = 0;
    const ours = await underLoad(lab, () =>
      drops(
        lab,
        async (phase) => {
          // 3 flips before each drop, 2 while the tunnel is down.
          for (let k = phase === 0 ? 0 : 3; k < (phase === 0 ? 3 : FLIPS_PER_DROP); k++) await d.cli(['lan', flips++ % 2 === 0 ? 'block' : 'allow']);
        },
      ),
    );
    const errors = (await d.cli(['status'])) as Status;
    if (errors.error) throw new Error(`tunlock reports an error after the run: ${errors.error.message}`);

    // wg-quick: our lock off and the daemon stopped, then its kill switch in the client namespace.
    await d.cli(['lock', 'off']);
    await d.kill('SIGTERM');
    // As wg-quick does: the fwmark is part of the interface's configuration, set before it comes up.
    lab.clientFwmark = WG_FWMARK;
    await lab.exec('client', 'wg', ['set', lab.wg.client, 'fwmark', String(WG_FWMARK)]);
    await lab.exec('client', 'nft', ['-f', '-'], { input: wgQuickKillSwitch(lab.wg.client) });
    log(`leaks: wg-quick kill switch, ${DROPS} tunnel drops under load`);
    const theirs = await underLoad(lab, () => drops(lab, async () => undefined));

    emitResult(
      'leaks',
      [
        { metric: 'tunlock: packets leaked', value: `${ours.leaked} (${DROPS} drops, ${flips} setting flips, ${ours.seconds} s at ${ours.pps} pps of UDP alone)`, target: '0', pass: ours.leaked === 0 },
        { metric: "wg-quick's kill switch: packets leaked", value: `${theirs.leaked} (${DROPS} drops, ${theirs.seconds} s at ${theirs.pps} pps)${theirs.samples.length ? `, e.g. ${theirs.samples[0]}` : ''}` },
        { metric: 'load', value: `≥ ${Math.min(ours.pps, theirs.pps)} pps UDP v4+v6, plus pings and TCP/UDP/DNS streams from client and container`, target: '≥ 1000 pps', pass: Math.min(ours.pps, theirs.pps) >= 1000 },
      ],
      REPRODUCE,
      { leaks_under_load: ours.leaked, load_pps: Math.min(ours.pps, theirs.pps), wgquick: { leaks_under_load: theirs.leaked } },
    );
  } finally {
    await lab.destroy();
  }
}

runBench(main);

// The seeds' "drop test", automated: continuous traffic (TCP, UDP, DNS to the ISP and the LAN router, ICMP,
// IPv4 and IPv6, from the client and from a container behind it) while the tunnel breaks in every way we know,
// with tcpdump on the home router's LAN port counting what the client puts on the wire outside the tunnel.
// Every locked scenario must show 0 such packets; a failure prints them. lab-baseline.test.ts proves the
// same capture does see leaks when there is no kill switch.
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Lab, labSkip } from './fixture/lab';
import { LAB_DIR } from './fixture/processes';
import { ADDR, VIA_LEAK4, VIA_TUNNEL } from './fixture/topology';
import type { Daemon } from './fixture/daemon';
import type { ProbeKind } from './fixture/probes';
import { describeProbes } from './fixture/probes';
import type { Status } from '../../host/src/protocol/schema.js';

const skip = labSkip('lab: leak scenarios');

const INTERNET: ProbeKind[] = ['tcp4:80', 'tcp4:443', 'udp4', 'icmp4', 'dns-isp', 'dns-isp-tcp', 'tcp6:80', 'udp6', 'icmp6', 'dns6-isp', 'dns-lan'];
const CONTAINER: ProbeKind[] = ['tcp4:80', 'udp4', 'icmp4', 'dns-isp'];
const STREAM = {
  intervalMs: 25,
  tcp: [[ADDR.sink.v4, 80], [ADDR.sink.v6, 80]],
  udp: [[ADDR.sink.v4, 5000], [ADDR.sink.v6, 5000]],
  dns: [[ADDR.ispDns.v4, 53], [ADDR.lanDns.v4, 53]],
};

describe.skipIf(skip)('leak scenarios: 0 packets outside the tunnel', () => {
  let lab: Lab;
  let d: Daemon;
  const status = async () => (await d.cli(['status'])) as Status;
  const endpoint = `${ADDR.vpn.pub4}:${ADDR.vpn.port}/udp`;

  async function waitState(state: Status['state'], timeoutMs = 5000): Promise<number> {
    const t0 = Date.now();
    while ((await status()).state !== state) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`state is ${(await status()).state}, expected ${state}\n${d.log()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return Date.now() - t0;
  }

  /**
   * Runs `fn` with a continuous stream from the client and the container (TCP/UDP/DNS v4+v6, ICMP v4+v6),
   * capturing the client's wire; returns what leaked (tcpdump lines).
   */
  async function underTraffic(fn: () => Promise<void>): Promise<string[]> {
    const script = path.join(LAB_DIR, 'servers/stream.mjs');
    const { packets } = await lab.captureDuring(async () => {
      const procs = [
        lab.spawnIn('client', process.execPath, [script, JSON.stringify(STREAM)], { name: 'stream' }),
        lab.spawnIn('container', process.execPath, [script, JSON.stringify({ ...STREAM, tcp: [[ADDR.sink.v4, 80]], udp: [[ADDR.sink.v4, 5000]], dns: [[ADDR.ispDns.v4, 53]] })], { name: 'stream-ctr' }),
        lab.spawnIn('client', 'ping', ['-q', '-i', '0.05', ADDR.sink.v4], { name: 'ping4' }),
        lab.spawnIn('client', 'ping', ['-q', '-6', '-i', '0.05', ADDR.sink.v6], { name: 'ping6' }),
        lab.spawnIn('container', 'ping', ['-q', '-i', '0.05', ADDR.sink.v4], { name: 'ping-ctr' }),
      ];
      try {
        await fn();
      } finally {
        for (const p of procs) await p.kill('SIGTERM');
      }
    });
    return packets;
  }

  async function expectNoneReached(kinds: ProbeKind[], from: 'client' | 'container' = 'client'): Promise<void> {
    const r = await lab.probeAll({ kinds, from });
    expect(Object.values(r).filter((p) => p.reached), describeProbes(r)).toEqual([]);
  }

  async function expectThroughTunnel(kinds: ProbeKind[], from: 'client' | 'container' = 'client'): Promise<void> {
    const r = await lab.probeAll({ kinds, from });
    for (const k of kinds) expect(r[k], describeProbes(r)).toMatchObject({ reached: true, via: VIA_TUNNEL });
  }

  beforeAll(async () => {
    lab = await Lab.create({ container: true });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  // Every test starts from the same place, whatever ran before it: the tunnel up, only the lab's own NAT in
  // the client, and a fresh daemon (new state) with the lab's tunnel configured, locked (mode on): protected.
  beforeEach(async () => {
    if (d) {
      await d.kill('SIGKILL');
      await lab.guardGone();
    }
    await lab.exec('client', 'nft', ['flush', 'ruleset']);
    await lab.restoreLabFirewall();
    if (lab.vpnPid === undefined || !(await lab.tunnelExists())) await lab.restoreTunnel();
    d = await lab.startDaemon();
    await d.cli(['tunnel', 'add', lab.wg.client, '--endpoint', endpoint]);
    await d.cli(['lock', 'on']);
    await waitState('protected');
  });

  /** The tunnel deleted under the lock: blocking. */
  async function blocking(): Promise<void> {
    await lab.deleteTunnel();
    await waitState('blocking');
  }

  it('tunnel up: IPv4 only through the tunnel, IPv6 blocked, nothing else on the wire (client and container)', async () => {
    const leaked = await underTraffic(async () => {
      await expectThroughTunnel(['tcp4:80', 'tcp4:443', 'udp4', 'icmp4', 'dns-isp', 'dns-isp-tcp']);
      await expectThroughTunnel(CONTAINER, 'container');
      await expectNoneReached(['tcp6:80', 'udp6', 'icmp6', 'dns6-isp', 'dns-lan']);
    });
    expect(leaked, leaked.join('\n')).toEqual([]);
  });

  it('VPN process SIGKILLed under traffic: blocking, 0 packets', async () => {
    const leaked = await underTraffic(async () => {
      await lab.killVpn();
      const ms = await waitState('blocking');
      console.info(`VPN killed → state blocking seen by the CLI after ${ms} ms`);
      await expectNoneReached(INTERNET);
      await expectNoneReached(CONTAINER, 'container');
    });
    expect(leaked, leaked.join('\n')).toEqual([]);
  });

  it('tunnel restored: traffic flows again, through the tunnel', async () => {
    await lab.killVpn();
    await waitState('blocking');
    await lab.restoreTunnel();
    await waitState('protected');
    await expectThroughTunnel(['tcp4:80', 'udp4', 'dns-isp']);
  });

  it('tunnel interface deleted under traffic: 0 packets', async () => {
    const leaked = await underTraffic(async () => {
      await lab.deleteTunnel();
      await waitState('blocking');
      await expectNoneReached(INTERNET);
    });
    expect(leaked, leaked.join('\n')).toEqual([]);
    await lab.restoreTunnel();
    await waitState('protected');
  });

  it('tunnel flapping 5× under traffic: 0 packets', async () => {
    const leaked = await underTraffic(async () => {
      for (let i = 0; i < 5; i++) {
        if (i % 2) await lab.killVpn();
        else await lab.deleteTunnel();
        await new Promise((r) => setTimeout(r, 150));
        await lab.restoreTunnel();
      }
    });
    expect(leaked, leaked.join('\n')).toEqual([]);
    await waitState('protected');
    await expectThroughTunnel(['tcp4:80']);
  });

  it('tunlockd SIGKILLed while blocking, under traffic: 0 packets; restart re-applies', async () => {
    const leaked = await underTraffic(async () => {
      await lab.deleteTunnel();
      await waitState('blocking');
      await d.kill('SIGKILL');
      await expectNoneReached(INTERNET);
      await d.restart();
      expect((await status()).state).toBe('blocking');
      await expectNoneReached(['tcp4:80', 'dns-isp']);
    });
    expect(leaked, leaked.join('\n')).toEqual([]);
  });

  it('tunlockd restarted (SIGTERM) under traffic: 0 packets', async () => {
    await blocking();
    const leaked = await underTraffic(async () => {
      await d.restart();
      await expectNoneReached(['tcp4:80', 'udp4', 'dns-isp']);
    });
    expect(leaked, leaked.join('\n')).toEqual([]);
  });

  it('settings changed 100× under traffic (tunnel down): 0 packets', async () => {
    await blocking();
    const leaked = await underTraffic(async () => {
      const changes = [['lan', 'block'], ['lock', 'always'], ['lan', 'allow'], ['lock', 'on']];
      for (let i = 0; i < 100; i++) await d.cli(changes[i % changes.length]!);
    });
    expect(leaked, leaked.join('\n')).toEqual([]);
    expect((await status()).state).toBe('blocking');
  });

  it('another tool flushing the whole ruleset 10× under traffic: 0 packets, every flush re-asserted', async () => {
    await blocking();
    const before = (await status()).tamper.count;
    const leaked = await underTraffic(async () => {
      for (let i = 0; i < 10; i++) {
        await lab.exec('client', 'nft', ['flush', 'ruleset']);
        await lab.restoreLabFirewall();
        await new Promise((r) => setTimeout(r, 100));
      }
      await expectNoneReached(['tcp4:80', 'udp4', 'dns-isp']);
    });
    expect(leaked, leaked.join('\n')).toEqual([]);
    expect((await status()).tamper.count).toBeGreaterThanOrEqual(before + 1);
  });

  it('container behind the client while blocking: nothing forwarded out', async () => {
    await blocking();
    const { packets } = await lab.captureDuring(() => expectNoneReached(CONTAINER, 'container'));
    expect(packets, packets.join('\n')).toEqual([]);
  });

  it('wrong port / protocol to the endpoint address: blocked, 0 packets', async () => {
    await blocking();
    const { packets } = await lab.captureDuring(() => expectNoneReached(['endpoint-tcp', 'endpoint-udp']));
    expect(packets, packets.join('\n')).toEqual([]);
  });

  it('mode on, deliberate disconnect: the lock is released and traffic flows directly', async () => {
    await lab.restoreTunnel();
    await waitState('protected');
    await d.cli(['tunnel', 'down', lab.wg.client, '--intentional']);
    await lab.deleteTunnel();
    await waitState('standby');
    const r = await lab.probeAll({ kinds: ['tcp4:80', 'dns-isp'] });
    for (const k of ['tcp4:80', 'dns-isp'] as const) expect(r[k], describeProbes(r)).toMatchObject({ reached: true, via: VIA_LEAK4 });
  });

  it('mode on re-engages when the tunnel comes back, and a later crash blocks again', async () => {
    // Released by a deliberate disconnect first (standby).
    await d.cli(['tunnel', 'down', lab.wg.client, '--intentional']);
    await lab.deleteTunnel();
    await waitState('standby');
    await lab.restoreTunnel();
    await waitState('protected');
    const leaked = await underTraffic(async () => {
      await lab.killVpn();
      await waitState('blocking');
      await expectNoneReached(['tcp4:80', 'dns-isp']);
    });
    expect(leaked, leaked.join('\n')).toEqual([]);
  });

  it('mode always, deliberate disconnect: still blocked, 0 packets', async () => {
    await lab.restoreTunnel();
    await d.cli(['lock', 'always']);
    await waitState('protected');
    const leaked = await underTraffic(async () => {
      await d.cli(['tunnel', 'down', lab.wg.client, '--intentional']);
      await lab.deleteTunnel();
      await waitState('blocking');
      await expectNoneReached(INTERNET);
    });
    expect(leaked, leaked.join('\n')).toEqual([]);
  });

  it('mode always with no tunnel ever up (fresh settings): blocked, 0 packets', async () => {
    await lab.deleteTunnel();
    await d.cli(['reset', '--yes']);
    await d.cli(['tunnel', 'add', lab.wg.client, '--endpoint', endpoint]);
    const s = (await d.cli(['lock', 'always'])) as Status;
    expect(s.state).toBe('blocking');
    const leaked = await underTraffic(() => expectNoneReached(INTERNET));
    expect(leaked, leaked.join('\n')).toEqual([]);
  });
});

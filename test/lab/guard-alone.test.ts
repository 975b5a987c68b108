// The guard table alone, in a real kernel with a real tunnel: another tool flushes the ruleset while tunlockd
// cannot re-assert it (frozen with SIGSTOP; its nft session, which owns the guard, runs on), so for as long as
// the test needs, only `inet tunlock_guard` stands between the client and the wire. The guard carries fewer
// chains than the main table (a lock: postrouting only; see guardCarries in nft-rules.ts), so these tests
// try what the main table's other chains would have stopped: forwarded container traffic, IPv6, DNS to the
// LAN, a later route chain steering tunnel traffic out of the physical link, a connection the host opened
// before the lock, and a bound account's traffic with the lock off.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Lab, labSkip } from './fixture/lab';
import { ADDR, VIA_LEAK4, VIA_TUNNEL } from './fixture/topology';
import { waitUntil } from './fixture/processes';
import { probeAs } from './probe-as';
import type { Daemon } from './fixture/daemon';
import type { ProbeKind } from './fixture/probes';
import { describeProbes } from './fixture/probes';
import type { Status } from '../../host/src/protocol/schema.js';

const skip = labSkip('lab: guard alone');
const NOBODY = 65534;
const INTERNET: ProbeKind[] = ['tcp4:80', 'tcp4:443', 'udp4', 'icmp4', 'dns-isp', 'dns-isp-tcp', 'tcp6:80', 'udp6', 'icmp6', 'dns6-isp', 'dns-lan', 'dns-lan-tcp'];
const CONTAINER: ProbeKind[] = ['tcp4:80', 'udp4', 'icmp4', 'dns-isp'];

describe.skipIf(skip)('the guard table alone (main table flushed, daemon frozen)', () => {
  let lab: Lab;
  let d: Daemon;
  const status = async () => (await d.cli(['status'])) as Status;
  const tables = async () => (await lab.exec('client', 'nft', ['list', 'tables'])).stdout;

  async function waitState(state: Status['state']): Promise<void> {
    await waitUntil(`state ${state}`, 5000, async () => (await status()).state === state);
  }

  /**
   * Runs `fn` while the guard alone is in force: the daemon stopped (SIGSTOP), then another tool's
   * `nft flush ruleset` (the lab's own NAT put back, so a leak would really reach the internet). Afterwards
   * the daemon continues and re-asserts the main table.
   */
  async function guardAlone<T>(fn: () => Promise<T>): Promise<T> {
    process.kill(d.pid, 'SIGSTOP');
    try {
      await lab.exec('client', 'nft', ['flush', 'ruleset']);
      await lab.restoreLabFirewall();
      const now = await tables();
      expect(now).toContain('table inet tunlock_guard');
      expect(now).not.toMatch(/table inet tunlock$/m);
      return await fn();
    } finally {
      process.kill(d.pid, 'SIGCONT');
      await waitUntil('main table re-asserted', 10_000, async () => /table inet tunlock$/m.test(await tables()));
    }
  }

  /** Probes (client and container) while capturing: none reached its server, nothing on the wire. */
  async function expectNothingOut(kinds: ProbeKind[], container: ProbeKind[]): Promise<void> {
    const { result, packets } = await lab.captureDuring(async () => ({
      ...(await lab.probeAll({ kinds })),
      ...Object.fromEntries(Object.entries(await lab.probeAll({ kinds: container, from: 'container' })).map(([k, v]) => [`ctr ${k}`, v])),
    }));
    expect(Object.values(result).filter((p) => p.reached), describeProbes(result)).toEqual([]);
    expect(packets, `leaked packets:\n${packets.join('\n')}`).toEqual([]);
  }

  beforeAll(async () => {
    lab = await Lab.create({ container: true });
    d = await lab.startDaemon();
    await d.cli(['tunnel', 'add', lab.wg.client, '--endpoint', `${ADDR.vpn.pub4}:${ADDR.vpn.port}/udp`]);
  });
  afterAll(async () => {
    if (d?.running) process.kill(d.pid, 'SIGCONT');
    await lab?.destroy();
  });

  // Every test starts with the daemon running, the tunnel up, the lock off and nothing bound.
  beforeEach(async () => {
    await d.cli(['lock', 'off']);
    await d.cliRaw(['unbind', 'user', 'nobody']);
    if (!(await lab.tunnelExists())) await lab.restoreTunnel();
    await waitUntil('tunnel up in status', 5000, async () => (await status()).tunnels[0]?.up === true);
  });

  it('lock on, tunnel up: the tunnel still carries the client and the container; IPv6 and DNS to the LAN stay blocked', async () => {
    expect(((await d.cli(['lock', 'on'])) as Status).state).toBe('protected');
    await guardAlone(async () => {
      const { result, packets } = await lab.captureDuring(async () => [
        ...Object.values(await lab.probeAll({ kinds: ['tcp4:80', 'udp4', 'dns-isp'] })),
        ...Object.values(await lab.probeAll({ kinds: ['tcp4:80', 'icmp4'], from: 'container' })),
      ]);
      for (const p of result) expect(p, JSON.stringify(result)).toMatchObject({ reached: true, via: VIA_TUNNEL });
      expect(packets, packets.join('\n')).toEqual([]);
      await expectNothingOut(['tcp6:80', 'udp6', 'icmp6', 'dns6-isp', 'dns-lan', 'dns-lan-tcp'], []);
    });
  });

  it('lock on, tunnel up: a later route chain steering tunnel traffic out of the physical link gets 0 packets out', async () => {
    expect(((await d.cli(['lock', 'on'])) as Status).state).toBe('protected');
    await guardAlone(async () => {
      // Another tool's `type route` chain marks traffic to the sink, and a policy route sends it out of eth0.
      await lab.exec('client', 'nft', ['-f', '-'], {
        input: `table inet rogue {\n chain out {\n  type route hook output priority 10; policy accept;\n  ip daddr ${ADDR.sink.v4} meta mark set 0x99\n }\n}\n`,
      });
      await lab.exec('client', 'ip', ['rule', 'add', 'fwmark', '0x99', 'table', '99', 'pref', '100']);
      await lab.exec('client', 'ip', ['route', 'add', 'default', 'via', ADDR.router.lan4, 'dev', 'eth0', 'table', '99']);
      try {
        await expectNothingOut(['tcp4:80', 'tcp4:443', 'udp4', 'icmp4'], []);
      } finally {
        await lab.exec('client', 'nft', ['delete', 'table', 'inet', 'rogue']);
        await lab.exec('client', 'ip', ['rule', 'del', 'fwmark', '0x99', 'table', '99', 'pref', '100']);
        await lab.exec('client', 'ip', ['route', 'flush', 'table', '99']);
      }
    });
  });

  it('lock on, tunnel down: nothing from the client or the container behind it; the LAN printer still answers', async () => {
    expect(((await d.cli(['lock', 'on'])) as Status).state).toBe('protected');
    await lab.deleteTunnel();
    await waitState('blocking');
    await guardAlone(async () => {
      await expectNothingOut(INTERNET, CONTAINER);
      expect((await lab.probe('printer-tcp')).reached).toBe(true);
    });
  });

  it('lock on: a ping the client started out of the physical link before the lock (conntrack: established, from its LAN address) puts nothing on the wire', async () => {
    // Before the lock: root's ping bound to eth0 gets its replies, so conntrack holds the flow as established.
    const ping = lab.spawnIn('client', 'ping', ['-4', '-n', '-i', '0.2', '-I', 'eth0', ADDR.sink.v4], { name: 'ping eth0' });
    const lines = outputLines(ping.child);
    try {
      await waitUntil('ping replies via eth0', 5000, async () => lines.some((l) => /bytes from/.test(l)));
      expect(((await d.cli(['lock', 'on'])) as Status).state).toBe('protected');
      await guardAlone(async () => {
        // Counts the pings as they are sent, before any filter (a table of the test's own, after the flush).
        await lab.exec('client', 'nft', ['-f', '-'], {
          input: `table inet pingcount {\n chain out {\n  type filter hook output priority -300; policy accept;\n  ip daddr ${ADDR.sink.v4} icmp type echo-request counter\n }\n}\n`,
        });
        const sent = async () => Number(/packets (\d+)/.exec((await lab.exec('client', 'nft', ['list', 'table', 'inet', 'pingcount'])).stdout)?.[1] ?? 0);
        try {
          const { packets } = await lab.captureDuring(() => waitUntil('five pings sent', 10_000, async () => (await sent()) >= 5));
          expect(packets, `leaked packets:\n${packets.join('\n')}`).toEqual([]);
        } finally {
          await lab.exec('client', 'nft', ['delete', 'table', 'inet', 'pingcount']);
        }
      });
    } finally {
      await ping.kill('SIGTERM');
    }
  });

  it('lock off, a bound user, tunnel down: the guard alone still keeps the bound user off the wire; others go out', async () => {
    await d.cli(['bind', 'user', 'nobody']);
    await lab.deleteTunnel();
    await waitUntil('tunnel down in status', 5000, async () => (await status()).tunnels[0]?.up === false);
    await guardAlone(async () => {
      const web = { proto: 'tcp' as const, host: ADDR.sink.v4, port: 80 };
      const { result, packets } = await lab.captureDuring(async () => [
        await probeAs(lab, NOBODY, web),
        await probeAs(lab, NOBODY, { proto: 'udp', host: ADDR.sink.v4, port: 5000 }),
        await probeAs(lab, NOBODY, { proto: 'dns', host: ADDR.ispDns.v4, port: 53 }),
      ]);
      expect(result.filter((r) => r.ok)).toEqual([]);
      expect(packets, packets.join('\n')).toEqual([]);
      expect(await probeAs(lab, 0, web)).toMatchObject({ ok: true, seen: VIA_LEAK4 });
    });
  });
});

/** Every line the process writes (stdout and stderr), as it comes. */
function outputLines(child: ChildProcess): string[] {
  const lines: string[] = [];
  const take = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.trim()));
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return lines;
}

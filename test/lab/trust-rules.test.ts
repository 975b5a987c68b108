// The lock's own inputs must not turn it into a no-op (issue 11): a physical interface offered as a tunnel, an
// unprivileged program using the VPN server's exception (TunnelCrack "ServerIP"). A real tunlockd in the lab's
// client namespace; every check ends with a capture on the router's LAN port that must show 0 packets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, labSkip } from './fixture/lab';
import { ADDR, VIA_TUNNEL } from './fixture/topology';
import type { Daemon } from './fixture/daemon';
import type { ProbeKind } from './fixture/probes';
import { describeProbes } from './fixture/probes';
import { probeAs } from './probe-as';
import type { Status } from '../../host/src/protocol/schema.js';

const skip = labSkip('lab: trust boundary of the rules');
const NOBODY = 65534;
const INTERNET: ProbeKind[] = ['tcp4:80', 'udp4', 'icmp4', 'dns-isp', 'dns-isp-tcp', 'tcp6:80', 'dns6-isp'];
/** A second port the VPN server's address listens on (UDP), configured as an endpoint of the tunnel. */
const SERVER_PORT = ADDR.endpointSink.udp[0];
const SERVER = { proto: 'udp' as const, host: ADDR.vpn.pub4, port: SERVER_PORT };

describe.skipIf(skip)('trust boundary of the rules', () => {
  let lab: Lab;
  let d: Daemon;
  const status = async () => (await d.cli(['status'])) as Status;
  const tunnelSet = async () => (await lab.exec('client', 'nft', ['list', 'set', 'inet', 'tunlock', 'tunnels'])).stdout;

  async function expectBlocked(kinds: ProbeKind[]): Promise<void> {
    const { result, packets } = await lab.captureDuring(() => lab.probeAll({ kinds }));
    expect(Object.values(result).filter((p) => p.reached), describeProbes(result)).toEqual([]);
    expect(packets, `leaked packets:\n${packets.join('\n')}`).toEqual([]);
  }

  async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  beforeAll(async () => {
    lab = await Lab.create();
    d = await lab.startDaemon();
    await d.cli(['tunnel', 'add', lab.wg.client, '--endpoint', `${ADDR.vpn.pub4}:${ADDR.vpn.port}/udp`, '--endpoint', `${ADDR.vpn.pub4}:${SERVER_PORT}/udp`]);
    expect(((await d.cli(['lock', 'on'])) as Status).state).toBe('protected');
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('tunnel add / tunnel up of the physical uplink are refused with what it is and what to do', async () => {
    for (const args of [['tunnel', 'add', 'eth0', '--endpoint', `${ADDR.vpn.pub4}:${ADDR.vpn.port}/udp`], ['tunnel', 'up', 'eth0']]) {
      const r = await d.cliRaw(args);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/eth0 is not a VPN tunnel: .*(ether|veth)/);
      expect(r.stderr).toMatch(/→ name the VPN's own interface/);
    }
    expect((await status()).tunnels.map((t) => t.iface)).toEqual([lab.wg.client]);
    expect(await tunnelSet()).not.toContain('"eth0"');
  });

  it('a physical interface offered as a tunnel: after the VPN dies, 0 packets leave', async () => {
    await d.cliRaw(['tunnel', 'up', 'eth0']);
    await lab.killVpn();
    await waitFor(async () => (await status()).state === 'blocking', 'blocking');
    await expectBlocked(INTERNET);
    await lab.restoreTunnel();
    await waitFor(async () => (await status()).state === 'protected', 'protected');
  });

  it('a configured name that appears as a non-tunnel link is refused, blocked, and status warns', async () => {
    const name = `vx${lab.id.slice(-6)}`;
    await d.cli(['tunnel', 'add', name]);
    await lab.exec('client', 'ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
    await lab.exec('client', 'ip', ['link', 'set', name, 'up']);
    try {
      await waitFor(async () => (await status()).tunnels.some((t) => t.iface === name && t.problem), 'status warning');
      const t = (await status()).tunnels.find((x) => x.iface === name)!;
      expect(t).toMatchObject({ up: false, problem: expect.stringMatching(new RegExp(`^${name} is not a VPN tunnel: .*veth`)) });
      expect(await tunnelSet()).not.toContain(`"${name}"`);
      const text = await lab.exec('client', process.execPath, [`${process.cwd()}/host/dist/tunlock.js`, '--socket', d.socket, 'status']);
      expect(text.stdout).toMatch(new RegExp(`WARNING: +${name} is not a VPN tunnel`));
    } finally {
      await lab.exec('client', 'ip', ['link', 'del', name]);
    }
    await waitFor(async () => !(await status()).tunnels.some((t) => t.problem), 'warning cleared');
    await d.cli(['tunnel', 'remove', name]);
  });

  it('an unprivileged program sending to the VPN server\'s address and port: 0 packets', async () => {
    const cap = await lab.capture();
    const nobody = await probeAs(lab, NOBODY, SERVER);
    const packets = await cap.stop();
    expect(nobody).toMatchObject({ ok: false });
    expect(packets, `leaked packets:\n${packets.join('\n')}`).toEqual([]);
    // ...while root's sockets (the VPN's own, here wireguard-go) still reach it,
    expect(await probeAs(lab, 0, SERVER)).toMatchObject({ ok: true, seen: ADDR.router.wan4 });
    // and the tunnel (re)connects through the exception and carries traffic.
    await lab.restoreTunnel();
    const r = await lab.probeAll({ kinds: ['tcp4:80'] });
    expect(r['tcp4:80'], describeProbes(r)).toMatchObject({ reached: true, via: VIA_TUNNEL });
  });

  it('with a WireGuard fwmark, only packets carrying it reach the server (root\'s unmarked sockets too are refused)', async () => {
    await lab.exec('client', 'wg', ['set', lab.wg.client, 'fwmark', '0xca6c']);
    const s = (await d.cli(['tunnel', 'up', lab.wg.client])) as Status;
    expect(s.tunnels[0]).toMatchObject({ endpointOwner: 'fwmark 0xca6c' });
    const cap = await lab.capture();
    const root = await probeAs(lab, 0, SERVER);
    const packets = await cap.stop();
    expect(root).toMatchObject({ ok: false });
    expect(packets, `leaked packets:\n${packets.join('\n')}`).toEqual([]);
    // wireguard-go marks its own socket: the tunnel keeps working through the mark-only exception.
    const r = await lab.probeAll({ kinds: ['tcp4:80', 'dns-isp'] });
    for (const p of Object.values(r)) expect(p, describeProbes(r)).toMatchObject({ reached: true, via: VIA_TUNNEL });
  });

  it('another account configured as the endpoint owner (root only): then that account gets through, and not after', async () => {
    const s = (await d.cli(['tunnel', 'add', 'tun7', '--endpoint', `${ADDR.vpn.pub4}:${SERVER_PORT}/udp`, '--endpoint-user', 'nobody'])) as Status;
    expect(s.tunnels.find((t) => t.iface === 'tun7')).toMatchObject({ endpointOwner: `uid ${NOBODY}` });
    expect(await probeAs(lab, NOBODY, SERVER)).toMatchObject({ ok: true });
    await d.cli(['tunnel', 'remove', 'tun7']);
    expect(await probeAs(lab, NOBODY, SERVER)).toMatchObject({ ok: false });
  });

  // ── rule holes: DHCP to any host, re-routing after our check, LAN ranges that are only routed ──

  /** Sends one UDP datagram from local port 68 to HOST:67 as `uid`; the capture decides whether it left. */
  async function dhcpFrom(uid: number, host: string): Promise<void> {
    const js = `const s=require('dgram').createSocket('udp4');s.bind(68,()=>s.send('tunlock-dhcp-probe',67,'${host}',()=>s.close()))`;
    const argv = uid === 0 ? [process.execPath, '-e', js] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, '-e', js];
    await lab.exec('client', argv[0]!, argv.slice(1), { allowFail: true });
  }

  it('DHCP only to the broadcast address or an on-link server, from root: not to any host, not from another uid', async () => {
    await lab.restoreTunnel();
    await lab.deleteTunnel();
    await waitFor(async () => (await status()).state === 'blocking', 'blocking');
    // Let an unprivileged program bind port 68 too (per namespace), so only the rule can stop it; LAN access
    // blocked, so the LAN exception does not let it through either.
    await lab.exec('client', 'sysctl', ['-q', '-w', 'net.ipv4.ip_unprivileged_port_start=0']);
    await d.cli(['lan', 'block']);
    const seen = (lines: string[], host: string) => lines.filter((l) => l.includes(`> ${host}.67:`));
    const cap = await lab.capture({ filter: 'all' });
    await dhcpFrom(0, ADDR.sink.v4);
    await dhcpFrom(NOBODY, ADDR.router.lan4);
    await dhcpFrom(0, ADDR.router.lan4);
    const lines = await cap.stop();
    expect(seen(lines, ADDR.sink.v4), lines.join('\n')).toEqual([]);
    // the on-link server gets root's renewal, and only that one
    expect(seen(lines, ADDR.router.lan4), lines.join('\n')).toHaveLength(1);
    await lab.exec('client', 'sysctl', ['-q', '-w', 'net.ipv4.ip_unprivileged_port_start=1024']);
    await d.cli(['lan', 'allow']);
    await lab.restoreTunnel();
    await waitFor(async () => (await status()).state === 'protected', 'protected');
  });

  it('a later route chain re-routing tunnel traffic out of the physical link: 0 packets (postrouting re-check)', async () => {
    // Another tool's table: a `type route` chain after ours marks traffic to the sink, and a policy route sends
    // marked packets out of eth0 — after our output chain accepted them for the tunnel.
    await lab.exec('client', 'nft', ['-f', '-'], {
      input: `table inet rogue {\n chain out {\n  type route hook output priority 10; policy accept;\n  ip daddr ${ADDR.sink.v4} meta mark set 0x99\n }\n}\n`,
    });
    await lab.exec('client', 'ip', ['rule', 'add', 'fwmark', '0x99', 'table', '99', 'pref', '100']);
    await lab.exec('client', 'ip', ['route', 'add', 'default', 'via', ADDR.router.lan4, 'dev', 'eth0', 'table', '99']);
    try {
      expect((await status()).state).toBe('protected');
      await expectBlocked(['tcp4:80', 'tcp4:443', 'udp4', 'icmp4']);
    } finally {
      await lab.exec('client', 'nft', ['delete', 'table', 'inet', 'rogue']);
      await lab.exec('client', 'ip', ['rule', 'del', 'fwmark', '0x99', 'table', '99', 'pref', '100']);
      await lab.exec('client', 'ip', ['route', 'flush', 'table', '99']);
    }
    const r = await lab.probeAll({ kinds: ['tcp4:80'] });
    expect(r['tcp4:80'], describeProbes(r)).toMatchObject({ reached: true, via: VIA_TUNNEL });
  });

  it('a rogue router routing 10.0.0.0/8 via the uplink while the LAN is 192.168.77.0/24: 10.x gets 0 packets, LAN allowed', async () => {
    const far = '10.99.0.10';
    await lab.addAddress('inet', 'lo', `${far}/32`);
    await lab.exec('router', 'ip', ['route', 'add', '10.99.0.0/16', 'via', ADDR.inet.toRouter4]);
    await lab.startService('inet', 'sink.mjs', { svc: 'far-sink', binds: [far], tcp: [80], udp: [] });
    await lab.exec('client', 'ip', ['route', 'add', '10.0.0.0/8', 'via', ADDR.router.lan4, 'dev', 'eth0']);
    const target = { proto: 'tcp' as const, host: far, port: 80, svc: 'far-sink', name: 'far-tcp' };
    expect((await status()).lan).toBe('allow');
    const { result, packets } = await lab.captureDuring(() => lab.probeMany([target, 'printer-tcp']));
    expect(result[0], JSON.stringify(result)).toMatchObject({ reached: false });
    expect(result[1], JSON.stringify(result)).toMatchObject({ reached: true }); // the LAN that is on the link
    expect(packets.filter((l) => l.includes(far)), packets.join('\n')).toEqual([]);
    // ...unless root adds the range explicitly (a routed office LAN), and only until it is removed.
    const added = (await d.cli(['lan', 'add', '10.99.0.0/16'])) as Status;
    expect(added.lanRanges).toEqual(['10.99.0.0/16']);
    expect((await lab.probe(target)).reached).toBe(true);
    await d.cli(['lan', 'remove', '10.99.0.0/16']);
    expect((await lab.probe(target)).reached).toBe(false);
  });
});

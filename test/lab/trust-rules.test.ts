// The lock's own inputs must not turn it into a no-op (issue 11): a physical interface offered as a tunnel, an
// unprivileged program using the VPN server's exception (TunnelCrack "ServerIP"). A real tunlockd in the lab's
// client namespace; every check ends with a capture on the router's LAN port that must show 0 packets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDR, Lab, VIA_TUNNEL, labSkip } from './lab';
import type { Daemon, ProbeKind, ProbeResult } from './lab';
import { probeAs } from './probe-as';
import type { Status } from '../../host/src/protocol/schema.js';

const skip = labSkip('lab: trust boundary of the rules');
const NOBODY = 65534;
const INTERNET: ProbeKind[] = ['tcp4:80', 'udp4', 'icmp4', 'dns-isp', 'dns-isp-tcp', 'tcp6:80', 'dns6-isp'];
/** A second port the VPN server's address listens on (UDP), configured as an endpoint of the tunnel. */
const SERVER_PORT = ADDR.endpointSink.udp[0];
const SERVER = { proto: 'udp' as const, host: ADDR.vpn.pub4, port: SERVER_PORT };

function show(r: Record<string, ProbeResult>): string {
  return Object.values(r)
    .map((p) => `${p.kind}: reached=${p.reached} via=${p.via ?? '-'}${p.error ? ` (${p.error})` : ''}`)
    .join('\n');
}

describe.skipIf(skip)('trust boundary of the rules', () => {
  let lab: Lab;
  let d: Daemon;
  const status = async () => (await d.cli(['status'])) as Status;
  const tunnelSet = async () => (await lab.exec('client', 'nft', ['list', 'set', 'inet', 'tunlock', 'tunnels'])).stdout;

  async function expectBlocked(kinds: ProbeKind[]): Promise<void> {
    const { result, packets } = await lab.captureDuring(() => lab.probeAll({ kinds }));
    expect(Object.values(result).filter((p) => p.reached), show(result)).toEqual([]);
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
    expect(r['tcp4:80'], show(r)).toMatchObject({ reached: true, via: VIA_TUNNEL });
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
    for (const p of Object.values(r)) expect(p, show(r)).toMatchObject({ reached: true, via: VIA_TUNNEL });
  });

  it('another account configured as the endpoint owner (root only): then that account gets through, and not after', async () => {
    const s = (await d.cli(['tunnel', 'add', 'tun7', '--endpoint', `${ADDR.vpn.pub4}:${SERVER_PORT}/udp`, '--endpoint-user', 'nobody'])) as Status;
    expect(s.tunnels.find((t) => t.iface === 'tun7')).toMatchObject({ endpointOwner: `uid ${NOBODY}` });
    expect(await probeAs(lab, NOBODY, SERVER)).toMatchObject({ ok: true });
    await d.cli(['tunnel', 'remove', 'tun7']);
    expect(await probeAs(lab, NOBODY, SERVER)).toMatchObject({ ok: false });
  });
});

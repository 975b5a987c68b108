// Zero configuration against a real kernel and a real WireGuard tunnel (wireguard-go): with the tunnel up and
// nothing configured, the daemon reports it as detected (kind tun — wireguard-go is a tun device — and its
// server from the WireGuard peer), `lock on` locks to it, and traffic flows through it with 0 packets
// outside. Without any tunnel, `lock on` refuses (exit 2) unless told to block all. A tun-based client (what
// OpenVPN looks like to the system) is detected with the server its process is connected to.
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Status } from '../../host/src/protocol/schema.js';
import { Lab, labSkip } from './fixture/lab';
import { LAB_DIR } from './fixture/processes';
import { ADDR, VIA_TUNNEL } from './fixture/topology';
import type { Daemon } from './fixture/daemon';

const skip = labSkip('lab: zero configuration');
const SERVER = `${ADDR.vpn.pub4}:${ADDR.vpn.port}/udp`;

describe.skipIf(skip)('zero configuration: lock on with a tunnel up and nothing configured', () => {
  let lab: Lab;
  let d: Daemon;

  beforeAll(async () => {
    lab = await Lab.create();
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  // Every test starts from the same place, whatever ran before it: the tunnel up, no firewall tables in the
  // client and a fresh daemon (new socket and state: nothing configured, lock off).
  beforeEach(async () => {
    if (d) {
      await d.kill('SIGKILL');
      await lab.guardGone();
    }
    await lab.exec('client', 'nft', ['flush', 'ruleset']);
    if (!(await lab.tunnelExists())) await lab.restoreTunnel();
    d = await lab.startDaemon();
  });

  it('status lists the tunnel that is up as detected, with its WireGuard server', async () => {
    const s = (await d.cli(['status'])) as Status;
    expect(s.tunnels).toEqual([]);
    expect(s.detected).toEqual([{ iface: lab.wg.client, kind: 'tun', endpoints: [SERVER] }]);
  });

  it('lock on locks to it, says so, and traffic goes through the tunnel only: 0 packets outside', async () => {
    const r = await d.cliRaw(['lock', 'on']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`locked to the tunnel that is up, ${lab.wg.client}, server ${SERVER}`);
    const s = r.json as Status;
    expect(s).toMatchObject({ mode: 'on', state: 'protected', detected: [] });
    // only the VPN's own packets may reach the server outside the tunnel: its fwmark, else root's sockets
    expect(s.tunnels).toEqual([{ iface: lab.wg.client, up: true, endpoints: [], learned: [SERVER], endpointOwner: expect.stringMatching(/^(fwmark 0x[0-9a-f]+|uid 0)$/) }]);
    const { result, packets } = await lab.captureDuring(() => lab.probeAll({ kinds: ['tcp4:80', 'udp4', 'dns-isp'] }));
    for (const p of Object.values(result)) expect(p).toMatchObject({ reached: true, via: VIA_TUNNEL });
    expect(packets, packets.join('\n')).toEqual([]);
    // and what does not fit in the tunnel (IPv6 here) stays blocked, nothing on the wire
    const v6 = await lab.captureDuring(() => lab.probeAll({ kinds: ['tcp6:80', 'udp6'] }));
    expect(Object.values(v6.result).filter((p) => p.reached)).toEqual([]);
    expect(v6.packets, v6.packets.join('\n')).toEqual([]);
  });

  it('the adopted tunnel drops: blocking, still nothing outside', async () => {
    expect((await d.cliRaw(['lock', 'on'])).code).toBe(0);
    await lab.deleteTunnel();
    for (let i = 0; i < 100 && ((await d.cli(['status'])) as Status).state !== 'blocking'; i++) await new Promise((ok) => setTimeout(ok, 50));
    expect(((await d.cli(['status'])) as Status).state).toBe('blocking');
    const { result, packets } = await lab.captureDuring(() => lab.probeAll({ kinds: ['tcp4:80', 'udp4', 'dns-isp', 'tcp6:80'] }));
    expect(Object.values(result).filter((p) => p.reached)).toEqual([]);
    expect(packets, packets.join('\n')).toEqual([]);
  });

  it('no tunnel configured or up: lock on refuses (exit 2, nothing applied) unless --block-all', async () => {
    // The adopted tunnel went away: it is still configured until removed below.
    expect((await d.cliRaw(['lock', 'on'])).code).toBe(0);
    await lab.deleteTunnel();
    await d.cli(['lock', 'off']);
    await d.cli(['tunnel', 'remove', lab.wg.client]);
    const r = await d.cliRaw(['lock', 'on']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no VPN tunnel is configured or up: locking now would block all traffic\n {2}→ connect your VPN first/);
    expect(r.json).toMatchObject({ error: { code: 'needs_choice' } });
    expect(((await d.cli(['status'])) as Status).mode).toBe('off');
    expect((await lab.exec('client', 'nft', ['list', 'tables'])).stdout).not.toMatch(/inet tunlock\b/);
    const all = await d.cliRaw(['lock', 'on', '--block-all']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.json).toMatchObject({ mode: 'on', state: 'blocking', tunnels: [] });
  });

  it('tunnel adopt takes only a detected tunnel', async () => {
    await d.cli(['lock', 'off']);
    const r = await d.cliRaw(['tunnel', 'adopt', 'eth0']);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ error: { code: 'not_found', message: expect.stringMatching(/eth0 is not a detected tunnel/) } });
    await lab.restoreTunnel();
    for (let i = 0; i < 100 && !((await d.cli(['status'])) as Status).detected?.length; i++) await new Promise((ok) => setTimeout(ok, 50));
    const s = (await d.cli(['tunnel', 'adopt', lab.wg.client])) as Status;
    expect(s.tunnels).toEqual([{ iface: lab.wg.client, up: true, endpoints: [], learned: [SERVER], endpointOwner: expect.stringMatching(/^(fwmark 0x[0-9a-f]+|uid 0)$/) }]);
    expect(s.detected).toEqual([]);
  });
});

describe.skipIf(skip)('zero configuration: a tun VPN client (OpenVPN-like) is detected with its server', () => {
  let lab: Lab;
  let d: Daemon;
  beforeAll(async () => {
    lab = await Lab.create();
    d = await lab.startDaemon();
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("the server comes from the process holding the tun device: its connected UDP socket", async () => {
    const iface = `tlvpn${Math.random().toString(16).slice(2, 6)}`;
    const client = lab.spawnIn('client', 'python3', [path.join(LAB_DIR, 'servers/tun-client.py'), iface, ADDR.vpn.pub4, '1194'], { name: 'tun-client' });
    await new Promise<void>((ok, fail) => {
      client.child.stdout!.once('data', () => ok());
      client.child.once('exit', (c) => fail(new Error(`tun-client exited (${c})`)));
    });
    let s = (await d.cli(['status'])) as Status;
    for (let i = 0; i < 100 && !s.detected?.some((x) => x.iface === iface); i++) {
      await new Promise((ok) => setTimeout(ok, 50));
      s = (await d.cli(['status'])) as Status;
    }
    expect(s.detected).toContainEqual({ iface, kind: 'tun', endpoints: [`${ADDR.vpn.pub4}:1194/udp`] });
    await client.kill();
  });
});

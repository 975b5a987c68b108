// The captive-portal exception against a real kernel: a portal on the lab's home router intercepts every HTTP
// connection (DNAT, like hotel Wi-Fi). Locked with the tunnel down, the portal is unreachable; `captive open`
// makes it reachable for the requesting uid only, for TCP 80/443 and DNS to this network's resolver, and the
// kernel closes the hole on time even with tunlockd dead.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Lab, labSkip } from './fixture/lab';
import { ADDR } from './fixture/topology';
import { probeAs as probeAsUid } from './probe-as';
import type { ProbeTarget } from './probe-as';
import type { Daemon } from './fixture/daemon';
import type { Status } from '../../host/src/protocol/schema.js';

const skip = labSkip('lab: captive exception');
const PORTAL_PORT = 8088;
const NOBODY = 65534;

describe.skipIf(skip)('captive-portal exception', () => {
  let lab: Lab;
  let d: Daemon;
  const status = async () => (await d.cli(['status'])) as Status;

  const probeAs = (uid: number, target: ProbeTarget) => probeAsUid(lab, uid, target);
  const portal = (uid = 0, port = 80) => probeAs(uid, { proto: 'tcp', host: ADDR.sink.v4, port });
  const lanDns = (uid = 0) => probeAs(uid, { proto: 'dns', host: ADDR.lanDns.v4, port: 53 });

  beforeAll(async () => {
    lab = await Lab.create({ container: true });
    // The portal: every HTTP connection from the LAN is redirected to it, whatever address it was for.
    await lab.startService('router', 'sink.mjs', { svc: 'portal', binds: [ADDR.router.lan4], tcp: [PORTAL_PORT], udp: [] });
    await lab.exec('router', 'nft', ['-f', '-'], {
      input: `table ip labportal {\n chain pre {\n  type nat hook prerouting priority dstnat; policy accept;\n  iifname "br0" tcp dport 80 dnat to ${ADDR.router.lan4}:${PORTAL_PORT}\n }\n}\n`,
    });
    const resolvConf = path.join(lab.tmp, 'resolv.conf');
    writeFileSync(resolvConf, `nameserver ${ADDR.lanDns.v4}\n`);
    d = await lab.startDaemon({ args: ['--resolv-conf', resolvConf] });
    await d.cli(['tunnel', 'add', lab.wg.client, '--endpoint', `${ADDR.vpn.pub4}:${ADDR.vpn.port}/udp`]);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  // Every test starts locked with the tunnel down (blocking) and no hole open, whatever ran before it.
  beforeEach(async () => {
    if (!d.running) await d.restart();
    await d.cliRaw(['captive', 'close']);
    await d.cli(['lock', 'on']);
    if (await lab.tunnelExists()) await lab.deleteTunnel();
    for (let i = 0; (await status()).state !== 'blocking'; i++) {
      if (i > 100) throw new Error('never reached blocking');
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('locked with the tunnel down, the portal is unreachable', async () => {
    expect(await portal()).toMatchObject({ ok: false });
  });

  it('captive open is refused with a clear message when not needed', async () => {
    await d.cli(['lock', 'off']);
    const off = await d.cliRaw(['captive', 'open']);
    expect(off.code).toBe(1);
    expect(off.stderr).toMatch(/lock is off/);
    await d.cli(['lock', 'on']);
  });

  it('captive open: exception state with a countdown; the portal is reachable for this uid only', async () => {
    const s = (await d.cli(['captive', 'open', '--seconds', '60'])) as Status;
    expect(s.state).toBe('exception');
    expect(s.captive).toMatchObject({ uid: 0, iface: 'eth0', resolvers: [ADDR.lanDns.v4] });
    expect(s.captive!.secondsLeft).toBeGreaterThan(55);
    const { packets, result } = await lab.captureDuring(async () => ({
      web: await portal(),
      dns: await lanDns(),
      otherUid: await portal(NOBODY),
      otherUidDns: await lanDns(NOBODY),
      otherPort: await probeAs(0, { proto: 'tcp', host: ADDR.sink.v4, port: 8080 }),
      udp: await probeAs(0, { proto: 'udp', host: ADDR.sink.v4, port: 5000 }),
      ispDns: await probeAs(0, { proto: 'dns', host: ADDR.ispDns.v4, port: 53 }),
      container: await lab.probe('tcp4:80', { from: 'container' }),
    }));
    expect(result.web).toMatchObject({ ok: true, seen: ADDR.client.lan4 });
    expect(result.dns).toMatchObject({ ok: true });
    expect(result.otherUid.ok).toBe(false);
    expect(result.otherUidDns.ok).toBe(false);
    expect(result.otherPort.ok).toBe(false);
    expect(result.udp.ok).toBe(false);
    expect(result.ispDns.ok).toBe(false);
    expect(result.container.reached).toBe(false);
    // On the wire: only the portal's HTTP and DNS to the network's own resolver, nothing else.
    const other = packets.filter((l) => !/ > 203\.0\.113\.10\.80: /.test(l) && !/ > 192\.168\.77\.1\.53: /.test(l));
    expect(packets.length).toBeGreaterThan(0);
    expect(other, other.join('\n')).toEqual([]);
  });

  it('extend adds time; close ends the hole at once', async () => {
    await d.cli(['captive', 'open', '--seconds', '60']);
    const before = (await status()).captive!.secondsLeft;
    const s = (await d.cli(['captive', 'extend', '--seconds', '60'])) as Status;
    expect(s.captive!.secondsLeft).toBeGreaterThan(before + 50);
    const closed = (await d.cli(['captive', 'close'])) as Status;
    expect(closed.state).toBe('blocking');
    expect(closed.captive).toBeNull();
    expect(await portal()).toMatchObject({ ok: false });
  });

  it('closes at once when the tunnel comes up', async () => {
    await d.cli(['captive', 'open', '--seconds', '60']);
    expect((await portal()).ok).toBe(true);
    await lab.restoreTunnel();
    for (let i = 0; (await status()).state !== 'protected'; i++) {
      if (i > 100) throw new Error('never reached protected');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await status()).captive).toBeNull();
    await lab.killVpn();
    for (let i = 0; (await status()).state !== 'blocking'; i++) {
      if (i > 100) throw new Error('never reached blocking');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await portal()).toMatchObject({ ok: false });
  });

  it('expires on time in the kernel with tunlockd SIGKILLed during the window', async () => {
    await d.cli(['captive', 'open', '--seconds', '10']);
    // The daemon's own deadline (not the test's clock): a loaded machine may apply the hole late, and the
    // kernel timeout is whole seconds rounded up, so the element lives at most 1 s past expiresAt.
    const { expiresAt } = (await status()).captive!;
    expect((await portal()).ok).toBe(true);
    await d.kill('SIGKILL');
    expect((await portal()).ok).toBe(true);
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt + 1500 - Date.now())));
    const { packets, result } = await lab.captureDuring(() => portal());
    expect(result.ok).toBe(false);
    expect(packets, packets.join('\n')).toEqual([]);
    // The restarted daemon agrees: the hole is gone.
    await d.restart();
    const s = await status();
    expect(s.state).toBe('blocking');
    expect(s.captive).toBeNull();
  });
});

// Bound apps against a real kernel and a real tunnel, with the lock OFF: a bound user (`nobody`) and a
// program started with `tunlock run` reach the internet only through the tunnel and put nothing on the wire
// when it is down, while an unbound process in the same namespace still goes out directly.
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Lab, labSkip } from './fixture/lab';
import { REPO_ROOT } from './fixture/processes';
import { ADDR, VIA_LEAK4, VIA_TUNNEL } from './fixture/topology';
import { probeAs as probeAsUid } from './probe-as';
import type { ProbeTarget } from './probe-as';
import type { Daemon } from './fixture/daemon';
import type { Status } from '../../host/src/protocol/schema.js';

const skip = labSkip('lab: bound apps');
const NOBODY = 65534;
// nft resolves `socket cgroupv2` paths under /sys/fs/cgroup; this machine mounts cgroup v2 elsewhere
// (hybrid layout), so the lab's daemon gets its own mount of it there (ip netns exec gives it a private
// mount namespace). Real systems with the unified layout need nothing of the kind.
const CGROUP_PREFIX = ['sh', '-c', 'mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup; exec "$@"', 'sh'];
const HOST_CGROUP_ROOTS = ['/sys/fs/cgroup/unified/tunlock', '/sys/fs/cgroup/tunlock'];

describe.skipIf(skip)('bound apps (lock off)', () => {
  let lab: Lab;
  let d: Daemon;
  const status = async () => (await d.cli(['status'])) as Status;
  const spec = (proto: ProbeTarget['proto'], host: string, port: number): ProbeTarget => ({ proto, host, port });
  const web4 = () => spec('tcp', ADDR.sink.v4, 80);
  const probeAs = (uid: number, target: ProbeTarget) => probeAsUid(lab, uid, target);
  /** `tunlock run -- node probe.mjs ...` in the client namespace. */
  const probeRun = (target: ProbeTarget) =>
    probeAsUid(lab, 0, target, [process.execPath, path.join(REPO_ROOT, 'host/dist/tunlock.js'), '--socket', d.socket, 'run', '--']);

  async function waitTunnel(up: boolean): Promise<void> {
    for (let i = 0; (await status()).tunnels[0]?.up !== up; i++) {
      if (i > 150) throw new Error(`tunnel never ${up ? 'up' : 'down'}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  beforeAll(async () => {
    lab = await Lab.create();
    d = await lab.startDaemon({ prefix: CGROUP_PREFIX });
    await d.cli(['tunnel', 'add', lab.wg.client, '--endpoint', `${ADDR.vpn.pub4}:${ADDR.vpn.port}/udp`]);
  });
  afterAll(async () => {
    await lab?.destroy();
    // Our run cgroups live in the machine's one cgroup hierarchy: remove any left (empty ones only).
    for (const root of HOST_CGROUP_ROOTS) {
      if (!existsSync(root)) continue;
      for (const name of readdirSync(root)) if (name.startsWith('run-')) rmdirSync(path.join(root, name));
      if (readdirSync(root).filter((n) => !n.startsWith('cgroup.') && !n.includes('.')).length === 0) rmdirSync(root);
    }
  });

  // Every test starts with the daemon running, nothing bound and the tunnel up, whatever ran before it.
  beforeEach(async () => {
    if (!d.running) await d.restart();
    await d.cliRaw(['unbind', 'user', 'nobody']);
    if (lab.vpnPid === undefined || !(await lab.tunnelExists())) await lab.restoreTunnel();
    await waitTunnel(true);
  });
  const bindNobody = async () => expect(((await d.cli(['bind', 'user', 'nobody'])) as Status).bindings.map((b) => b.id)).toEqual([NOBODY]);
  const tunnelDown = async () => {
    await lab.deleteTunnel();
    await waitTunnel(false);
  };

  it('bind user: listed in status with its uid; the lock stays off', async () => {
    const s = (await d.cli(['bind', 'user', 'nobody'])) as Status;
    expect(s.state).toBe('off');
    expect(s.bindings).toEqual([{ target: { kind: 'user', name: 'nobody' }, id: NOBODY, blockedPackets: 0 }]);
    const bad = await d.cliRaw(['bind', 'user', 'no-such-user-xyz']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no user named/);
  });

  it('tunnel up: the bound user goes through the tunnel; its IPv6 and LAN DNS are refused', async () => {
    await bindNobody();
    expect(await probeAs(NOBODY, web4())).toMatchObject({ ok: true, seen: VIA_TUNNEL });
    expect(await probeAs(NOBODY, spec('dns', ADDR.ispDns.v4, 53))).toMatchObject({ ok: true });
    expect((await probeAs(NOBODY, spec('tcp', ADDR.sink.v6, 80))).ok).toBe(false);
    expect((await probeAs(NOBODY, spec('dns', ADDR.lanDns.v4, 53))).ok).toBe(false);
    // LAN access follows the LAN setting (allowed by default): the printer answers.
    expect((await probeAs(NOBODY, spec('tcp', ADDR.printer.lan4, 9100))).ok).toBe(true);
  });

  it('tunnel down: the bound user puts nothing on the wire, an unbound process still goes out directly', async () => {
    await bindNobody();
    await tunnelDown();
    const { result, packets } = await lab.captureDuring(async () => [
      await probeAs(NOBODY, web4()),
      await probeAs(NOBODY, spec('udp', ADDR.sink.v4, 5000)),
      await probeAs(NOBODY, spec('dns', ADDR.ispDns.v4, 53)),
      await probeAs(NOBODY, spec('tcp', ADDR.sink.v6, 80)),
    ]);
    expect(result.filter((r) => r.ok)).toEqual([]);
    expect(packets, packets.join('\n')).toEqual([]);
    expect(await probeAs(0, web4())).toMatchObject({ ok: true, seen: VIA_LEAK4 });
    expect((await status()).bindings[0]!.blockedPackets).toBeGreaterThan(0);
  });

  it('tunlock run: the program is bound while it runs (tunnel down: nothing on the wire)', async () => {
    await tunnelDown();
    const { result, packets } = await lab.captureDuring(() => probeRun(web4()));
    expect(result.ok).toBe(false);
    expect(packets, packets.join('\n')).toEqual([]);
  });

  it('tunlock run: through the tunnel when it is up; the binding ends with the program', async () => {
    await bindNobody();
    expect(await probeRun(web4())).toMatchObject({ ok: true, seen: VIA_TUNNEL });
    const s = await status();
    expect(s.bindings.map((b) => b.target.kind)).toEqual(['user']);
  });

  it('tunlock run passes the exit status through and reports a missing program', async () => {
    const tunlock = [path.join(REPO_ROOT, 'host/dist/tunlock.js'), '--socket', d.socket, 'run', '--'];
    expect((await lab.exec('client', process.execPath, [...tunlock, 'sh', '-c', 'exit 7'], { allowFail: true })).code).toBe(7);
    const missing = await lab.exec('client', process.execPath, [...tunlock, '/nonexistent/program'], { allowFail: true });
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/cannot start/);
  });

  it('bindings survive a daemon restart and stay enforced; they are in the early-boot rules', async () => {
    await bindNobody();
    const boot = readFileSync(path.join(d.stateDir, 'boot.nft'), 'utf8');
    expect(boot).toContain(`meta skuid ${NOBODY} jump bind_0`);
    expect(boot).not.toContain('cgroupv2');
    await d.restart();
    expect((await status()).bindings.map((b) => b.target)).toEqual([{ kind: 'user', name: 'nobody' }]);
    await lab.deleteTunnel();
    await waitTunnel(false);
    const { result, packets } = await lab.captureDuring(() => probeAs(NOBODY, web4()));
    expect(result.ok).toBe(false);
    expect(packets, packets.join('\n')).toEqual([]);
  });

  it('unbind gives the user its direct path back', async () => {
    await bindNobody();
    await tunnelDown();
    const s = (await d.cli(['unbind', 'user', 'nobody'])) as Status;
    expect(s.bindings).toEqual([]);
    expect(await probeAs(NOBODY, web4())).toMatchObject({ ok: true, seen: VIA_LEAK4 });
    // Lock off and nothing bound: nothing to enforce at boot, so no boot rules.
    expect(existsSync(path.join(d.stateDir, 'boot.nft'))).toBe(false);
  });
});

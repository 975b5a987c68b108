// The core lock against a real kernel and a real WireGuard tunnel: a real tunlockd in the lab's client
// namespace, driven by the real CLI, checked with real probes and a capture on the router's LAN port.
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Lab, labSkip } from './fixture/lab';
import { ADDR, VIA_TUNNEL } from './fixture/topology';
import type { Daemon } from './fixture/daemon';
import type { ProbeKind } from './fixture/probes';
import { describeProbes } from './fixture/probes';
import type { Status } from '../../host/src/protocol/schema.js';

const skip = labSkip('lab: core lock');

const INTERNET: ProbeKind[] = ['tcp4:80', 'tcp4:443', 'udp4', 'icmp4', 'dns-isp', 'dns-isp-tcp', 'tcp6:80', 'udp6', 'icmp6', 'dns6-isp'];

describe.skipIf(skip)('core lock (tunlockd + nftables + CLI)', () => {
  let lab: Lab;
  let d: Daemon;
  const status = async () => (await d.cli(['status'])) as Status;
  const nft = async (args: string[]) => (await lab.exec('client', 'nft', args, { allowFail: true })).stdout;
  const tables = async () => nft(['list', 'tables']);

  /** Probes the given kinds while capturing; asserts none reached its server and nothing left the client. */
  async function expectBlocked(kinds: ProbeKind[]): Promise<void> {
    const { result, packets } = await lab.captureDuring(() => lab.probeAll({ kinds }));
    const reached = Object.values(result).filter((p) => p.reached);
    expect(reached, describeProbes(result)).toEqual([]);
    expect(packets, `leaked packets:\n${packets.join('\n')}`).toEqual([]);
  }

  beforeAll(async () => {
    lab = await Lab.create();
    clientNetns = `net:[${statSync(`/run/netns/${lab.ns.client}`).ino}]`;
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  // Every test starts from the same place, whatever ran before it: the tunnel up, no firewall tables in the
  // client, and a fresh daemon (new socket and state) with the lab's tunnel configured and the lock off.
  beforeEach(async () => {
    if (d) {
      await d.kill('SIGKILL');
      await lab.guardGone();
    }
    await lab.exec('client', 'nft', ['flush', 'ruleset']);
    if (!(await lab.tunnelExists())) await lab.restoreTunnel();
    d = await lab.startDaemon();
    await d.cli(['tunnel', 'add', lab.wg.client, '--endpoint', `${ADDR.vpn.pub4}:${ADDR.vpn.port}/udp`]);
  });

  /** Lock on, then the tunnel deleted: the lock blocks everything but the LAN. */
  async function blocking(): Promise<void> {
    expect(((await d.cli(['lock', 'on'])) as Status).state).toBe('protected');
    await lab.deleteTunnel();
    await waitState('blocking');
  }

  it('lock on with the tunnel up: protected, internet through the tunnel only', async () => {
    const s = (await d.cli(['lock', 'on'])) as Status;
    expect(s.state).toBe('protected');
    expect(s.tunnels[0]).toMatchObject({ iface: lab.wg.client, up: true });
    const { result, packets } = await lab.captureDuring(() => lab.probeAll({ kinds: ['tcp4:80', 'udp4', 'dns-isp'] }));
    for (const p of Object.values(result)) expect(p, describeProbes(result)).toMatchObject({ reached: true, via: VIA_TUNNEL });
    expect(packets, packets.join('\n')).toEqual([]);
  });

  it('IPv6 (not in the v4-only tunnel) is blocked even while protected', async () => {
    expect(((await d.cli(['lock', 'on'])) as Status).state).toBe('protected');
    await expectBlocked(['tcp6:80', 'tcp6:443', 'udp6', 'icmp6', 'dns6-isp']);
  });

  it('tunnel deleted: blocking; TCP, UDP, ICMP, DNS and IPv6 all blocked, nothing on the wire', async () => {
    expect(((await d.cli(['lock', 'on'])) as Status).state).toBe('protected');
    await lab.deleteTunnel();
    await waitState('blocking');
    await expectBlocked(INTERNET);
  });

  it('loopback keeps working while blocking (IPv4 and IPv6)', async () => {
    await blocking();
    for (const addr of ['127.0.0.1', '::1']) {
      const r = await lab.exec('client', 'ping', ['-c', '1', '-W', '1', addr], { allowFail: true });
      expect(r.code, `${addr}: ${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it('LAN printer reachable while LAN access is allowed, but DNS to the LAN router stays blocked', async () => {
    await blocking();
    const r = await lab.probeAll({ kinds: ['printer-tcp', 'printer-udp', 'dns-lan', 'dns-lan-tcp'] });
    expect(r['printer-tcp'], describeProbes(r)).toMatchObject({ reached: true });
    expect(r['printer-udp'], describeProbes(r)).toMatchObject({ reached: true });
    expect(r['dns-lan'], describeProbes(r)).toMatchObject({ reached: false });
    expect(r['dns-lan-tcp'], describeProbes(r)).toMatchObject({ reached: false });
  });

  it('LAN block: the printer is unreachable too, and nothing leaves the client', async () => {
    await blocking();
    expect(((await d.cli(['lan', 'block'])) as Status).lan).toBe('block');
    await expectBlocked(['printer-tcp', 'printer-udp', 'dns-lan', ...INTERNET]);
  });

  it('the endpoint address on another port or protocol is blocked', async () => {
    await blocking();
    await expectBlocked(['endpoint-tcp', 'endpoint-udp']);
  });

  it('another tool flushing the ruleset: the daemon re-asserts at once and records it', async () => {
    await blocking();
    const before = (await status()).tamper.count;
    const t0 = Date.now();
    await lab.exec('client', 'nft', ['flush', 'ruleset']);
    // The guard (owned by the daemon's nft session) survives someone else's flush: no gap.
    expect(await tables()).toContain('inet tunlock_guard');
    await waitFor(async () => (await tables()).includes('inet tunlock'), 'table re-asserted');
    const ms = Date.now() - t0;
    console.info(`flush → re-asserted in ${ms} ms (incl. polling)`);
    expect((await status()).tamper.count).toBe(before + 1);
    await lab.restoreLabFirewall();
    await expectBlocked(['tcp4:80', 'udp4', 'dns-isp']);
  });

  it('a rule inserted into our table by someone else is removed', async () => {
    await blocking();
    await lab.exec('client', 'nft', ['insert', 'rule', 'inet', 'tunlock', 'output', 'accept']);
    await waitFor(async () => !(await nft(['list', 'chain', 'inet', 'tunlock', 'output'])).match(/^\s*accept\s*$/m), 'rogue rule removed');
    await expectBlocked(['tcp4:80']);
  });

  it('the last reject swapped for an accept (same rule count) is detected, re-applied and counted as tamper', async () => {
    await blocking();
    const before = (await status()).tamper.count;
    const chain = JSON.parse(await nft(['-j', 'list', 'chain', 'inet', 'tunlock', 'output'])) as { nftables: { rule?: { handle: number } }[] };
    const last = chain.nftables.filter((i) => i.rule).pop()!.rule!.handle;
    await lab.exec('client', 'nft', ['replace', 'rule', 'inet', 'tunlock', 'output', 'handle', String(last), 'accept']);
    await waitFor(async () => (await status()).tamper.count === before + 1, 'the swap counted as tamper');
    const rules = (await nft(['list', 'chain', 'inet', 'tunlock', 'output'])).split('\n').filter((l) => /\b(accept|reject|drop)\b/.test(l));
    expect(rules.pop()).toMatch(/counter name "blocked_out" reject with icmpx admin-prohibited/);
    await expectBlocked(['tcp4:80', 'udp4']);
  });

  it('SIGKILL of the daemon leaves the block in place, and none of its helpers behind', async () => {
    await blocking();
    await d.kill('SIGKILL');
    await lab.guardGone();
    // nft monitor, ip monitor and the nft session die with it (they are tied to the daemon's pipes).
    await waitFor(async () => processesInClientNamespace().every((c) => !/\b(nft|ip)\b/.test(c)), 'helpers gone');
    expect(await tables()).toContain('inet tunlock');
    await expectBlocked(['tcp4:80', 'udp4', 'icmp4', 'dns-isp', 'tcp6:80']);
  });

  it('restart re-applies the saved lock before answering (table removed while it was down)', async () => {
    await blocking();
    await d.kill('SIGKILL');
    await lab.guardGone();
    await lab.exec('client', 'nft', ['delete', 'table', 'inet', 'tunlock']);
    await d.restart();
    // The socket answers only after start() applied the rules.
    expect(await tables()).toContain('inet tunlock');
    expect((await status()).state).toBe('blocking');
    await expectBlocked(['tcp4:80', 'dns-isp']);
  });

  it('tunnel restored: protected, traffic flows through the tunnel again', async () => {
    await blocking();
    await lab.restoreTunnel();
    await waitState('protected');
    const r = await lab.probeAll({ kinds: ['tcp4:80', 'dns-isp'] });
    for (const p of Object.values(r)) expect(p, describeProbes(r)).toMatchObject({ reached: true, via: VIA_TUNNEL });
  });

  it('a corrupt state file keeps the rules in the kernel untouched and reports it', async () => {
    expect(((await d.cli(['lock', 'on'])) as Status).state).toBe('protected');
    await lab.deleteTunnel();
    await waitState('blocking');
    const rules = await nft(['list', 'table', 'inet', 'tunlock']);
    await d.kill('SIGKILL');
    await lab.exec('client', 'sh', ['-c', `printf '{"version":1,' > ${d.stateDir}/state.json`]);
    await d.restart();
    const s = await status();
    expect(s.state).toBe('blocking');
    expect(s.error?.code).toBe('state_unreadable');
    expect(s.error?.hint).toMatch(/tunlock lock/);
    expect(await nft(['list', 'table', 'inet', 'tunlock'])).toBe(rules);
    // Held like our own rules: a copy flagged `owner` that no other program can flush, of the chains our own
    // guard of such a table carries (a lock: postrouting, which every packet that leaves passes).
    expect(await tables()).toContain('inet tunlock_guard');
    const guard = await nft(['list', 'table', 'inet', 'tunlock_guard']);
    expect([...guard.matchAll(/^\tchain (\S+) \{/gm)].map((m) => m[1])).toEqual(['postrouting']);
    expect(guard).toContain(rules.slice(rules.indexOf('\tchain postrouting {'), rules.indexOf('\n\t}', rules.indexOf('\tchain postrouting {'))));
    await expectBlocked(['tcp4:80', 'udp4', 'dns-isp']);
    // Other settings are refused until the user chooses a mode.
    const lan = await d.cliRaw(['lan', 'allow']);
    expect(lan.code).not.toBe(0);
    expect(lan.stderr).toMatch(/state/);
    // Someone removes the kept rules: the daemon installs the full block at once.
    await lab.exec('client', 'nft', ['delete', 'table', 'inet', 'tunlock']);
    await waitFor(async () => (await tables()).includes('inet tunlock'), 'full block installed');
    await expectBlocked(['tcp4:80', 'printer-tcp']);
  });

  it('a corrupt state file and no table (after a reboot): a full block is installed, LAN included', async () => {
    await blocking();
    await d.kill('SIGKILL');
    await lab.exec('client', 'sh', ['-c', `printf '{"version":1,' > ${d.stateDir}/state.json`]);
    await lab.guardGone();
    await lab.exec('client', 'nft', ['delete', 'table', 'inet', 'tunlock']);
    await d.restart();
    expect((await status()).error?.code).toBe('state_unreadable');
    await expectBlocked(['tcp4:80', 'udp4', 'dns-isp', 'printer-tcp', 'printer-udp', 'tcp6:80']);
  });

  it('a corrupt state file with a table that is not a lock (a bound app, lock off): the full block replaces it', async () => {
    await d.cli(['lock', 'off']);
    await d.cli(['bind', 'user', 'nobody']);
    expect(await nft(['list', 'chain', 'inet', 'tunlock', 'output'])).toMatch(/policy accept/);
    await d.kill('SIGKILL');
    await lab.exec('client', 'sh', ['-c', `printf '{"version":1,' > ${d.stateDir}/state.json`]);
    await d.restart();
    const s = await status();
    expect(s.error?.code).toBe('state_unreadable');
    // What status says is what the kernel now holds: a drop-policy lock, guarded.
    expect(s.state).toBe('blocking');
    expect(await nft(['list', 'chain', 'inet', 'tunlock', 'output'])).toMatch(/policy drop/);
    expect(await tables()).toContain('inet tunlock_guard');
    await expectBlocked(['tcp4:80', 'udp4', 'dns-isp', 'printer-tcp']);
  });

  it('lock off restores direct traffic (and the table is gone)', async () => {
    await blocking();
    const s = (await d.cli(['lock', 'off'])) as Status;
    expect(s.state).toBe('off');
    expect(s.error).toBeNull();
    // The main table goes with the answer; the guard follows without delaying it (nft-backend.ts: while it
    // lags, the stricter of old and new applies). Waited for, not raced.
    await waitFor(async () => !(await tables()).includes('tunlock'), 'both tables gone');
    const r = await lab.probeAll({ kinds: ['tcp4:80', 'dns-isp'] });
    for (const p of Object.values(r)) expect(p, describeProbes(r)).toMatchObject({ reached: true });
  });

  it('reset removes only our table', async () => {
    await d.cli(['tunnel', 'add', lab.wg.client, '--endpoint', `${ADDR.vpn.pub4}:${ADDR.vpn.port}/udp`]);
    await d.cli(['lock', 'always']);
    await lab.exec('client', 'nft', ['add', 'table', 'inet', 'othertool']);
    const before = await tables();
    expect(before).toContain('inet tunlock');
    const s = (await d.cli(['reset', '--yes'])) as Status;
    expect(s.mode).toBe('off');
    const after = await tables();
    expect(after).not.toContain('tunlock');
    expect(after).toContain('inet othertool');
    expect(after.split('\n')).toEqual(before.split('\n').filter((l) => !l.includes('tunlock')));
  });

  it('a second daemon on the same socket refuses to start and leaves the rules alone', async () => {
    expect(((await d.cli(['lock', 'on'])) as Status).state).toBe('protected');
    const rules = await tables();
    const before = await status();
    const second = await lab.exec('client', process.execPath, [`${process.cwd()}/host/dist/tunlockd.js`, '--socket', d.socket, '--state-dir', `${d.stateDir}-second`], {
      allowFail: true,
    });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another tunlockd is already listening/);
    expect(await tables()).toBe(rules);
    expect((await status()).mode).toBe(before.mode);
  });

  it('invalid values get a clear error and exit code 2, and change nothing', async () => {
    const before = await tables();
    const r = await d.cliRaw(['tunnel', 'add', 'wg0";flush', '--endpoint', '198.51.100.10:51820/udp']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid interface name/);
    const e = await d.cliRaw(['tunnel', 'add', 'wg1', '--endpoint', '198.51.100.10:99999/udp']);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/invalid/);
    expect(await tables()).toBe(before);
  });

  async function waitState(state: Status['state'], timeoutMs = 3000): Promise<void> {
    await waitFor(async () => (await status()).state === state, `state ${state}`, timeoutMs);
  }
});

/** Command lines of the processes in the lab's client network namespace. */
let clientNetns = '';
function processesInClientNamespace(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== clientNetns) continue;
      out.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim());
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

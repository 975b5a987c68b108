// "Test my lock" against a real kernel and a real WireGuard tunnel: the self-test passes on a correct lock
// (tunnel up and down) with nothing on the wire, and fails, naming the broken check, when the lab sabotages
// the lock. The lock history records a tunnel drop and survives a daemon restart within its size bound.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Lab, labSkip } from './fixture/lab';
import { ADDR } from './fixture/topology';
import type { Daemon } from './fixture/daemon';
import type { HistoryEvent, SelfTestResult, Status } from '../../host/src/protocol/schema.js';
import { DEFAULT_HISTORY_BYTES } from '../../host/src/daemon/history.js';

const skip = labSkip('lab: self-test');

describe.skipIf(skip)('self-test and history (tunlockd + nftables + CLI)', () => {
  let lab: Lab;
  let d: Daemon;

  const selfTest = async () => {
    const r = await d.cliRaw(['test']);
    const result = r.json as SelfTestResult;
    expect(result, `${r.stdout}\n${r.stderr}`).toBeDefined();
    return { code: r.code, result, text: JSON.stringify(result, null, 1) };
  };
  const failed = (r: SelfTestResult) => r.checks.filter((c) => !c.ok).map((c) => c.name);
  const history = async () => (await d.cli(['history'])) as HistoryEvent[];
  const status = async () => (await d.cli(['status'])) as Status;
  async function waitState(state: Status['state']): Promise<void> {
    for (let i = 0; i < 200 && (await status()).state !== state; i++) await new Promise((r) => setTimeout(r, 25));
    expect((await status()).state).toBe(state);
  }
  const nft = (args: string[]) => lab.exec('client', 'nft', args);

  let resolv: string;
  beforeAll(async () => {
    lab = await Lab.create();
    // The network's own resolver is the LAN router (what DHCP would hand out): DNS to it must be refused.
    resolv = path.join(lab.tmp, 'resolv.conf');
    writeFileSync(resolv, `nameserver ${ADDR.lanDns.v4}\n`);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  // Every test starts from the same place, whatever ran before it: the tunnel up, no firewall tables in the
  // client and a fresh daemon (new state: empty history, lock off) with the lab's tunnel configured.
  beforeEach(async () => {
    if (d) {
      await d.kill('SIGKILL');
      await lab.guardGone();
    }
    await nft(['flush', 'ruleset']);
    if (!(await lab.tunnelExists())) await lab.restoreTunnel();
    d = await lab.startDaemon({ args: ['--resolv-conf', resolv] });
    await d.cli(['tunnel', 'add', lab.wg.client, '--endpoint', `${ADDR.vpn.pub4}:${ADDR.vpn.port}/udp`]);
  });
  const lockOn = async () => expect(((await d.cli(['lock', 'on'])) as Status).state).toBe('protected');

  it('lock off: "Not protected", exit 1, naming the fix', async () => {
    const { code, result, text } = await selfTest();
    expect(code, text).toBe(1);
    expect(result.ok).toBe(false);
    expect(result.checks).toEqual([expect.objectContaining({ name: 'lock', ok: false, fix: expect.stringContaining('tunlock lock on') })]);
  });

  it('protected: every check passes with kernel evidence, and nothing reaches the wire', async () => {
    expect(((await d.cli(['lock', 'on'])) as Status).state).toBe('protected');
    const { result: r, packets } = await lab.captureDuring(() => selfTest());
    expect(r.code, r.text).toBe(0);
    expect(r.result.checks.map((c) => c.name)).toEqual(['lock', 'kernel', 'escapes', 'endpoint', 'tunnel']);
    expect(r.result.checks.find((c) => c.name === 'escapes')!.evidence).toMatch(/counter moved by \d+/);
    expect(r.result.checks.find((c) => c.name === 'tunnel')!.evidence).toContain(ADDR.vpn.tun4);
    // The lab's IPv6 goes out directly while the tunnel is v4-only; the resolver is on the LAN: both said plainly.
    expect(r.result.notes.join('\n')).toMatch(/IPv6 is present/);
    expect(r.result.notes.join('\n')).toContain(ADDR.lanDns.v4);
    expect(r.result.tunnelAddresses).toContain(ADDR.client.tun4);
    expect(packets, packets.join('\n')).toEqual([]);
  });

  it('tunnel dropped: blocking, the test still passes with 0 packets; the history records the drop', async () => {
    // Before it, a test with the lock off (fails) and one protected (passes): the history keeps all three.
    expect((await selfTest()).code).toBe(1);
    await lockOn();
    expect((await selfTest()).code).toBe(0);
    await lab.deleteTunnel();
    await waitState('blocking');
    const { result: r, packets } = await lab.captureDuring(() => selfTest());
    expect(r.code, r.text).toBe(0);
    expect(r.result.checks.map((c) => c.name)).toEqual(['lock', 'kernel', 'escapes', 'endpoint']);
    expect(packets, packets.join('\n')).toEqual([]);
    await lab.restoreTunnel();
    await waitState('protected');
    const events = await history();
    const drop = events.findIndex((e) => e.type === 'blocking' && e.cause === 'link' && e.previous?.state === 'protected');
    expect(drop, JSON.stringify(events)).toBeGreaterThan(-1);
    const back = events.slice(drop + 1).find((e) => e.type === 'protected');
    expect(back?.previous?.state).toBe('blocking');
    // how long traffic was blocked: exactly the daemon's own timestamps' difference
    expect(back!.previous!.ms).toBe(back!.at - events[drop]!.at);
    expect(events.filter((e) => e.type === 'test').map((e) => e.ok)).toEqual([false, true, true]);
  });

  /** A clean run: the failed test before it had the daemon re-apply its rules. */
  async function clean(): Promise<void> {
    const r = await selfTest();
    expect(r.code, r.text).toBe(0);
  }

  it('one rule replaced: the test fails and names the kernel check', async () => {
    await lockOn();
    await clean();
    const listing = (await nft(['-a', 'list', 'chain', 'inet', 'tunlock', 'output'])).stdout;
    const handle = /reject with icmpx admin-prohibited # handle (\d+)/.exec(listing)?.[1];
    expect(handle, listing).toBeDefined();
    await nft(['replace', 'rule', 'inet', 'tunlock', 'output', 'handle', handle!, 'counter', 'name', 'blocked_out', 'drop']);
    const { code, result, text } = await selfTest();
    expect(code, text).toBe(1);
    expect(failed(result), text).toEqual(['kernel']);
    // The daemon's own tamper check (contents, not counts) may repair it first; either way the test names it.
    expect(result.checks.find((c) => c.name === 'kernel')!.evidence).toMatch(/re-applied its rules|change by another program/);
  });

  it('endpoint exception widened (any program, any port to the VPN server): the test fails and names it', async () => {
    await lockOn();
    await clean();
    const listing = (await nft(['-a', 'list', 'chain', 'inet', 'tunlock', 'output'])).stdout;
    const handle = /ip daddr \. [^\n]*@endpoints4\S* accept # handle (\d+)/.exec(listing)?.[1];
    expect(handle, listing).toBeDefined();
    await nft(['replace', 'rule', 'inet', 'tunlock', 'output', 'handle', handle!, 'ip', 'daddr', ADDR.vpn.pub4, 'accept']);
    const { code, result, text } = await selfTest();
    expect(code, text).toBe(1);
    expect(failed(result), text).toEqual(['kernel']);
    expect(result.checks.find((c) => c.name === 'kernel')!.evidence).toMatch(/re-applied its rules|change by another program/);
  });

  it('table flushed with the daemon stopped: the test names the daemon (exit 3), then the kernel check after restart', async () => {
    await lockOn();
    await clean();
    await d.kill('SIGTERM');
    await nft(['delete', 'table', 'inet', 'tunlock']);
    const down = await selfTest();
    expect(down.code, down.text).toBe(3);
    expect(failed(down.result)).toEqual(['daemon']);
    await d.restart();
    const { code, result, text } = await selfTest();
    expect(code, text).toBe(1);
    expect(failed(result)).toEqual(['kernel']);
    expect(result.checks.find((c) => c.name === 'kernel')!.evidence).toMatch(/missing when tunlockd started/);
    expect((await selfTest()).code).toBe(0);
  });

  it('the history survives a daemon restart, within its size bound, oldest first', async () => {
    // Something to keep: a lock, a self-test, and a tamper (our table deleted by another program, re-asserted).
    await lockOn();
    await clean();
    await nft(['delete', 'table', 'inet', 'tunlock']);
    for (let i = 0; i < 200 && !(await history()).some((e) => e.type === 'tamper'); i++) await new Promise((r) => setTimeout(r, 25));
    const before = await history();
    await d.restart();
    const after = await history();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.map((e) => e.at)).toEqual([...after.map((e) => e.at)].sort((a, b) => a - b));
    expect(after.some((e) => e.type === 'tamper')).toBe(true);
    const file = path.join(d.stateDir, 'history.jsonl');
    expect(statSync(file).size).toBeLessThanOrEqual(DEFAULT_HISTORY_BYTES);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(after.length);
  });

  it('lock off again: "Not protected", and the history says off', async () => {
    await lockOn();
    await d.cli(['lock', 'off']);
    const { code, result } = await selfTest();
    expect(code).toBe(1);
    expect(failed(result)).toEqual(['lock']);
    expect((await history()).filter((e) => e.type !== 'test').pop()).toMatchObject({ type: 'off', cause: 'request' });
  });
});

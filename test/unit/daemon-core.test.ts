// The Daemon class around the pure decisions: the order of apply and save, rollback, failing closed, and
// repairing tampering — with a fake firewall and a fake store (daemon-fakes.ts), so each failure can be made
// to happen exactly where it matters. The real firewall and store are tested in test/lab and state-store.test.ts.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Client } from '../../host/src/daemon/daemon.js';
import { Daemon } from '../../host/src/daemon/daemon.js';
import type { Event, HistoryResult, Request, Status } from '../../host/src/protocol/schema.js';
import { FakeFirewall, FakeStore } from './daemon-fakes.js';

const root: Client = { uid: 0, gid: 0, pid: 1, pidfd: null };
let id = 0;

function setup() {
  const firewall = new FakeFirewall();
  const store = new FakeStore(firewall.calls);
  const logs: string[] = [];
  // The daemon's own clock: verifiedAt moves exactly when a test moves it.
  const clock = { now: 1_700_000_000_000 };
  const daemon = new Daemon({ firewall, store, log: (m) => logs.push(m), now: () => clock.now, verifyIntervalMs: 3_600_000, historyPeriodMs: 3_600_000 });
  const events: Event[] = [];
  daemon.onEvent((e) => events.push(e));
  cleanups.push(() => {
    daemon.stop();
    rmSync(store.dir, { recursive: true, force: true });
  });
  const send = (r: Record<string, unknown>) => daemon.handle({ id: ++id, ...r } as Request, root);
  const status = async () => (await send({ type: 'status' })) as Status;
  const refusal = (p: Promise<unknown>) => p.then(() => null, (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
  return { firewall, store, daemon, logs, events, clock, send, status, refusal };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('Daemon: apply, then save', () => {
  it('a change reaches the kernel before it is saved', async () => {
    const { firewall, store, send } = setup();
    await send({ type: 'setMode', mode: 'always' });
    expect(firewall.calls).toEqual(['apply locked', 'save']);
    expect(store.saved?.config.mode).toBe('always');
  });

  it('a failed save puts the previous rules back, and the previous settings stay', async () => {
    const { firewall, store, send, status, refusal } = setup();
    await send({ type: 'setMode', mode: 'always' });
    store.failSaves = 1;
    firewall.calls.length = 0;
    expect(await refusal(send({ type: 'setLan', allow: false }))).toEqual({ code: 'internal', message: expect.stringMatching(/cannot save settings/) });
    // the new rules went in, the save failed, the old rules went back in
    expect(firewall.calls).toEqual(['apply locked', 'apply locked']);
    expect(firewall.applied.map((p) => p.allowLan)).toEqual([true, false, true]);
    expect(firewall.enforced?.allowLan).toBe(true);
    expect(store.saved?.config.allowLan).toBe(true);
    expect((await status()).lan).toBe('allow');
  });

  it('a failed apply leaves the previous rules and settings, and status names the error', async () => {
    const { firewall, store, send, status, refusal } = setup();
    await send({ type: 'setMode', mode: 'always' });
    firewall.failApplies = 1;
    firewall.calls.length = 0;
    expect((await refusal(send({ type: 'setLan', allow: false })))?.code).toBe('firewall_failed');
    expect(firewall.calls).toEqual(['apply locked']);
    expect(firewall.enforced?.allowLan).toBe(true);
    expect(store.saved?.config.allowLan).toBe(true);
    const s = await status();
    expect(s.lan).toBe('allow');
    expect(s.error?.code).toBe('firewall_failed');
    await send({ type: 'setLan', allow: false });
    expect((await status()).error).toBeNull();
  });

  it('the refused counts shown are the firewall\'s', async () => {
    const { firewall, send, status } = setup();
    await send({ type: 'setMode', mode: 'always' });
    firewall.blocked = 42;
    expect((await status()).blockedPackets).toBe(42);
  });
});

describe('Daemon: unreadable saved state fails closed', () => {
  it('installs the full block, reports the error, refuses other changes until a mode is chosen', async () => {
    const { firewall, store, daemon, send, status, refusal } = setup();
    store.unreadable = 'state.json is not valid JSON';
    await daemon.start();
    expect(firewall.calls).toEqual(['apply locked']);
    expect(firewall.enforced).toMatchObject({ kind: 'locked', tunnels: [], allowLan: false, endpoints: [] });
    const s = await status();
    expect(s.state).toBe('blocking');
    expect(s.error?.code).toBe('state_unreadable');
    expect((await refusal(send({ type: 'setLan', allow: true })))?.code).toBe('state_unreadable');
    expect(store.saved).toBeNull();
    await send({ type: 'setMode', mode: 'off' });
    const after = await status();
    expect(after).toMatchObject({ state: 'off', error: null, lan: 'allow' });
    expect(firewall.enforced).toBeNull();
  });

  it('keeps a lock it finds in the kernel (guarded), and replaces anything that is not a lock', async () => {
    const kept = setup();
    kept.store.unreadable = 'bad';
    kept.firewall.holding = { lock: true, guarded: false };
    await kept.daemon.start();
    expect(kept.firewall.calls).toEqual(['guard']);
    expect((await kept.status()).state).toBe('blocking');

    const replaced = setup();
    replaced.store.unreadable = 'bad';
    replaced.firewall.holding = { lock: false, guarded: false };
    await replaced.daemon.start();
    expect(replaced.firewall.calls).toEqual(['apply locked']);
  });
});

describe('Daemon: tampering', () => {
  it('a kept lock (state unreadable) that is removed is replaced by the full block', async () => {
    const { firewall, store, daemon, status } = setup();
    store.unreadable = 'bad';
    firewall.holding = { lock: true, guarded: true };
    await daemon.start();
    firewall.holding = null; // another program removed it
    (daemon as unknown as { scheduleVerify(): void }).scheduleVerify();
    await vi.waitFor(async () => expect((await status()).tamper.count).toBe(1));
    expect(firewall.calls).toEqual(['guard', 'apply locked']);
    expect(firewall.enforced).toMatchObject({ kind: 'locked', tunnels: [], allowLan: false });
    expect(await status()).toMatchObject({ state: 'blocking', error: { code: 'state_unreadable' } });
  });

  it('a lost guard is put back by applying again (not counted as tampering)', async () => {
    const { firewall, daemon, send, status } = setup();
    await send({ type: 'setMode', mode: 'always' });
    firewall.unguarded = true;
    firewall.calls.length = 0;
    (daemon as unknown as { scheduleVerify(): void }).scheduleVerify();
    await vi.waitFor(() => expect(firewall.unguarded).toBe(false));
    expect(firewall.calls).toEqual(['apply locked']);
    expect((await status()).tamper.count).toBe(0);
  });

  it('rules removed by someone else are re-applied whole, counted and announced', async () => {
    const { firewall, daemon, send, status, events } = setup();
    await send({ type: 'setMode', mode: 'always' });
    firewall.enforced = null; // another program removed them
    firewall.calls.length = 0;
    (daemon as unknown as { scheduleVerify(): void }).scheduleVerify();
    await vi.waitFor(async () => expect((await status()).tamper.count).toBe(1));
    expect(firewall.calls).toEqual(['apply locked replace']);
    expect(firewall.enforced).toMatchObject({ kind: 'locked' });
    expect(events).toContainEqual(expect.objectContaining({ event: 'tamper', detail: 'fake rules was removed' }));
    expect((await status()).tamper.last).toMatch(/fake rules was removed$/);
  });

  it('a change someone made that the next apply finds and rewrites is counted, kept in the history and announced', async () => {
    const { firewall, send, status, events } = setup();
    await send({ type: 'setMode', mode: 'always' });
    firewall.nextForeignChange = 'fake rules was changed by another program (found while applying a change)';
    await send({ type: 'setLan', allow: true });
    const st = await status();
    expect(st.tamper.count).toBe(1);
    expect(st.tamper.last).toMatch(/\(found while applying a change\)$/);
    expect(events).toContainEqual(expect.objectContaining({ event: 'tamper', detail: firewall.label + ' was changed by another program (found while applying a change)' }));
    const history = (await send({ type: 'history' })) as HistoryResult;
    expect(history.events.filter((e) => e.type === 'tamper')).toHaveLength(1);
  });

  it('a check asked for while an apply runs (its own change events ask) waits until the apply is done', async () => {
    const { firewall, daemon, send } = setup();
    await send({ type: 'setMode', mode: 'always' });
    let release = () => {};
    firewall.applyGate = new Promise<void>((r) => (release = r));
    firewall.calls.length = 0;
    const changing = send({ type: 'setLan', allow: true });
    await vi.waitFor(() => expect(firewall.calls).toEqual(['apply locked']));
    const before = firewall.verifies;
    (daemon as unknown as { scheduleVerify(): void }).scheduleVerify();
    await new Promise((r) => setImmediate(r));
    expect(firewall.verifies).toBe(before);
    release();
    await changing;
    await vi.waitFor(() => expect(firewall.verifies).toBe(before + 1));
  });

  it('rules as applied: nothing is re-applied', async () => {
    const { firewall, daemon, clock, send, status } = setup();
    await send({ type: 'setMode', mode: 'always' });
    firewall.calls.length = 0;
    clock.now += 1000;
    (daemon as unknown as { scheduleVerify(): void }).scheduleVerify();
    await vi.waitFor(async () => expect((await status()).verifiedAt).toBe(clock.now));
    expect(firewall.calls).toEqual([]);
    expect((await status()).tamper.count).toBe(0);
  });
});

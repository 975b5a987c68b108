// tunlock-host's relay against a fake daemon: the handshake, forwarding, typed errors, "daemon unavailable",
// reconnect with backoff and re-subscription, and which events reach the browser.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Backoff } from '../../host/src/common/backoff';
import { RECONNECT_INITIAL_MS, RECONNECT_MAX_MS } from '../../host/src/native-host/relay';
import { FrameError } from '../../host/src/protocol/framing';
import { Relay } from '../../host/src/native-host/relay';
import { PROTOCOL_VERSION, ProtocolError, versionMismatch } from '../../host/src/protocol/schema';
import { FakeBrowser, FakeDaemon, SOCKET, sampleStatus, settle } from './native-host-fakes';

const HELLO = { type: 'hello', version: PROTOCOL_VERSION, client: 'extension' } as const;

let daemon: FakeDaemon;
let browser: FakeBrowser;
let relay: Relay;
const logs: string[] = [];

function makeRelay(): Relay {
  relay = new Relay({ send: browser.send, link: daemon.link, socketPath: SOCKET, log: (m) => logs.push(m) });
  return relay;
}

async function frame(value: unknown): Promise<void> {
  await relay.handleFrame(value);
}

beforeEach(() => {
  daemon = new FakeDaemon();
  browser = new FakeBrowser();
  logs.length = 0;
});

afterEach(() => {
  relay?.close();
  vi.useRealTimers();
});

describe('handshake', () => {
  it('answers hello itself, then tells the daemon availability', async () => {
    makeRelay().start();
    await settle();
    await frame({ ...HELLO, id: 7 });
    expect(browser.received).toEqual([
      { id: 7, ok: true, result: { version: PROTOCOL_VERSION, server: 'tunlock-host' } },
      { event: 'daemon', available: true },
    ]);
    expect(daemon.received).toEqual([]); // the host's own hello to the daemon is the link's business
  });

  it('refuses everything before hello, without forwarding', async () => {
    makeRelay().start();
    await settle();
    await frame({ id: 1, type: 'setMode', mode: 'always' });
    expect(browser.response(1)).toMatchObject({ ok: false, error: { code: 'bad_request', message: 'the first request must be hello' } });
    expect(daemon.received).toEqual([]);
    expect(browser.events()).toEqual([]);
  });

  it('a version mismatch is a clear error naming the part to update, repeated until a matching hello', async () => {
    makeRelay().start();
    await settle();
    await frame({ ...HELLO, version: PROTOCOL_VERSION + 1, id: 1 });
    const expected = versionMismatch('tunlock-host', PROTOCOL_VERSION, 'the tunlock extension', PROTOCOL_VERSION + 1).toBody();
    expect(browser.response(1)).toEqual({ id: 1, ok: false, error: expected });
    expect(expected.hint).toMatch(/^update tunlock-host/);
    await frame({ id: 2, type: 'status' });
    expect(browser.response(2)).toEqual({ id: 2, ok: false, error: expected });
    expect(browser.events()).toEqual([]);
    // an older extension: the hint says to update the extension
    await frame({ ...HELLO, version: 0, id: 3 });
    expect(browser.response(3)).toMatchObject({ error: { code: 'version_mismatch', hint: expect.stringMatching(/^update the tunlock extension/) } });
    await frame({ ...HELLO, id: 4 });
    await frame({ id: 5, type: 'status' });
    expect(browser.response(5)).toMatchObject({ ok: true });
    expect(daemon.received).toEqual([{ type: 'status' }]);
  });
});

describe('forwarding', () => {
  beforeEach(async () => {
    makeRelay().start();
    await settle();
    await frame({ ...HELLO, id: 1 });
    browser.received.length = 0;
  });

  it('forwards the validated request without its id and echoes the browser id', async () => {
    await frame({ id: 2_147_483_647, type: 'tunnelAdd', iface: 'wg0', endpoints: ['198.51.100.10:51820/udp'] });
    expect(daemon.received).toEqual([{ type: 'tunnelAdd', iface: 'wg0', endpoints: ['198.51.100.10:51820/udp'] }]);
    expect(browser.received).toEqual([{ id: 2_147_483_647, ok: true, result: sampleStatus() }]);
  });

  it("relays the daemon's typed errors", async () => {
    daemon.answer = () => {
      throw new ProtocolError('conflict', 'the lock is off: nothing blocks the portal', 'open the portal page directly');
    };
    await frame({ id: 3, type: 'captiveOpen', seconds: 120 });
    expect(browser.received).toEqual([
      { id: 3, ok: false, error: { code: 'conflict', message: 'the lock is off: nothing blocks the portal', hint: 'open the portal page directly' } },
    ]);
  });

  it('an unexpected failure becomes an internal error with the same id', async () => {
    daemon.answer = () => {
      throw new TypeError('boom');
    };
    await frame({ id: 4, type: 'status' });
    expect(browser.response(4)).toEqual({ id: 4, ok: false, error: { code: 'internal', message: 'tunlock-host: boom' } });
  });

  it('rejects invalid requests with bad_request, echoing the id when there is a valid one', async () => {
    const cases: Array<[unknown, number | null]> = [
      [{ id: 5, type: 'nope' }, 5],
      [{ id: 6, type: 'status', extra: 1 }, 6],
      [{ id: 7, type: 'tunnelUp', iface: 'wg0 && reboot' }, 7],
      [{ id: 8, type: 'reset', confirm: false }, 8],
      [{ id: 9, type: 'captiveOpen', seconds: 601 }, 9],
      [{ id: -1, type: 'status' }, null],
      [{ id: 1.5, type: 'status' }, null],
      [{ id: '10', type: 'status' }, null],
      [{ id: 2 ** 31, type: 'status' }, null],
      [[{ id: 11, type: 'status' }], null],
      ['status', null],
      [null, null],
      [{ type: 'status' }, null],
    ];
    for (const [value, id] of cases) {
      browser.received.length = 0;
      await frame(value);
      expect(browser.received, JSON.stringify(value)).toEqual([{ id, ok: false, error: { code: 'bad_request', message: expect.stringMatching(/^invalid request/) } }]);
    }
    expect(daemon.received).toEqual([]);
  });

  it('keeps error messages within the protocol limit whatever the request held', async () => {
    const junk: Record<string, number> = { id: 12 };
    for (let i = 0; i < 5000; i++) junk[`key${i}_${'x'.repeat(20)}`] = i;
    await frame({ ...junk, type: 'status' });
    const r = browser.response(12);
    expect(r?.ok).toBe(false);
    if (r && !r.ok) expect(r.error.message.length).toBeLessThanOrEqual(500);
  });

  it('answers a frame the decoder rejected with bad_frame and id null', () => {
    relay.frameError(new FrameError('frame of 70000 bytes exceeds the 65536-byte limit'));
    expect(browser.received).toEqual([{ id: null, ok: false, error: { code: 'bad_frame', message: 'tunlock-host: frame of 70000 bytes exceeds the 65536-byte limit' } }]);
  });
});

describe('events', () => {
  beforeEach(async () => {
    makeRelay().start();
    await settle();
    await frame({ ...HELLO, id: 1 });
    browser.received.length = 0;
  });

  it('relays status and tamper events only after the browser subscribed', async () => {
    const link = daemon.current!;
    link.emit({ event: 'status', status: sampleStatus({ mode: 'on' }) });
    expect(browser.events()).toEqual([]);
    await frame({ id: 2, type: 'subscribe' });
    expect(daemon.received).toEqual([{ type: 'subscribe' }]);
    link.emit({ event: 'status', status: sampleStatus({ mode: 'always' }) });
    link.emit({ event: 'tamper', detail: 'table inet tunlock was removed by another program', at: 1 });
    expect(browser.events()).toEqual([
      { event: 'status', status: sampleStatus({ mode: 'always' }) },
      { event: 'tamper', detail: 'table inet tunlock was removed by another program', at: 1 },
    ]);
  });

  it("never relays a 'daemon' event from the daemon (only the host knows whether the daemon is there)", async () => {
    await frame({ id: 2, type: 'subscribe' });
    browser.received.length = 0;
    daemon.current!.emit({ event: 'daemon', available: false });
    expect(browser.received).toEqual([]);
  });
});

describe('daemon unavailable, reconnect and re-subscribe', () => {
  it('waits for the first connection attempt instead of failing requests that arrive during it', async () => {
    let open!: () => void;
    daemon.gate = new Promise((r) => (open = r));
    makeRelay().start();
    await frame({ ...HELLO, id: 1 });
    const pending = frame({ id: 2, type: 'status' });
    await settle();
    expect(browser.response(2)).toBeUndefined();
    open();
    await pending;
    expect(browser.response(2)).toMatchObject({ ok: true });
    expect(browser.events('daemon')).toEqual([{ event: 'daemon', available: true }]);
  });

  it('answers daemon_unavailable with a hint and pushes the reason; retries 250 ms → 5 s', async () => {
    vi.useFakeTimers();
    daemon.down();
    makeRelay().start();
    await vi.advanceTimersByTimeAsync(0);
    await frame({ ...HELLO, id: 1 });
    expect(browser.events('daemon')).toEqual([
      { event: 'daemon', available: false, error: { code: 'daemon_unavailable', message: `tunlockd is not running (no socket at ${SOCKET})`, hint: `start tunlockd with --socket ${SOCKET}` } },
    ]);
    await frame({ id: 2, type: 'status' });
    expect(browser.response(2)).toMatchObject({ ok: false, error: { code: 'daemon_unavailable', hint: expect.any(String) } });
    // the first attempt at 0, then one after each delay (sampled every 50 ms)
    const at: number[] = [];
    let last = daemon.connectAttempts;
    for (let t = 0; t <= 18_000; t += 50) {
      if (daemon.connectAttempts !== last) {
        at.push(t);
        last = daemon.connectAttempts;
      }
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(at).toEqual([250, 750, 1750, 3750, 7750, 12750, 17750]); // delays 250, 500, 1000, 2000, 4000, 5000, 5000
    // Repeated failures with the same reason are not repeated to the browser.
    expect(browser.events('daemon')).toHaveLength(1);
  });

  it('reconnects when the daemon comes back, says so, re-subscribes and pushes a fresh status', async () => {
    vi.useFakeTimers();
    makeRelay().start();
    await vi.advanceTimersByTimeAsync(0);
    await frame({ ...HELLO, id: 1 });
    await frame({ id: 2, type: 'subscribe' });
    browser.received.length = 0;
    daemon.received.length = 0;

    daemon.down();
    daemon.current!.drop();
    expect(browser.events('daemon')).toEqual([
      { event: 'daemon', available: false, error: { code: 'daemon_unavailable', message: 'connection to tunlockd closed', hint: expect.any(String) } },
    ]);
    await frame({ id: 3, type: 'setMode', mode: 'on' });
    expect(browser.response(3)).toMatchObject({ ok: false, error: { code: 'daemon_unavailable' } });
    await vi.advanceTimersByTimeAsync(250); // first retry: still down, a new reason
    expect(browser.events('daemon').at(-1)).toMatchObject({ available: false, error: { message: expect.stringMatching(/not running/) } });

    daemon.refuse = null;
    daemon.answer = (body) => sampleStatus({ mode: body.type === 'subscribe' ? 'on' : 'off' });
    await vi.advanceTimersByTimeAsync(500);
    expect(daemon.received).toEqual([{ type: 'subscribe' }]);
    expect(browser.received.slice(-2)).toEqual([
      { event: 'daemon', available: true },
      { event: 'status', status: sampleStatus({ mode: 'on' }) },
    ]);
    // and events flow on the new connection
    daemon.current!.emit({ event: 'tamper', detail: 'x', at: 2 });
    expect(browser.received.at(-1)).toEqual({ event: 'tamper', detail: 'x', at: 2 });
    // the backoff starts over after a success
    daemon.down();
    daemon.current!.drop();
    const before = daemon.connectAttempts;
    await vi.advanceTimersByTimeAsync(260);
    expect(daemon.connectAttempts).toBe(before + 1);
  });

  it('does not subscribe on reconnect when the browser never subscribed', async () => {
    vi.useFakeTimers();
    makeRelay().start();
    await vi.advanceTimersByTimeAsync(0);
    await frame({ ...HELLO, id: 1 });
    daemon.current!.drop();
    await vi.advanceTimersByTimeAsync(300);
    expect(daemon.current).toBeDefined();
    expect(daemon.received).toEqual([]);
    expect(browser.events('status')).toEqual([]);
  });

  it('remembers a subscription made while the daemon was away', async () => {
    vi.useFakeTimers();
    daemon.down();
    makeRelay().start();
    await vi.advanceTimersByTimeAsync(0);
    await frame({ ...HELLO, id: 1 });
    await frame({ id: 2, type: 'subscribe' });
    expect(browser.response(2)).toMatchObject({ ok: false, error: { code: 'daemon_unavailable' } });
    daemon.refuse = null;
    await vi.advanceTimersByTimeAsync(250);
    expect(daemon.received).toEqual([{ type: 'subscribe' }]);
    expect(browser.events('status')).toHaveLength(1);
  });

  it("relays the daemon's refusal (not_permitted, version_mismatch) instead of a generic error", async () => {
    for (const refusal of [
      new ProtocolError('not_permitted', 'user 1000 may not control tunlock', 'add the user to the "tunlock" group'),
      versionMismatch('tunlockd', PROTOCOL_VERSION + 1, 'host', PROTOCOL_VERSION),
    ]) {
      daemon = new FakeDaemon();
      browser = new FakeBrowser();
      daemon.refuse = refusal;
      makeRelay().start();
      await settle();
      await frame({ ...HELLO, id: 1 });
      await frame({ id: 2, type: 'status' });
      expect(browser.events('daemon')).toEqual([{ event: 'daemon', available: false, error: refusal.toBody() }]);
      expect(browser.response(2)).toEqual({ id: 2, ok: false, error: refusal.toBody() });
      relay.close();
    }
  });

  it('a dropped connection fails the requests in flight with daemon_unavailable', async () => {
    makeRelay().start();
    await settle();
    await frame({ ...HELLO, id: 1 });
    let fail!: (e: Error) => void;
    daemon.answer = () => new Promise((_, reject) => (fail = reject));
    const pending = frame({ id: 2, type: 'setLan', allow: false });
    await settle();
    fail(new ProtocolError('daemon_unavailable', 'connection to tunlockd closed', 'start the daemon'));
    await pending;
    expect(browser.response(2)).toEqual({ id: 2, ok: false, error: { code: 'daemon_unavailable', message: 'connection to tunlockd closed', hint: 'start the daemon' } });
  });

  it('close() stops reconnecting and closes the link', async () => {
    vi.useFakeTimers();
    makeRelay().start();
    await vi.advanceTimersByTimeAsync(0);
    const link = daemon.current!;
    relay.close();
    expect(link.closed).toBe(true);
    daemon.down();
    const attempts = daemon.connectAttempts;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(daemon.connectAttempts).toBe(attempts);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('Backoff', () => {
  it('doubles from 250 ms to a 5 s cap and starts over after reset (the relay\'s bounds)', () => {
    expect([RECONNECT_INITIAL_MS, RECONNECT_MAX_MS]).toEqual([250, 5000]);
    const b = new Backoff(RECONNECT_INITIAL_MS, RECONNECT_MAX_MS);
    expect(Array.from({ length: 8 }, () => b.next())).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
    b.reset();
    expect(b.next()).toBe(250);
  });
});

describe('repeated hello (the extension retrying its handshake)', () => {
  it('is answered again but does not repeat the availability event', async () => {
    makeRelay().start();
    await settle();
    await frame({ ...HELLO, id: 1 });
    await frame({ ...HELLO, id: 2 });
    expect(browser.responses().map((r) => r.id)).toEqual([1, 2]);
    expect(browser.events('daemon')).toEqual([{ event: 'daemon', available: true }]);
  });
});

describe('a daemon connection broken by the daemon itself', () => {
  it('is reported as daemon_unavailable, never as an error in the browser request', async () => {
    makeRelay().start();
    await settle();
    await frame({ ...HELLO, id: 1 });
    daemon.down();
    daemon.current!.drop(new ProtocolError('bad_request', 'tunlockd sent a message this client does not understand: x', 'update tunlock so all parts have the same version'));
    await frame({ id: 2, type: 'status' });
    expect(browser.response(2)).toEqual({
      id: 2,
      ok: false,
      error: { code: 'daemon_unavailable', message: 'tunlockd sent a message this client does not understand: x', hint: 'update tunlock so all parts have the same version' },
    });
  });
});

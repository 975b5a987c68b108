import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NativePort } from '../../extension/src/background/native-client.js';
import { BACKOFF_MIN_MS, classifyDisconnect, HELLO_TIMEOUT_MS, NativeClient, RequestError } from '../../extension/src/background/native-client.js';
import type { Connection } from '../../extension/src/shared/snapshot.js';
import { status } from './extension-fixtures.js';

/** A fake host: records what the extension sent; the test answers. */
class FakePort implements NativePort {
  sent: Record<string, unknown>[] = [];
  private msg: ((m: unknown) => void)[] = [];
  private disc: (() => void)[] = [];
  error: string | undefined;
  disconnected = false;
  postMessage(m: unknown) {
    this.sent.push(m as Record<string, unknown>);
  }
  disconnect() {
    this.disconnected = true;
  }
  onMessage = { addListener: (cb: (m: unknown) => void) => void this.msg.push(cb) };
  onDisconnect = { addListener: (cb: () => void) => void this.disc.push(cb) };
  push(m: unknown) {
    for (const cb of this.msg) cb(m);
  }
  answer(type: string, reply: Record<string, unknown>) {
    const req = this.sent.filter((m) => m.type === type).at(-1)!;
    this.push({ id: req.id, ...reply });
  }
  close(error?: string) {
    this.error = error;
    for (const cb of this.disc) cb();
  }
}

const flush = () => vi.advanceTimersByTimeAsync(0);

describe('NativeClient', () => {
  let ports: FakePort[];
  let states: Connection[];
  let client: NativeClient;
  beforeEach(() => {
    vi.useFakeTimers();
    ports = [];
    states = [];
    client = new NativeClient({
      connect: () => {
        const p = new FakePort();
        ports.push(p);
        return p;
      },
      disconnectReason: (p) => (p as FakePort).error,
      onChange: (c) => states.push(c),
      installFix: 'npm run setup',
    });
  });
  afterEach(() => {
    client.stop();
    vi.useRealTimers();
  });

  async function handshake(p: FakePort, s = status()) {
    await flush();
    p.answer('hello', { ok: true, result: { version: 2, server: 'tunlockd' } });
    await flush();
    p.answer('subscribe', { ok: true, result: s });
    await flush();
  }

  it('says hello, subscribes and follows status events', async () => {
    client.start();
    const p = ports[0]!;
    await handshake(p);
    expect(p.sent.map((m) => m.type)).toEqual(['hello', 'subscribe']);
    expect(p.sent[0]).toMatchObject({ version: 2, client: 'extension' });
    expect(client.state.connection.kind).toBe('ready');
    p.push({ event: 'status', status: status({ state: 'blocking' }) });
    expect(client.state.status?.state).toBe('blocking');
  });

  it('host not installed → host_missing with the install command, then retries with backoff', async () => {
    client.start();
    ports[0]!.close('Specified native messaging host not found.');
    expect(client.state.connection).toMatchObject({ kind: 'host_missing', fix: 'npm run setup' });
    await vi.advanceTimersByTimeAsync(BACKOFF_MIN_MS);
    expect(ports.length).toBe(2);
    ports[1]!.close('No such native application dev.tunlock.host');
    await vi.advanceTimersByTimeAsync(BACKOFF_MIN_MS);
    expect(ports.length).toBe(2); // the delay doubled
    await vi.advanceTimersByTimeAsync(BACKOFF_MIN_MS);
    expect(ports.length).toBe(3);
  });

  it('daemon down → daemon_down with the host hint; comes back on the daemon event', async () => {
    client.start();
    const p = ports[0]!;
    await flush();
    p.answer('hello', { ok: true, result: { version: 2, server: 'tunlockd' } });
    await flush();
    p.answer('subscribe', { ok: false, error: { code: 'daemon_unavailable', message: 'tunlockd is not running', hint: 'sudo systemctl start tunlockd' } });
    await flush();
    expect(client.state.connection).toEqual({ kind: 'daemon_down', message: 'tunlockd is not running', fix: 'sudo systemctl start tunlockd' });
    p.push({ event: 'daemon', available: true });
    await handshake(p);
    expect(client.state.connection.kind).toBe('ready');
    p.push({ event: 'daemon', available: false, error: { code: 'daemon_unavailable', message: 'gone' } });
    expect(client.state.connection).toMatchObject({ kind: 'daemon_down', message: 'gone' });
    expect(ports.length).toBe(1); // the host is fine: same port
  });

  it('rejects pending requests at once when the port closes', async () => {
    client.start();
    const p = ports[0]!;
    await handshake(p);
    const r = client.request({ type: 'setMode', mode: 'on' });
    p.close('Native host has exited.');
    await expect(r).rejects.toThrow(/disconnected: Native host has exited/);
    expect(client.state.connection.kind).toBe('host_failed');
  });

  it('turns daemon errors into RequestError with the body', async () => {
    client.start();
    const p = ports[0]!;
    await handshake(p);
    const r = client.request({ type: 'setMode', mode: 'on' });
    p.answer('setMode', { ok: false, error: { code: 'firewall_failed', message: 'nft said no' } });
    await expect(r).rejects.toBeInstanceOf(RequestError);
  });

  it('a host that never answers hello is a failure, not a spinner', async () => {
    client.start();
    await vi.advanceTimersByTimeAsync(HELLO_TIMEOUT_MS + 1);
    expect(client.state.connection.kind).toBe('host_failed');
    expect(ports[0]!.disconnected).toBe(true);
  });

  it('drops a host that sends what the protocol does not allow', async () => {
    client.start();
    ports[0]!.push({ hello: 'world' });
    expect(client.state.connection.kind).toBe('host_failed');
    expect(ports[0]!.disconnected).toBe(true);
  });

  it('version mismatch is its own state with the fix', async () => {
    client.start();
    await flush();
    ports[0]!.answer('hello', { ok: false, error: { code: 'version_mismatch', message: 'v2 vs v1', hint: 'update tunlock' } });
    await flush();
    expect(client.state.connection).toEqual({ kind: 'incompatible', message: 'v2 vs v1', fix: 'update tunlock' });
  });

  it('classifies disconnect reasons of both browsers', () => {
    expect(classifyDisconnect('Specified native messaging host not found.', 'x').kind).toBe('host_missing');
    expect(classifyDisconnect('No such native application dev.tunlock.host', 'x').kind).toBe('host_missing');
    expect(classifyDisconnect('Access to the specified native messaging host is forbidden.', 'x').kind).toBe('host_forbidden');
    expect(classifyDisconnect(undefined, 'x').kind).toBe('host_failed');
  });
});

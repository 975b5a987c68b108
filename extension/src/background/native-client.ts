// One native-messaging port to tunlock-host, kept while the background runs. The port API is a parameter
// (`connect`), so unit tests drive this class with a fake port.
//
//            start()                 hello ok + subscribe ok
//   idle ───────────► connecting ───────────────────────────► ready ◄─┐ status events
//                        ▲   │ hello/subscribe: daemon_unavailable │  └─┘
//                        │   ▼                                     │ {event:'daemon', available:false}
//                        │ daemon_down ◄───────────────────────────┘
//                        │   │ {event:'daemon', available:true}, or the retry timer: hello + subscribe again
//                        │   ▼
//     backoff timer      │ (connecting, same port)
//   host_missing / host_forbidden / host_failed / incompatible  ◄── port disconnected (from any state)
//
// On every disconnect all pending requests are rejected at once; the retry delay doubles from 500 ms to 30 s
// and resets after a successful subscribe. A host that does not answer hello within HELLO_TIMEOUT_MS counts
// as failed, so the UI never waits forever.
import type { Connection } from '../shared/snapshot.js';
import type { ErrorBodyT, Event, RequestBody, StatusT } from '../shared/protocol.js';
import { Backoff, PROTOCOL_VERSION, ServerMessage } from '../shared/protocol.js';

export interface NativePort {
  postMessage(message: unknown): void;
  disconnect(): void;
  onMessage: { addListener(cb: (message: unknown) => void): void };
  onDisconnect: { addListener(cb: () => void): void };
}

export interface NativeClientOptions {
  connect: () => NativePort;
  /** why the port closed (Chromium: runtime.lastError; Firefox: port.error), read inside onDisconnect */
  disconnectReason: (port: NativePort) => string | undefined;
  onChange: (connection: Connection, status: StatusT | null) => void;
  onEvent?: (event: Event) => void;
  /** fix shown when the host is not registered for this browser */
  installFix: string;
  timers?: { setTimeout: (fn: () => void, ms: number) => unknown; clearTimeout: (handle: unknown) => void };
  now?: () => number;
}

export const HELLO_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 10_000;
export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 30_000;

export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly body: ErrorBodyT,
  ) {
    super(body.message);
  }
}

interface Pending {
  resolve: (result: unknown) => void;
  reject: (e: Error) => void;
  timer: unknown;
}

/** Maps the browsers' disconnect messages to what the user can do. */
export function classifyDisconnect(reason: string | undefined, installFix: string): Connection {
  const r = reason ?? '';
  if (/not found|no such native application/i.test(r)) {
    return { kind: 'host_missing', message: r || 'native messaging host not found', fix: installFix };
  }
  if (/forbidden|not allowed/i.test(r)) {
    return {
      kind: 'host_forbidden',
      message: `tunlock-host does not list this extension (${r})`,
      fix: `${installFix} (it rewrites the host manifest with this extension's ID)`,
    };
  }
  return {
    kind: 'host_failed',
    message: r ? `tunlock-host stopped: ${r}` : 'tunlock-host stopped',
    fix: `run tunlock doctor; if tunlock-host keeps failing, reinstall it: ${installFix}`,
  };
}

export class NativeClient {
  private port: NativePort | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private connection: Connection;
  private status: StatusT | null = null;
  private retryTimer: unknown = null;
  private readonly backoff = new Backoff(BACKOFF_MIN_MS, BACKOFF_MAX_MS);
  private readonly timers: NonNullable<NativeClientOptions['timers']>;
  private readonly now: () => number;
  private stopped = true;

  constructor(private readonly opts: NativeClientOptions) {
    this.timers = opts.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    };
    this.now = opts.now ?? Date.now;
    this.connection = { kind: 'connecting', since: this.now() };
  }

  get state(): { connection: Connection; status: StatusT | null } {
    return { connection: this.connection, status: this.status };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.cancelRetry();
    const port = this.port;
    this.port = null;
    port?.disconnect();
    this.rejectAll(new Error('tunlock-host connection closed'));
  }

  /** Connects now instead of waiting for the backoff timer (the popup opened: the user is looking). */
  retryNow(): void {
    if (this.stopped) return;
    if (this.connection.kind === 'ready' || this.connection.kind === 'connecting') return;
    this.cancelRetry();
    this.backoff.reset();
    if (this.port) void this.handshake();
    else this.open();
  }

  /** Sends one request; resolves with its result, rejects with RequestError or a transport Error. */
  request(body: RequestBody, timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
    const port = this.port;
    if (!port) return Promise.reject(new Error('not connected to tunlock-host'));
    const id = this.nextId++;
    if (this.nextId >= 2 ** 31) this.nextId = 1;
    return new Promise((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`tunlock-host did not answer ${body.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        port.postMessage({ id, ...body });
      } catch (e) {
        this.timers.clearTimeout(timer);
        this.pending.delete(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  private setState(connection: Connection, status: StatusT | null = this.status): void {
    this.connection = connection;
    this.status = status;
    this.opts.onChange(connection, status);
  }

  private open(): void {
    this.cancelRetry();
    let port: NativePort;
    this.setState({ kind: 'connecting', since: this.now() });
    try {
      port = this.opts.connect();
    } catch (e) {
      this.fail(classifyDisconnect(e instanceof Error ? e.message : String(e), this.opts.installFix));
      return;
    }
    this.port = port;
    port.onMessage.addListener((m) => {
      if (this.port === port) this.receive(m);
    });
    port.onDisconnect.addListener(() => {
      if (this.port !== port) return;
      const reason = this.opts.disconnectReason(port);
      this.port = null;
      this.rejectAll(new Error(reason ? `tunlock-host disconnected: ${reason}` : 'tunlock-host disconnected'));
      if (!this.stopped) this.fail(classifyDisconnect(reason, this.opts.installFix));
    });
    void this.handshake();
  }

  private async handshake(): Promise<void> {
    // The state stays what it was (connecting, or daemon_down during retries) until the answer is in.
    const port = this.port;
    try {
      try {
        await this.request({ type: 'hello', version: PROTOCOL_VERSION, client: 'extension' }, HELLO_TIMEOUT_MS);
      } catch (e) {
        // Only these two stop the handshake; anything else about hello is the host's business.
        if (!(e instanceof RequestError) || e.body.code === 'daemon_unavailable' || e.body.code === 'version_mismatch') throw e;
      }
      const status = await this.request({ type: 'subscribe' }, HELLO_TIMEOUT_MS);
      if (this.port !== port) return;
      this.backoff.reset();
      this.setState({ kind: 'ready' }, status as StatusT);
    } catch (e) {
      if (this.port !== port || this.stopped) return;
      if (e instanceof RequestError && e.body.code === 'daemon_unavailable') {
        this.setState({ kind: 'daemon_down', message: e.body.message, fix: e.body.hint ?? 'sudo systemctl start tunlockd' });
        this.scheduleRetry(() => void this.handshake());
      } else if (e instanceof RequestError && e.body.code === 'version_mismatch') {
        this.setState({ kind: 'incompatible', message: e.body.message, fix: e.body.hint ?? this.opts.installFix });
        this.scheduleRetry(() => this.reopen());
      } else {
        // No answer, or an unexpected error: treat the host as broken and start over with a fresh process.
        const message = e instanceof Error ? e.message : String(e);
        this.reopen(classifyDisconnect(message, this.opts.installFix));
      }
    }
  }

  private reopen(failure?: Connection): void {
    const port = this.port;
    this.port = null;
    port?.disconnect();
    this.rejectAll(new Error('tunlock-host connection reset'));
    if (failure) this.fail(failure);
    else this.open();
  }

  private fail(connection: Connection): void {
    this.setState(connection);
    this.scheduleRetry(() => this.open());
  }

  private scheduleRetry(fn: () => void): void {
    this.cancelRetry();
    const delay = this.backoff.next();
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) fn();
    }, delay);
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private rejectAll(error: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      this.timers.clearTimeout(p.timer);
      p.reject(error);
    }
  }

  private receive(raw: unknown): void {
    const parsed = ServerMessage.safeParse(raw);
    if (!parsed.success) {
      // A host that sends what the protocol does not allow is broken or not ours: drop the link.
      this.reopen(classifyDisconnect(`invalid message from tunlock-host: ${parsed.error.issues[0]?.message ?? 'rejected'}`, this.opts.installFix));
      return;
    }
    const m = parsed.data;
    if ('event' in m) {
      this.handleEvent(m);
      return;
    }
    if (m.id === null) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    this.timers.clearTimeout(p.timer);
    if (m.ok) p.resolve(m.result);
    else p.reject(new RequestError(m.error));
  }

  private handleEvent(e: Event): void {
    if (e.event === 'status') {
      if (this.connection.kind === 'ready') this.setState(this.connection, e.status);
      else this.status = e.status;
    } else if (e.event === 'daemon') {
      if (!e.available) {
        this.setState({
          kind: 'daemon_down',
          message: e.error?.message ?? 'tunlockd is not running',
          fix: e.error?.hint ?? 'sudo systemctl start tunlockd',
        });
        this.scheduleRetry(() => void this.handshake());
      } else if (this.connection.kind !== 'ready') {
        this.cancelRetry();
        this.backoff.reset();
        void this.handshake();
      }
    }
    this.opts.onEvent?.(e);
  }
}

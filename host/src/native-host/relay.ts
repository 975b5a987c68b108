// The heart of tunlock-host: validated browser requests in, daemon responses and events out.
//  - Every browser frame is validated with parseRequest before anything else looks at it; only the parsed
//    (strict) object is re-encoded for the daemon, so nothing unvalidated can reach it.
//  - The browser's `hello` is answered here (the host's own version check); the host says its own hello to
//    the daemon. Until the browser's hello succeeds, other requests are refused and no event is pushed.
//  - The daemon connection is kept up with backoff; while it is down every request gets the reason
//    (daemon_unavailable with a hint, or the daemon's own refusal: not_permitted, version_mismatch) and the
//    browser gets `{event:'daemon', available:false, error}`; on reconnect `{event:'daemon', available:true}`
//    and, if it had subscribed, a fresh subscription and a status event.
import type { FrameError } from '../protocol/framing.js';
import type { OkResult, RequestBody } from '../protocol/schema.js';
import { daemonUnavailable } from '../client/daemon-client.js';
import type { ErrorBody, Event, Request, Response, Status } from '../protocol/schema.js';
import { PROTOCOL_VERSION, ProtocolError, parseRequest, versionMismatch } from '../protocol/schema.js';
import { Backoff } from '../common/backoff.js';

/** Reconnect to the daemon fast (a restart takes well under a second), at most every few seconds after that. */
export const RECONNECT_INITIAL_MS = 250;
export const RECONNECT_MAX_MS = 5000;

export type ToBrowser = Response | Event;

/** The daemon connection the relay needs (DaemonClient implements it; tests use fakes). */
export interface DaemonLink {
  connect(timeoutMs: number): Promise<void>;
  request(body: RequestBody, timeoutMs?: number): Promise<OkResult>;
  onEvent(listener: (e: Event) => void): void;
  onClose(listener: (why: ProtocolError) => void): void;
  close(): void;
}

export interface RelayOptions {
  /** writes one message to the browser */
  send: (message: ToBrowser) => void;
  /** a fresh, unconnected daemon link (one per attempt) */
  link: () => DaemonLink;
  socketPath: string;
  log: (message: string) => void;
  /** connect + hello must finish within this (a hung daemon must not hold requests for long) */
  connectTimeoutMs?: number;
  /** a forwarded request must be answered within this */
  requestTimeoutMs?: number;
  backoff?: Backoff;
}

type DaemonState = 'connecting' | 'up' | 'down' | 'closed';

/** The browser's id if the frame has a valid one, so even a rejected request gets a matching answer. */
function idOf(value: unknown): number | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= 2 ** 31 - 1 ? id : null;
}

/** Only a status has `state` (the other results are the hello result and {}). */
function isStatus(result: OkResult): result is Status {
  return 'state' in result;
}

function toErrorBody(e: unknown): ErrorBody {
  if (e instanceof ProtocolError) return e.toBody();
  return { code: 'internal', message: `tunlock-host: ${e instanceof Error ? e.message : String(e)}`.slice(0, 2000) };
}

/** Codes that describe why the daemon cannot be used, passed on as they are. */
const AVAILABILITY_CODES: ReadonlySet<ErrorBody['code']> = new Set(['daemon_unavailable', 'not_permitted', 'version_mismatch']);

/**
 * Why the daemon connection is unusable, as the browser should see it. Anything else that broke the link (the
 * daemon sent a frame or message we cannot read: bad_frame, bad_request) is the daemon being unavailable to
 * us — it must not look like an error in the browser's own request.
 */
function unavailability(why: unknown, socketPath: string): ErrorBody {
  const body = toErrorBody(why);
  if (AVAILABILITY_CODES.has(body.code)) return body;
  return body.hint === undefined ? daemonUnavailable(body.message, socketPath).toBody() : { ...body, code: 'daemon_unavailable' };
}

export class Relay {
  private state: DaemonState = 'down';
  private link: DaemonLink | null = null;
  /** why the daemon is unavailable (state 'down') */
  private lastError: ErrorBody;
  /** resolves when the current connection attempt has succeeded or failed */
  private settled: Promise<void> = Promise.resolve();
  private settle: () => void = () => undefined;
  private retryTimer: NodeJS.Timeout | null = null;
  /** 'ok' after a matching hello; the mismatch error after a mismatching one */
  private greeting: 'none' | 'ok' | ProtocolError = 'none';
  private subscribed = false;
  /** the daemon availability the browser was last told, to push changes only */
  private announced = '';
  private readonly backoff: Backoff;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;

  constructor(private readonly opts: RelayOptions) {
    this.backoff = opts.backoff ?? new Backoff(RECONNECT_INITIAL_MS, RECONNECT_MAX_MS);
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 3000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.lastError = daemonUnavailable('not connected to tunlockd yet', opts.socketPath).toBody();
  }

  /** Starts connecting to the daemon (before the browser's first request, so that one is fast). */
  start(): void {
    void this.attempt();
  }

  close(): void {
    this.state = 'closed';
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.link?.close();
    this.link = null;
    this.settle();
  }

  get daemonState(): DaemonState {
    return this.state;
  }

  /** (a method, so the check is re-read after an await) */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  // ── the daemon connection ──────────────────────────────────────────────────────────────────────────

  private async attempt(): Promise<void> {
    if (this.state === 'closed') return;
    this.retryTimer = null;
    this.state = 'connecting';
    this.settled = new Promise((resolve) => (this.settle = resolve));
    const link = this.opts.link();
    // Registered before connect; `this.link === link` only once the handshake succeeded, so a failure
    // during connect is handled once (by the catch below), not twice.
    link.onClose((why) => {
      if (this.link === link) this.down(why);
    });
    link.onEvent((e) => {
      if (this.link === link) this.fromDaemon(e);
    });
    try {
      await link.connect(this.connectTimeoutMs);
    } catch (e) {
      link.close();
      this.down(e);
      return;
    }
    if (this.isClosed()) {
      link.close();
      return;
    }
    this.link = link;
    this.state = 'up';
    this.backoff.reset();
    this.opts.log('connected to tunlockd');
    this.settle();
    this.announce();
    if (this.subscribed) await this.resubscribe(link);
  }

  private async resubscribe(link: DaemonLink): Promise<void> {
    try {
      const status = await link.request({ type: 'subscribe' }, this.requestTimeoutMs);
      if (this.link !== link || !this.greeted() || !isStatus(status)) return;
      this.opts.send({ event: 'status', status });
    } catch (e) {
      // Without the subscription the browser would silently miss events: start over.
      this.opts.log(`re-subscribing failed: ${toErrorBody(e).message}`);
      if (this.link === link) {
        link.close();
        this.down(e);
      }
    }
  }

  private down(why: unknown): void {
    if (this.state === 'closed') return;
    const before = this.lastError;
    this.link = null;
    this.state = 'down';
    this.lastError = unavailability(why, this.opts.socketPath);
    this.settle();
    this.announce();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const delay = this.backoff.next();
    // Logged when the reason changes, not on every retry of a daemon that stays away.
    if (before.code !== this.lastError.code || before.message !== this.lastError.message) {
      this.opts.log(`tunlockd unavailable (${this.lastError.code}: ${this.lastError.message}); retrying with backoff up to ${RECONNECT_MAX_MS / 1000} s`);
    }
    this.retryTimer = setTimeout(() => void this.attempt(), delay);
  }

  /** Tells a greeted browser the daemon's availability when it changed (or its reason changed). */
  private announce(): void {
    if (!this.greeted() || (this.state !== 'up' && this.state !== 'down')) return;
    const event: Event =
      this.state === 'up' ? { event: 'daemon', available: true } : { event: 'daemon', available: false, error: this.lastError };
    const key = JSON.stringify(event);
    if (key === this.announced) return;
    this.announced = key;
    this.opts.send(event);
  }

  private fromDaemon(e: Event): void {
    // `daemon` events are the host's own; tunlockd never sends one, and one from it would be a lie.
    if (e.event === 'daemon' || !this.subscribed || !this.greeted()) return;
    this.opts.send(e);
  }

  // ── the browser side ───────────────────────────────────────────────────────────────────────────────

  private greeted(): boolean {
    return this.greeting === 'ok';
  }

  /** A frame the decoder could not read (too large, not UTF-8 JSON, truncated): answered, never forwarded. */
  frameError(error: FrameError): void {
    this.opts.log(`bad frame from the browser: ${error.message}`);
    this.opts.send({ id: null, ok: false, error: { code: 'bad_frame', message: `tunlock-host: ${error.message}`.slice(0, 2000) } });
  }

  /** One decoded browser frame. Never rejects: every outcome is an answer to the browser. */
  async handleFrame(raw: unknown): Promise<void> {
    let req: Request;
    try {
      req = parseRequest(raw);
    } catch (e) {
      const error = toErrorBody(e);
      this.opts.log(`rejected a request from the browser: ${error.message}`);
      this.opts.send({ id: idOf(raw), ok: false, error });
      return;
    }
    let response: Response;
    try {
      response = await this.answer(req);
    } catch (e) {
      response = { id: req.id, ok: false, error: toErrorBody(e) };
    }
    this.opts.send(response);
    // After a successful hello: the daemon's availability, right behind the answer.
    if (req.type === 'hello') this.announce();
  }

  private async answer(req: Request): Promise<Response> {
    if (req.type === 'hello') return this.hello(req);
    if (this.greeting !== 'ok') {
      throw this.greeting === 'none'
        ? new ProtocolError('bad_request', 'the first request must be hello', `send {"type":"hello","version":${PROTOCOL_VERSION},"client":"extension","id":…} first`)
        : this.greeting;
    }
    // Remembered even while the daemon is down: the subscription is made as soon as it is back.
    if (req.type === 'subscribe') this.subscribed = true;
    if (this.state === 'connecting') await this.settled;
    const link = this.link;
    if (this.state !== 'up' || !link) throw new ProtocolError(this.lastError.code, this.lastError.message, this.lastError.hint);
    const { id, ...body } = req;
    const result = await link.request(body, this.requestTimeoutMs);
    return { id, ok: true, result };
  }

  private hello(req: Extract<Request, { type: 'hello' }>): Response {
    if (req.version !== PROTOCOL_VERSION) {
      const peer = req.client === 'extension' ? 'the tunlock extension' : `the ${req.client} client`;
      this.greeting = versionMismatch('tunlock-host', PROTOCOL_VERSION, peer, req.version);
      throw this.greeting;
    }
    // The availability is pushed after the first successful hello and then on changes only; a repeated
    // hello (the extension retrying its handshake) must not echo an event that would trigger another.
    this.greeting = 'ok';
    return { id: req.id, ok: true, result: { version: PROTOCOL_VERSION, server: 'tunlock-host' } };
  }
}

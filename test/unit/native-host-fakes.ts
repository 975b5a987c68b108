// Test doubles for tunlock-host's relay: a fake daemon whose links record (and check) every request that
// reaches them, and a browser that collects what the relay sends.
import type { OkResult, RequestBody } from '../../host/src/protocol/schema';
import { daemonUnavailable } from '../../host/src/client/daemon-client';
import type { Event, ProtocolError, Status } from '../../host/src/protocol/schema';
import { Request as RequestSchema } from '../../host/src/protocol/schema';
import type { DaemonLink, ToBrowser } from '../../host/src/native-host/relay';

export const SOCKET = '/run/test/tunlockd.sock';

export function sampleStatus(over: Partial<Status> = {}): Status {
  return {
    mode: 'off',
    state: 'off',
    lan: 'allow',
    tunnels: [],
    captive: null,
    bindings: [],
    blockedPackets: 0,
    tamper: { count: 0, last: null },
    error: null,
    verifiedAt: 1_700_000_000_000,
    ...over,
  };
}

export class FakeDaemon {
  /** connect() fails with this while set (default: the daemon is up) */
  refuse: ProtocolError | null = null;
  /** connect() waits for this before it settles, if set */
  gate: Promise<void> | null = null;
  readonly links: FakeLink[] = [];
  /** every request body that reached a link, in order */
  readonly received: RequestBody[] = [];
  /** requests that reached a link without being a valid request: must stay empty */
  readonly unvalidated: unknown[] = [];
  connectAttempts = 0;
  answer: (body: RequestBody) => OkResult | Promise<OkResult> = () => sampleStatus();

  readonly link = (): DaemonLink => {
    const l = new FakeLink(this);
    this.links.push(l);
    return l;
  };

  /** the link currently connected, if any */
  get current(): FakeLink | undefined {
    return this.links.filter((l) => l.connected).at(-1);
  }

  down(): void {
    this.refuse = daemonUnavailable(`tunlockd is not running (no socket at ${SOCKET})`, SOCKET);
  }
}

export class FakeLink implements DaemonLink {
  connected = false;
  closed = false;
  private eventListeners: Array<(e: Event) => void> = [];
  private closeListeners: Array<(why: ProtocolError) => void> = [];

  constructor(private readonly daemon: FakeDaemon) {}

  async connect(): Promise<void> {
    this.daemon.connectAttempts++;
    if (this.daemon.gate) await this.daemon.gate;
    if (this.daemon.refuse) throw this.daemon.refuse;
    this.connected = true;
  }

  async request(body: RequestBody): Promise<OkResult> {
    if (!this.connected) throw daemonUnavailable('not connected to tunlockd', SOCKET);
    // What reaches the daemon must be a valid request once it has an id, and nothing more.
    if (!RequestSchema.safeParse({ ...body, id: 1 }).success || 'id' in body) this.daemon.unvalidated.push(body);
    this.daemon.received.push(body);
    return this.daemon.answer(body);
  }

  onEvent(listener: (e: Event) => void): void {
    this.eventListeners.push(listener);
  }

  onClose(listener: (why: ProtocolError) => void): void {
    this.closeListeners.push(listener);
  }

  close(): void {
    this.closed = true;
    this.connected = false;
  }

  emit(e: Event): void {
    for (const l of this.eventListeners) l(e);
  }

  /** the daemon went away (restart, crash) */
  drop(why = daemonUnavailable('connection to tunlockd closed', SOCKET)): void {
    this.connected = false;
    for (const l of this.closeListeners) l(why);
  }
}

export class FakeBrowser {
  readonly received: ToBrowser[] = [];
  readonly send = (m: ToBrowser): void => {
    this.received.push(m);
  };

  responses(): Array<Extract<ToBrowser, { ok: boolean }>> {
    return this.received.filter((m): m is Extract<ToBrowser, { ok: boolean }> => 'ok' in m);
  }

  events(name?: string): Array<Extract<ToBrowser, { event: string }>> {
    return this.received.filter((m): m is Extract<ToBrowser, { event: string }> => 'event' in m && (name === undefined || m.event === name));
  }

  response(id: number): Extract<ToBrowser, { ok: boolean }> | undefined {
    return this.responses().find((r) => r.id === id);
  }
}

/** Lets pending promise callbacks run (the fakes resolve within a few microtask turns). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

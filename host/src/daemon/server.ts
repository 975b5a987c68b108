// The daemon's unix socket. Every connection: peer credentials first (SO_PEERCRED: who connected, bound to
// the connection), authorisation (root or group `tunlock`; roles.ts says which requests each may send), then
// framed requests validated against the protocol schemas. A client that sends garbage is answered once and
// disconnected; one that does not read its events is dropped; one that stalls (no hello, half a frame, idle)
// is cut off; each uid holds a bounded number of connections and some are always left for root — so no
// client can stall the daemon or lock the others out.
import { chownSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { dirname } from 'node:path';
import { SOCKET_GROUP_NAME } from '../common/paths.js';
import { FrameDecoder, encodeFrame } from '../protocol/framing.js';
import type { ErrorBody, Event, Request, Response } from '../protocol/schema.js';
import { MAX_MESSAGE_TO_BROWSER_BYTES, MAX_REQUEST_BYTES, PROTOCOL_VERSION, ProtocolError, parseRequest } from '../protocol/schema.js';
import { groupId, isAllowedUid } from './accounts.js';
import type { Client, Daemon, Log } from './daemon.js';
import { closeFd } from '../process/linux-syscalls.js';
import { peerCred } from './peer-cred.js';

export const MAX_CLIENTS = 64;
/** Connections only root may use: however many members connect, root (admin, VPN hooks) gets in. */
export const ROOT_RESERVED = 8;
/** Connections one non-root uid may hold (a browser or two, watchers, the CLI). */
export const MAX_PER_UID = 16;
/** A frame must be complete this long after its first byte arrived. */
const FRAME_TIMEOUT_MS = 10_000;
/** A connection that is not subscribed and sends nothing for this long is closed. */
const IDLE_TIMEOUT_MS = 60_000;
/** A client with this much unread output is too slow: it is disconnected rather than buffered forever. */
const MAX_PENDING_OUTPUT = 4 * 1024 * 1024;
const HELLO_TIMEOUT_MS = 10_000;
/** Requests of one client queued or running; beyond this its socket is paused (TCP-style backpressure). */
const MAX_QUEUED_REQUESTS = 32;
/** How long a client we hung up on may take to close its end before it is cut off. */
const LINGER_MS = 1000;

export interface ServerOptions {
  socketPath: string;
  daemon: Daemon;
  log: Log;
  /** who may connect besides root */
  group?: string;
  /** override of peer-credential lookup (unit tests only) */
  credentials?: (socket: Socket) => Client;
}

function idOf(value: unknown): number | null {
  if (typeof value !== 'object' || value === null) return null;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < 2 ** 31 ? id : null;
}

/** The request as one log line: its type and validated parameters (never anything unvalidated). */
function describe(req: Request): string {
  const { id: _id, type, ...params } = req;
  return Object.keys(params).length ? `${type} ${JSON.stringify(params)}` : type;
}

function errorBody(e: unknown): ErrorBody {
  if (e instanceof ProtocolError) return e.toBody();
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

export async function listen(opts: ServerOptions): Promise<Server> {
  const group = opts.group ?? SOCKET_GROUP_NAME;
  const credentials = opts.credentials ?? peerCred;
  const clients = new Set<Socket>();
  const perUid = new Map<number, number>();
  let nonRoot = 0;

  const server = createServer({ pauseOnConnect: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    // Synchronous and in-process: no child per connection, nothing a flood of connections can queue up.
    let client: Client;
    try {
      client = credentials(socket);
    } catch (e) {
      opts.log(`refused a client: cannot identify it (${(e as Error).message})`);
      refuse(socket, { code: 'not_permitted', message: `tunlockd cannot identify this client: ${(e as Error).message}` });
      return;
    }
    socket.on('close', () => {
      if (client.pidfd !== null) closeFd(client.pidfd);
    });
    const mine = perUid.get(client.uid) ?? 0;
    const full =
      client.uid === 0
        ? clients.size >= MAX_CLIENTS && `tunlockd already serves ${MAX_CLIENTS} connections`
        : mine >= MAX_PER_UID
          ? `uid ${client.uid} already holds ${MAX_PER_UID} connections`
          : nonRoot >= MAX_CLIENTS - ROOT_RESERVED && `tunlockd already serves ${MAX_CLIENTS - ROOT_RESERVED} non-root connections`;
    if (full) {
      opts.log(`refused uid=${client.uid} pid=${client.pid}: ${full}`);
      refuse(socket, { code: 'not_permitted', message: `too many connections: ${full}`, hint: 'close other tunlock clients (tunlock watch, browser windows) and try again' });
      return;
    }
    clients.add(socket);
    perUid.set(client.uid, mine + 1);
    if (client.uid !== 0) nonRoot++;
    socket.on('close', () => {
      clients.delete(socket);
      const left = (perUid.get(client.uid) ?? 1) - 1;
      if (left > 0) perUid.set(client.uid, left);
      else perUid.delete(client.uid);
      if (client.uid !== 0) nonRoot--;
    });
    serve(socket, client);
  });

  function refuse(socket: Socket, error: ErrorBody): void {
    const response: Response = { id: null, ok: false, error };
    socket.end(encodeFrame(response, MAX_MESSAGE_TO_BROWSER_BYTES));
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  }

  function serve(socket: Socket, client: Client): void {
    const who = `uid=${client.uid} pid=${client.pid}`;
    if (!isAllowedUid(client.uid, group)) {
      opts.log(`refused ${who}: not root and not in group ${group}`);
      refuse(socket, {
        code: 'not_permitted',
        message: `user ${client.uid} may not control tunlock`,
        hint: `add the user to the "${group}" group (sudo usermod -aG ${group} USER) and log in again`,
      });
      return;
    }
    opts.log(`client connected: ${who}`);
    const decoder = new FrameDecoder(MAX_REQUEST_BYTES);
    let greeted = false;
    let queued = 0;
    /** a bad frame arrived: nothing after it is read */
    let broken = false;
    let hungUp = false;
    let unsubscribe: (() => void) | null = null;
    let chain: Promise<void> = Promise.resolve();
    const cutOff = (why: string) => () => {
      opts.log(`disconnected ${who}: ${why}`);
      socket.destroy();
    };
    const helloTimer = setTimeout(cutOff(`no hello within ${HELLO_TIMEOUT_MS} ms`), HELLO_TIMEOUT_MS);
    helloTimer.unref();
    /** running while half a frame is held: a slow trickle of bytes cannot hold the connection forever */
    let frameTimer: NodeJS.Timeout | null = null;
    /** running while a greeted, unsubscribed connection has nothing queued */
    let idleTimer: NodeJS.Timeout | null = null;
    const stopIdle = (): void => {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = null;
    };
    const startIdle = (): void => {
      stopIdle();
      if (!greeted || unsubscribe || queued > 0) return;
      idleTimer = setTimeout(cutOff(`idle for ${IDLE_TIMEOUT_MS} ms`), IDLE_TIMEOUT_MS);
      idleTimer.unref();
    };

    const hangUp = (): void => {
      hungUp = true;
      socket.end();
      // A client that never closes its end must not hold one of the MAX_CLIENTS slots.
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
    };

    const send = (message: Response | Event): void => {
      if (socket.destroyed || socket.writableEnded) return;
      if (socket.writableLength > MAX_PENDING_OUTPUT) {
        opts.log(`disconnected ${who}: not reading its messages`);
        socket.destroy();
        return;
      }
      socket.write(encodeFrame(message, MAX_MESSAGE_TO_BROWSER_BYTES));
    };

    const handleOne = async (raw: unknown): Promise<void> => {
      const id = idOf(raw);
      try {
        const req = parseRequest(raw);
        if (!greeted && req.type !== 'hello') {
          throw new ProtocolError('bad_request', 'the first request must be hello', `send {"type":"hello","version":${PROTOCOL_VERSION},...} first`);
        }
        const result = await opts.daemon.handle(req, client);
        if (req.type === 'hello') {
          greeted = true;
          clearTimeout(helloTimer);
        }
        if (req.type !== 'hello' && req.type !== 'status' && req.type !== 'subscribe') opts.log(`${who} ${describe(req)} → ok`);
        send({ id: req.id, ok: true, result });
        if (req.type === 'subscribe' && !unsubscribe) unsubscribe = opts.daemon.onEvent(send);
      } catch (e) {
        const error = errorBody(e);
        opts.log(`${who} ${typeof raw === 'object' && raw && 'type' in raw ? String((raw as { type: unknown }).type).slice(0, 40) : '?'} → ${error.code}: ${error.message}`);
        send({ id, ok: false, error });
        // A request that is not even valid protocol means the client is broken or hostile: hang up.
        if (error.code === 'bad_request' && !greeted) hangUp();
      }
    };

    const enqueue = (task: () => Promise<void>): void => {
      queued++;
      if (queued >= MAX_QUEUED_REQUESTS) socket.pause();
      chain = chain
        .then(task)
        .catch((e: Error) => {
          // Only a bug gets here (handleOne answers every error); a rejected chain would stall this client.
          opts.log(`disconnected ${who}: internal error: ${e.message}`);
          socket.destroy();
        })
        .finally(() => {
          queued--;
          if (queued < MAX_QUEUED_REQUESTS && !broken && !hungUp && !socket.destroyed) socket.resume();
          startIdle();
        });
    };

    socket.on('data', (chunk: Buffer) => {
      if (broken || hungUp) return;
      const { frames, error } = decoder.push(chunk);
      if (frames.length) stopIdle();
      if (decoder.pending > 0 && !error) {
        frameTimer ??= setTimeout(cutOff(`a frame stayed incomplete for ${FRAME_TIMEOUT_MS} ms`), FRAME_TIMEOUT_MS);
        frameTimer.unref();
      } else if (frameTimer) {
        clearTimeout(frameTimer);
        frameTimer = null;
      }
      for (const raw of frames) enqueue(() => (hungUp ? Promise.resolve() : handleOne(raw)));
      if (error) {
        broken = true;
        enqueue(async () => {
          opts.log(`disconnected ${who}: ${error.message}`);
          send({ id: null, ok: false, error: { code: 'bad_frame', message: error.message } });
          hangUp();
        });
      }
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      if (frameTimer) clearTimeout(frameTimer);
      stopIdle();
      unsubscribe?.();
    });
    socket.resume();
  }

  await claimSocketPath(opts.socketPath);
  // Created 0660 root:root by the umask in force during bind(2) (bind happens inside listen(), synchronously),
  // so the socket is never more open than intended; the group follows. The directory is root's alone
  // (checked at start, secure-path.ts), so nobody can swap the path between bind and chown.
  const gid = groupId(group);
  const umask = process.umask(gid !== null ? 0o117 : 0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
      process.umask(umask);
    });
  } finally {
    process.umask(umask);
  }
  if (gid !== null) chownSync(opts.socketPath, 0, gid);
  return server;
}

/**
 * Makes `path` free for our socket: removes one left by a dead daemon, and refuses (throws) when a live daemon
 * still answers on it. Call before touching the firewall, so a second daemon never rewrites the first's rules.
 */
export async function claimSocketPath(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another tunlockd is already listening on ${path}`);
  unlinkSync(path);
}

// The daemon's unix socket. Every connection: peer credentials first (who), authorisation (root or group
// `tunlock`), then framed requests validated against the protocol schemas. A client that sends garbage is
// answered once and disconnected; a client that does not read its events is dropped, so no client can
// stall the daemon or the others.
import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { dirname } from 'node:path';
import { FrameDecoder, encodeFrame } from '../protocol/framing.js';
import type { ErrorBody, Event, Request, Response } from '../protocol/schema.js';
import { MAX_MESSAGE_TO_BROWSER_BYTES, MAX_REQUEST_BYTES, ProtocolError, parseRequest } from '../protocol/schema.js';
import { groupId, isAllowedUid } from './accounts.js';
import type { Client, Daemon, Log } from './daemon.js';
import { peerCred } from './peer-cred.js';

export const SOCKET_GROUP = 'tunlock';
const MAX_CLIENTS = 64;
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
  credentials?: (socket: Socket) => Promise<Client>;
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
  const group = opts.group ?? SOCKET_GROUP;
  const credentials = opts.credentials ?? peerCred;
  const clients = new Set<Socket>();

  const server = createServer({ pauseOnConnect: true }, (socket) => {
    if (clients.size >= MAX_CLIENTS) {
      opts.log('refused a client: too many connections');
      socket.destroy();
      return;
    }
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => socket.destroy());
    credentials(socket).then(
      (client) => serve(socket, client),
      (e: Error) => {
        opts.log(`refused a client: cannot identify it (${e.message})`);
        refuse(socket, { code: 'not_permitted', message: `tunlockd cannot identify this client: ${e.message}` });
      },
    );
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
    const helloTimer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
    helloTimer.unref();

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
          throw new ProtocolError('bad_request', 'the first request must be hello', 'send {"type":"hello","version":1,...} first');
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
        });
    };

    socket.on('data', (chunk: Buffer) => {
      if (broken || hungUp) return;
      const { frames, error } = decoder.push(chunk);
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
      unsubscribe?.();
    });
    socket.resume();
  }

  await claimSocketPath(opts.socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const gid = groupId(group);
  // 0660 root:tunlock — the filesystem refuses everyone else before we even see them.
  if (gid !== null) chownSync(opts.socketPath, 0, gid);
  chmodSync(opts.socketPath, gid !== null ? 0o660 : 0o600);
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

// Node-only client of the daemon socket, shared by the CLI and tunlock-host: its own part ("client"), so the
// protocol stays pure and the extension never reaches Node code. Talks only to a daemon running as root: after
// connecting it asks the kernel who is listening (SO_PEERCRED on the connected socket) and hangs up on anyone
// else — an impostor at the daemon's path, or a socket swapped between any check and the connect. The path
// checks before connecting (root-owned socket, root-only directories) only make the common mistakes fail
// early with a clear message. Then it says hello and matches responses to requests by id.
import { realpathSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import { DEFAULT_SOCKET_PATH, SOCKET_GROUP_NAME } from '../common/paths.js';
import { startCommand } from '../process/init-system.js';
import type * as Syscalls from '../process/linux-syscalls.js';
import { FrameDecoder, encodeFrame } from '../protocol/framing.js';
import type { ClientKind, Event, OkResult, RequestBody, ServerMessage, Status } from '../protocol/schema.js';
import { MAX_MESSAGE_TO_BROWSER_BYTES, MAX_REQUEST_BYTES, PROTOCOL_VERSION, ProtocolError, ServerMessage as ServerMessageSchema } from '../protocol/schema.js';
import type * as z from 'zod/mini';

type Pending = { resolve: (v: OkResult) => void; reject: (e: ProtocolError) => void };

export function daemonUnavailable(message: string, socketPath: string): ProtocolError {
  return new ProtocolError(
    'daemon_unavailable',
    message,
    socketPath === DEFAULT_SOCKET_PATH
      ? `start the daemon: ${startCommand()} (not installed? install the tunlock package, or from the source tree: sudo npm run setup)`
      : `start tunlockd with --socket ${socketPath}`,
  );
}

/**
 * EACCES on the socket or its directory (/run/tunlock is root:tunlock 0750): the daemon may well be running,
 * this user is just not allowed in.
 */
export function notInGroup(socketPath: string): ProtocolError {
  return new ProtocolError(
    'not_permitted',
    `permission denied on ${socketPath}: only root and members of group ${SOCKET_GROUP_NAME} may use tunlockd`,
    `add yourself to the group: sudo usermod -aG ${SOCKET_GROUP_NAME} $USER, then log out and in again (or run: newgrp ${SOCKET_GROUP_NAME})`,
  );
}

/** Checks the socket path before connecting (early, clear messages; the binding check is peerIsRoot). */
export function checkSocketOwner(socketPath: string): void {
  let st;
  try {
    st = statSync(socketPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw notInGroup(socketPath);
    throw daemonUnavailable(code === 'ENOENT' ? `tunlockd is not running (no socket at ${socketPath})` : `cannot reach ${socketPath}: ${code}`, socketPath);
  }
  if (!st.isSocket()) throw daemonUnavailable(`${socketPath} is not a socket`, socketPath);
  if (st.uid !== 0) {
    throw new ProtocolError(
      'daemon_unavailable',
      `refusing ${socketPath}: it is owned by uid ${st.uid}, not root — something is impersonating tunlockd`,
      `remove it (sudo rm ${socketPath}) and restart tunlockd`,
    );
  }
  checkDirectoryChain(socketPath);
}

/**
 * The owner check only means something if nobody but root can swap the socket between the check and the
 * connect: every directory above it must be root's and not writable by others (sticky /tmp-style
 * directories are fine: there only the owner may rename or remove an entry).
 */
function checkDirectoryChain(socketPath: string): void {
  let dir: string;
  try {
    dir = realpathSync(dirname(socketPath));
  } catch (e) {
    throw daemonUnavailable(`cannot resolve the directory of ${socketPath}: ${(e as NodeJS.ErrnoException).code}`, socketPath);
  }
  for (;;) {
    const st = statSync(dir);
    const othersMayWrite = (st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0;
    if (st.uid !== 0 || othersMayWrite) {
      throw new ProtocolError(
        'daemon_unavailable',
        `refusing ${socketPath}: directory ${dir} is ${st.uid !== 0 ? `owned by uid ${st.uid}` : 'writable by other users'}, so the socket in it could be swapped for an impostor`,
        `run tunlockd with its socket in a directory only root can write (default ${DEFAULT_SOCKET_PATH})`,
      );
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/** The process listening on the other end runs as root (the kernel's record, taken when it called listen). */
export function checkPeerIsRoot(socket: Socket, socketPath: string, sys: Pick<typeof Syscalls, 'peerCredentials' | 'socketFd'>): void {
  let uid: number;
  let pid: number;
  try {
    ({ uid, pid } = sys.peerCredentials(sys.socketFd(socket)));
  } catch (e) {
    throw daemonUnavailable(`cannot identify the process behind ${socketPath}: ${(e as Error).message}`, socketPath);
  }
  if (uid !== 0) {
    throw new ProtocolError(
      'daemon_unavailable',
      `refusing ${socketPath}: the process listening on it (pid ${pid}) runs as uid ${uid}, not root — something is impersonating tunlockd`,
      `stop that process, remove the socket (sudo rm ${socketPath}) and restart tunlockd`,
    );
  }
}

export class DaemonClient {
  private socket: Socket | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private eventListeners = new Set<(e: Event) => void>();
  private closeListeners = new Set<(why: ProtocolError) => void>();
  /** why the socket failed, for the "connection closed" message that follows */
  private socketError: string | null = null;

  constructor(
    readonly socketPath: string,
    private readonly kind: z.infer<typeof ClientKind>,
  ) {}

  /** Connects, verifies the socket owner, and performs the version handshake. */
  async connect(timeoutMs = 5000): Promise<void> {
    checkSocketOwner(this.socketPath);
    // koffi (SO_PEERCRED) is loaded by programs that connect, when they connect: `tunlock --help` and usage
    // errors start without it. Loaded before the connect, so the peer is checked the moment it is connected.
    const sys = await import('../process/linux-syscalls.js').catch((e: Error) => {
      throw daemonUnavailable(`cannot load the peer check for ${this.socketPath}: ${e.message}`, this.socketPath);
    });
    await new Promise<void>((resolve, reject) => {
      const socket = connect(this.socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(daemonUnavailable(`tunlockd did not answer within ${timeoutMs} ms`, this.socketPath));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        try {
          checkPeerIsRoot(socket, this.socketPath, sys);
        } catch (e) {
          socket.destroy();
          reject(e);
          return;
        }
        this.socket = socket;
        resolve();
      });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(e.code === 'EACCES' ? notInGroup(this.socketPath) : daemonUnavailable(`cannot connect to ${this.socketPath}: ${e.code ?? e.message}`, this.socketPath));
      });
    });
    this.wire(this.socket!);
    try {
      await this.request({ type: 'hello', version: PROTOCOL_VERSION, client: this.kind }, timeoutMs);
    } catch (e) {
      // A refused or unanswered hello must not leave a half-open connection behind.
      this.socket?.destroy();
      this.socket = null;
      throw e;
    }
  }

  private wire(socket: Socket): void {
    const decoder = new FrameDecoder(MAX_MESSAGE_TO_BROWSER_BYTES);
    socket.on('data', (chunk: Buffer) => {
      const { frames, error } = decoder.push(chunk);
      for (const raw of frames) this.dispatch(raw);
      if (error) this.fail(new ProtocolError('bad_frame', `bad frame from tunlockd: ${error.message}`));
    });
    // 'close' always follows 'error'; keep the cause for the message it produces.
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.socketError = e.code ?? e.message;
    });
    socket.on('close', () =>
      this.fail(daemonUnavailable(`connection to tunlockd closed${this.socketError ? ` (${this.socketError})` : ''}`, this.socketPath)),
    );
  }

  private dispatch(raw: unknown): void {
    const parsed = ServerMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.fail(new ProtocolError('bad_request', `tunlockd sent a message this client does not understand: ${parsed.error.issues[0]?.message}`, 'update tunlock so all parts have the same version'));
      return;
    }
    const msg: ServerMessage = parsed.data;
    if ('event' in msg) {
      for (const l of this.eventListeners) l(msg);
      return;
    }
    if (msg.id === null) {
      // An error not tied to a request (e.g. refused at connect): fails everything pending.
      if (!msg.ok) this.fail(new ProtocolError(msg.error.code, msg.error.message, msg.error.hint));
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new ProtocolError(msg.error.code, msg.error.message, msg.error.hint));
  }

  private fail(error: ProtocolError): void {
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    if (socket) for (const l of this.closeListeners) l(error);
  }

  request(body: RequestBody, timeoutMs = 15_000): Promise<OkResult> {
    const socket = this.socket;
    if (!socket) return Promise.reject(daemonUnavailable('not connected to tunlockd', this.socketPath));
    const id = this.nextId++;
    // Encode first: a request too large to send fails here, before a timer and a pending entry exist.
    let frame: Buffer;
    try {
      frame = encodeFrame({ ...body, id }, MAX_REQUEST_BYTES);
    } catch (e) {
      return Promise.reject(new ProtocolError('bad_request', `cannot send ${body.type}: ${(e as Error).message}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(daemonUnavailable(`tunlockd did not answer ${body.type} within ${timeoutMs} ms`, this.socketPath));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      socket.write(frame);
    });
  }

  /** A request whose result is the daemon's status (every request but hello). */
  async requestStatus(body: RequestBody): Promise<Status> {
    return (await this.request(body)) as Status;
  }

  onEvent(listener: (e: Event) => void): void {
    this.eventListeners.add(listener);
  }

  onClose(listener: (why: ProtocolError) => void): void {
    this.closeListeners.add(listener);
  }

  close(): void {
    this.socket?.end();
    this.socket = null;
  }
}

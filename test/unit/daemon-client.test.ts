// DaemonClient, the CLI's and tunlock-host's way to the daemon: it trusts only a root-owned socket in
// directories only root can change, says hello, matches responses by id, and fails cleanly.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonClient, checkSocketOwner } from '../../host/src/client/daemon-client';
import { FrameDecoder, encodeFrame } from '../../host/src/protocol/framing';
import { MAX_REQUEST_BYTES, PROTOCOL_VERSION, ProtocolError } from '../../host/src/protocol/schema';
import { sampleStatus } from './native-host-fakes';
import { requireRootOrSkip } from '../helpers/root.js';

const isRoot = requireRootOrSkip('protocol-daemon-client socket-owner tests (they chown sockets)');

function refusal(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error('accepted');
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tunlock-dc-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function listenAt(path: string, onClient: (s: Socket) => void = (s) => s.destroy()): Promise<Server> {
  const server = createServer(onClient);
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

describe('checkSocketOwner', () => {
  it('no socket: daemon_unavailable with a hint', () => {
    const e = refusal(() => checkSocketOwner(join(dir, 'missing.sock')));
    expect(e.code).toBe('daemon_unavailable');
    expect(e.message).toMatch(/not running \(no socket at/);
    expect(e.hint).toBeTruthy();
  });

  it('not a socket', () => {
    writeFileSync(join(dir, 'file'), '');
    expect(refusal(() => checkSocketOwner(join(dir, 'file'))).message).toMatch(/is not a socket/);
  });

  it.skipIf(!isRoot)("a user's socket is refused as an impostor", async () => {
    const path = join(dir, 'user.sock');
    const server = await listenAt(path);
    chownSync(path, 65534, 65534);
    expect(refusal(() => checkSocketOwner(path)).message).toMatch(/owned by uid 65534, not root — something is impersonating tunlockd/);
    server.close();
  });

  it.skipIf(isRoot)('(not root) a socket of ours is refused: only root may own the daemon socket', async () => {
    const path = join(dir, 'mine.sock');
    const server = await listenAt(path);
    expect(refusal(() => checkSocketOwner(path)).message).toMatch(/not root/);
    server.close();
  });

  it.skipIf(!isRoot)("root's socket in a directory others may write (no sticky bit) is refused", async () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const server = await listenAt(join(open, 'd.sock'));
    expect(refusal(() => checkSocketOwner(join(open, 'd.sock'))).message).toMatch(/directory .*open is writable by other users/);
    chmodSync(open, 0o1777); // sticky: others cannot rename or remove root's entry
    expect(() => checkSocketOwner(join(open, 'd.sock'))).not.toThrow();
    chmodSync(open, 0o755);
    chownSync(open, 65534, 65534);
    expect(refusal(() => checkSocketOwner(join(open, 'd.sock'))).message).toMatch(/directory .*open is owned by uid 65534/);
    server.close();
  });
});

describe.skipIf(!isRoot)('the daemon is identified by SO_PEERCRED after connecting, not by the path', () => {
  it('a socket that passes every path check but is served by a non-root process is refused (swapped in after the checks)', async () => {
    // A process running as nobody listens; its socket is then moved into a root-only directory and chowned
    // to root: exactly what stat-then-connect would accept.
    const own = mkdtempSync(join(tmpdir(), 'tunlock-impostor-'));
    chownSync(own, 65534, 65534);
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e',
      `require('net').createServer((s) => s.end()).listen(${JSON.stringify(join(own, 'x.sock'))}, () => console.log('ready'))`]);
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`impostor exited (${code})`)));
      });
      const path = join(dir, 'swapped.sock');
      renameSync(join(own, 'x.sock'), path);
      chownSync(path, 0, 0);
      expect(() => checkSocketOwner(path)).not.toThrow();
      const c = new DaemonClient(path, 'test');
      const e = await c.connect(2000).then(() => null, (err: ProtocolError) => err);
      expect(e?.code).toBe('daemon_unavailable');
      expect(e?.message).toMatch(new RegExp(`process listening on it \\(pid ${child.pid}\\) runs as uid 65534, not root`));
    } finally {
      child.kill('SIGKILL');
      rmSync(own, { recursive: true, force: true });
    }
  });
});

/** A minimal daemon: answers hello (or refuses it), answers status, pushes what the test asks. */
function fakeDaemon(path: string, opts: { refuse?: boolean; version?: number } = {}) {
  const clients: Socket[] = [];
  const received: unknown[] = [];
  const server = createServer((s) => {
    clients.push(s);
    const decoder = new FrameDecoder(MAX_REQUEST_BYTES);
    s.on('data', (c: Buffer) => {
      for (const raw of decoder.push(c).frames) {
        received.push(raw);
        const req = raw as { id: number; type: string; version?: number };
        if (opts.refuse) {
          s.end(encodeFrame({ id: null, ok: false, error: { code: 'not_permitted', message: 'user 1000 may not control tunlock', hint: 'join the group' } }, 1 << 20));
        } else if (req.type === 'hello') {
          s.write(encodeFrame({ id: req.id, ok: true, result: { version: opts.version ?? PROTOCOL_VERSION, server: 'tunlockd' } }, 1 << 20));
        } else {
          s.write(encodeFrame({ event: 'tamper', detail: 'before the answer', at: 1 }, 1 << 20));
          s.write(encodeFrame({ id: req.id, ok: true, result: sampleStatus() }, 1 << 20));
        }
      }
    });
    s.on('error', () => undefined);
  });
  const ready = new Promise<void>((r) => server.listen(path, () => r()));
  return { server, clients, received, ready };
}

describe.skipIf(!isRoot)('DaemonClient against a fake daemon (root-owned socket)', () => {
  it('says hello, matches responses by id, delivers events, reports a closed connection with its cause', async () => {
    const path = join(dir, 'ok.sock');
    const d = fakeDaemon(path);
    await d.ready;
    const c = new DaemonClient(path, 'test');
    const events: unknown[] = [];
    const closes: ProtocolError[] = [];
    c.onEvent((e) => events.push(e));
    c.onClose((e) => closes.push(e));
    await c.connect(2000);
    expect(d.received).toEqual([{ type: 'hello', version: PROTOCOL_VERSION, client: 'test', id: 1 }]);
    expect(await c.request({ type: 'status' })).toEqual(sampleStatus());
    expect(events).toEqual([{ event: 'tamper', detail: 'before the answer', at: 1 }]);
    d.clients[0]!.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(closes.map((e) => [e.code, e.message])).toEqual([['daemon_unavailable', 'connection to tunlockd closed']]);
    await expect(c.request({ type: 'status' })).rejects.toMatchObject({ code: 'daemon_unavailable' });
    d.server.close();
  });

  it("a refused hello rejects connect with the daemon's error and leaves no connection open", async () => {
    const path = join(dir, 'refuse.sock');
    const d = fakeDaemon(path, { refuse: true });
    await d.ready;
    const c = new DaemonClient(path, 'host');
    await expect(c.connect(2000)).rejects.toMatchObject({ code: 'not_permitted', message: 'user 1000 may not control tunlock', hint: 'join the group' });
    await new Promise((r) => setTimeout(r, 50));
    expect(d.clients.every((s) => s.destroyed || s.readableEnded)).toBe(true);
    d.server.close();
  });

  it('a daemon that never answers hello: connect fails within its timeout and hangs up', async () => {
    const path = join(dir, 'mute.sock');
    const closed: Promise<void>[] = [];
    const server = await listenAt(path, (s) => {
      s.on('error', () => undefined);
      s.resume(); // reads (and ignores) the hello
      closed.push(new Promise((r) => s.once('close', () => r())));
    });
    const c = new DaemonClient(path, 'host');
    // The client's own timer ends the wait (its message says so); a client that never gave up would fail on
    // the test's timeout rather than on a wall-clock bound here.
    await expect(c.connect(200)).rejects.toMatchObject({ code: 'daemon_unavailable', message: expect.stringMatching(/did not answer hello within 200 ms/) });
    await closed[0]; // the client hung up (the test times out otherwise)
    server.close();
  });

  it('a request too large to send is rejected at once, nothing is sent', async () => {
    const path = join(dir, 'big.sock');
    const d = fakeDaemon(path);
    await d.ready;
    const c = new DaemonClient(path, 'test');
    await c.connect(2000);
    const endpoints = Array.from({ length: 5000 }, () => 'x'.repeat(20));
    await expect(c.request({ type: 'tunnelAdd', iface: 'wg0', endpoints })).rejects.toMatchObject({ code: 'bad_request', message: expect.stringMatching(/cannot send tunnelAdd/) });
    expect(d.received).toHaveLength(1); // the hello only
    c.close();
    d.server.close();
  });
});

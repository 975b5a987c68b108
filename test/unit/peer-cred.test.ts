// SO_PEERCRED / pidfds through koffi, against the real kernel (a unix socket in a temp dir; no privileges).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { peerCred } from '../../host/src/daemon/peer-cred.js';
import { closeFd, peerCredentials, pidfdAlive, pidfdOpen, socketFd } from '../../host/src/process/linux-syscalls.js';

const dir = mkdtempSync(join(tmpdir(), 'tunlock-peercred-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function pair(name: string): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const path = join(dir, name);
  let accepted: (s: Socket) => void = () => undefined;
  const got = new Promise<Socket>((r) => (accepted = r));
  const srv = createServer((s) => accepted(s));
  await new Promise<void>((r) => srv.listen(path, r));
  const client = connect(path);
  await new Promise<void>((r) => client.once('connect', () => r()));
  const server = await got;
  return { server, client, close: () => (client.destroy(), server.destroy(), srv.close()) };
}

describe('peer credentials (SO_PEERCRED)', () => {
  it('name the process that connected, with a live pidfd for it', async () => {
    const p = await pair('a.sock');
    const c = peerCred(p.server);
    expect(c).toMatchObject({ uid: process.getuid!(), gid: process.getgid!(), pid: process.pid });
    expect(c.pidfd).not.toBeNull();
    expect(pidfdAlive(c.pidfd!)).toBe(true);
    closeFd(c.pidfd!);
    // The daemon's side of the socket reports the daemon, as seen by the client.
    expect(peerCredentials(socketFd(p.client)).pid).toBe(process.pid);
    p.close();
  });

  it('a pidfd reports its process gone once it exits, even if the pid is reused later', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    await new Promise((r) => child.once('spawn', r));
    const fd = pidfdOpen(child.pid!);
    expect(pidfdAlive(fd)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(pidfdAlive(fd)).toBe(false);
    closeFd(fd);
  });
});

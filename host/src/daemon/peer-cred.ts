// Who is on the other end of a unix socket. Node has no SO_PEERCRED, so we ask the kernel's sock_diag
// through `ss -xpn` (iproute2): our accepted socket's inode → its peer's inode → the processes holding the
// peer → their uid from /proc. Any doubt (peer gone, several uids) is an error and the client is refused.
import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import type { Socket } from 'node:net';

export function socketInode(fd: number): number {
  const link = readlinkSync(`/proc/self/fd/${fd}`);
  const m = /^socket:\[(\d+)\]$/.exec(link);
  if (!m) throw new Error(`fd ${fd} is not a socket (${link})`);
  return Number(m[1]);
}

interface SsEntry {
  inode: number;
  peer: number;
  pids: number[];
}

export function parseSs(output: string): SsEntry[] {
  const entries: SsEntry[] = [];
  for (const line of output.split('\n')) {
    // u_str ESTAB 0 0 /run/x.sock 35185 * 35184 users:(("node",pid=1791,fd=21))
    const m = /\s(\d+)\s+\S+\s+(\d+)(?:\s+users:\((.*)\))?\s*$/.exec(line);
    if (!m) continue;
    const pids = [...(m[3] ?? '').matchAll(/pid=(\d+)/g)].map((p) => Number(p[1]));
    entries.push({ inode: Number(m[1]), peer: Number(m[2]), pids });
  }
  return entries;
}

function uidOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  if (!m) throw new Error(`no Uid line for pid ${pid}`);
  return Number(m[2]); // effective uid
}

export interface PeerCred {
  uid: number;
  pid: number;
}

export function peerCred(socket: Socket): Promise<PeerCred> {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return new Promise((resolve, reject) => {
    if (typeof fd !== 'number' || fd < 0) return reject(new Error('socket has no file descriptor'));
    let ours: number;
    try {
      ours = socketInode(fd);
    } catch (e) {
      return reject(e);
    }
    execFile('ss', ['-xpnH'], { timeout: 3000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(new Error(`ss failed: ${err.message}`));
      try {
        const entries = parseSs(stdout);
        const mine = entries.find((e) => e.inode === ours);
        if (!mine) throw new Error(`socket inode ${ours} not listed by ss`);
        const peer = entries.find((e) => e.inode === mine.peer);
        if (!peer || peer.pids.length === 0) throw new Error('peer process not found (it exited, or it is in another network namespace)');
        const uids = new Set(peer.pids.map(uidOf));
        if (uids.size !== 1) throw new Error(`peer socket is shared by several users (${[...uids].join(', ')})`);
        resolve({ uid: [...uids][0]!, pid: peer.pids[0]! });
      } catch (e) {
        reject(e);
      }
    });
  });
}

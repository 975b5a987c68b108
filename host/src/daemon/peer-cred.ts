// Who is on the other end of an accepted unix socket: SO_PEERCRED, which the kernel fills in when the peer
// calls connect(2) and never changes afterwards. The identity is bound to the connection itself — handing
// the socket to another process (fd passing, inheritance, pidfd_getfd) does not change who connected.
// The peer process is also pinned as a pidfd (SO_PEERPIDFD; pidfd_open on kernels before 6.5), so a later
// `tunlock run` moves exactly that process, never whoever got its pid after it exited.
import type { Socket } from 'node:net';
import { ESRCH, SyscallError, peerCredentials, peerPidfd, pidfdOpen, socketFd } from '../process/linux-syscalls.js';
import type { Client } from './daemon.js';

export function peerCred(socket: Socket): Client {
  const fd = socketFd(socket);
  const cred = peerCredentials(fd);
  // pid 0: the peer lives in a pid namespace where it has no number; it can use everything but `tunlock run`.
  let pidfd = cred.pid > 0 ? peerPidfd(fd) : null;
  // Before Linux 6.5: pin the pid at once. A peer that exited before we got here has no pidfd (ESRCH); one
  // whose pid was already reused in that instant is the window SO_PEERPIDFD closes.
  if (pidfd === null && cred.pid > 0) {
    try {
      pidfd = pidfdOpen(cred.pid);
    } catch (e) {
      if (!(e instanceof SyscallError && e.errno === ESRCH)) throw e;
    }
  }
  return { uid: cred.uid, gid: cred.gid, pid: cred.pid, pidfd };
}

// The few Linux system calls Node does not expose, through koffi (a dynamic FFI with prebuilt binaries in its
// npm package; README "Dependencies" says why). Each wrapper checks its result and turns a failure into an
// Error carrying errno, so no caller can mistake a failed call for an answer.
//   SO_PEERCRED   who connected to a unix socket: pid, uid, gid as the kernel recorded them at connect(2)
//   SO_PEERPIDFD  the same peer as a pidfd (Linux ≥ 6.5): a handle on *that* process, never a reused pid
//   pidfd_open    a pidfd for a pid (fallback where SO_PEERPIDFD is missing)
//   pidfd_send_signal(fd, 0)  is the process behind a pidfd still alive?
//   pidfd_getfd   a copy of another process's file descriptor (used by the lab to hand a socket over)
import { closeSync } from 'node:fs';
import type { Socket } from 'node:net';
import koffi from 'koffi';

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const SO_PEERPIDFD = 77;
// Syscalls added after 5.0 share one number on every architecture.
const SYS_PIDFD_SEND_SIGNAL = 424;
const SYS_PIDFD_OPEN = 434;
const SYS_PIDFD_GETFD = 438;
const ENOPROTOOPT = 92;
export const ESRCH = 3;

/** The asm-generic socket option numbers above; a few old architectures (mips, ppc, sparc) use others. */
const SUPPORTED_ARCHES = new Set(['x64', 'arm64', 'riscv64', 'loong64']);

interface Libc {
  getsockopt: (fd: number, level: number, name: number, value: Buffer, length: number[]) => number;
  syscall: (nr: number, ...typedArgs: unknown[]) => number;
}

let libc: Libc | null = null;

function load(): Libc {
  if (libc) return libc;
  if (process.platform !== 'linux' || !SUPPORTED_ARCHES.has(process.arch)) {
    throw new Error(`peer credentials are implemented for Linux on ${[...SUPPORTED_ARCHES].join(', ')}, not ${process.platform}-${process.arch}`);
  }
  const lib = koffi.load('libc.so.6');
  libc = {
    getsockopt: lib.func('int getsockopt(int fd, int level, int name, _Out_ uint8_t *value, _Inout_ uint32_t *length)') as Libc['getsockopt'],
    syscall: lib.func('long syscall(long nr, ...)') as Libc['syscall'],
  };
  return libc;
}

export class SyscallError extends Error {
  override name = 'SyscallError';
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call} failed (errno ${errno})`);
  }
}

function check(call: string, result: number): number {
  if (result < 0) throw new SyscallError(call, koffi.errno());
  return result;
}

/** The file descriptor of a connected net.Socket (Node keeps it on the libuv handle). */
export function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('socket has no file descriptor');
  return fd;
}

export interface Ucred {
  pid: number;
  uid: number;
  gid: number;
}

/** The peer of a connected unix socket as the kernel recorded it when the peer called connect(2). */
export function peerCredentials(fd: number): Ucred {
  const value = Buffer.alloc(12);
  const length = [value.length];
  check('getsockopt(SO_PEERCRED)', load().getsockopt(fd, SOL_SOCKET, SO_PEERCRED, value, length));
  if (length[0] !== 12) throw new Error(`SO_PEERCRED returned ${length[0]} bytes, expected 12`);
  return { pid: value.readInt32LE(0), uid: value.readUInt32LE(4), gid: value.readUInt32LE(8) };
}

/** A pidfd for the process that connected (SO_PEERPIDFD); null on kernels older than 6.5. Close it. */
export function peerPidfd(fd: number): number | null {
  const value = Buffer.alloc(4);
  const length = [value.length];
  const r = load().getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, value, length);
  if (r < 0) {
    const errno = koffi.errno();
    if (errno === ENOPROTOOPT) return null;
    throw new SyscallError('getsockopt(SO_PEERPIDFD)', errno);
  }
  return value.readInt32LE(0);
}

export function pidfdOpen(pid: number): number {
  return check('pidfd_open', load().syscall(SYS_PIDFD_OPEN, 'int', pid, 'uint', 0));
}

/** True while the process behind `pidfd` has not exited (its pid cannot have been reused). */
export function pidfdAlive(pidfd: number): boolean {
  const r = load().syscall(SYS_PIDFD_SEND_SIGNAL, 'int', pidfd, 'int', 0, 'void *', null, 'uint', 0);
  if (r === 0) return true;
  const errno = koffi.errno();
  if (errno === ESRCH) return false;
  throw new SyscallError('pidfd_send_signal', errno);
}

/** A duplicate, in this process, of file descriptor `targetFd` of the process behind `pidfd`. */
export function pidfdGetfd(pidfd: number, targetFd: number): number {
  return check('pidfd_getfd', load().syscall(SYS_PIDFD_GETFD, 'int', pidfd, 'int', targetFd, 'uint', 0));
}

export function closeFd(fd: number): void {
  closeSync(fd);
}

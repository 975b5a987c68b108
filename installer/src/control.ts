// Starting and stopping the daemon. With systemd (a real machine): systemctl. Without (containers, the lab,
// the demo): the installer's own `start`, which runs the installed tunlockd detached with a pid file, and
// `stop`, which ends exactly that process (checked by its command line, never by name).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SOCKET_GROUP_NAME } from '../../host/src/common/paths.js';
import { findGroup } from './accounts.js';
import type { Layout } from './layout.js';

export function systemdRunning(): boolean {
  return existsSync('/run/systemd/system');
}

export function systemctl(args: string[], allowFailure = false): boolean {
  const r = spawnSync('systemctl', args, { encoding: 'utf8' });
  if (r.status !== 0 && !allowFailure) throw new Error(`systemctl ${args.join(' ')} failed: ${r.stderr?.trim() || r.error?.message}`);
  return r.status === 0;
}

/** Paths the self-started daemon uses (under --root in labs). */
export function runtimePaths(l: Layout): { socket: string; stateDir: string; pidFile: string; logFile: string } {
  const run = l.at(l.runDir);
  return { socket: l.at(l.socket), stateDir: l.at(l.stateDir), pidFile: join(run, 'tunlockd.pid'), logFile: join(run, 'tunlockd.log') };
}

function isSocket(p: string): boolean {
  try {
    return statSync(p).isSocket();
  } catch {
    return false;
  }
}

/** The pid in the pid file if it is still our daemon (its command line names the installed tunlockd.js). */
export function runningPid(l: Layout): number | null {
  const { pidFile } = runtimePaths(l);
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1) return null;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.includes(l.at(l.js('tunlockd'))) ? pid : null;
  } catch {
    return null;
  }
}

/** Starts the installed daemon detached (in the caller's network namespace); resolves once it listens. */
export async function startDaemon(l: Layout, timeoutMs = 15_000): Promise<number> {
  const existing = runningPid(l);
  if (existing) return existing;
  const p = runtimePaths(l);
  // What systemd-tmpfiles does under systemd: the socket directory, root:tunlock 0750, so group members
  // (and nobody else) can reach the socket.
  const run = l.at(l.runDir);
  mkdirSync(run, { recursive: true, mode: 0o750 });
  chmodSync(run, 0o750);
  const gid = findGroup(l, SOCKET_GROUP_NAME)?.gid;
  if (gid !== undefined && process.getuid?.() === 0) chownSync(run, 0, gid);
  const out = openSync(p.logFile, 'a', 0o600);
  const child = spawn(l.node, [l.at(l.js('tunlockd')), '--socket', p.socket, '--state-dir', p.stateDir], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const pid = child.pid;
  if (!pid) throw new Error('cannot start tunlockd');
  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = `exit ${code ?? signal}`));
  child.unref();
  writeFileSync(p.pidFile, `${pid}\n`, { mode: 0o644 });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    if (isSocket(p.socket)) return pid;
    await sleep(50);
  }
  const tail = readFileSync(p.logFile, 'utf8').split('\n').slice(-10).join('\n');
  if (!exited) process.kill(pid, 'SIGKILL');
  unlinkSync(p.pidFile);
  throw new Error(`tunlockd did not start (${exited ?? 'no socket in time'}):\n${tail}`);
}

/** Stops the self-started daemon (SIGTERM, then SIGKILL after 5 s). The firewall rules stay. */
export async function stopDaemon(l: Layout): Promise<boolean> {
  const pid = runningPid(l);
  const { pidFile } = runtimePaths(l);
  if (!pid) {
    if (existsSync(pidFile)) unlinkSync(pidFile);
    return false;
  }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && runningPid(l) === pid; i++) await sleep(50);
  if (runningPid(l) === pid) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 40 && existsSync(`/proc/${pid}`) && runningPid(l) === pid; i++) await sleep(50);
  if (existsSync(pidFile)) unlinkSync(pidFile);
  return true;
}

// A real tunlockd (host/dist/tunlockd.js) in a throwaway network namespace with only loopback up, its socket
// and state in the namespace fixture's temp dir. Needs root. The daemon applies nftables rules, so it only ever
// runs under `ip netns exec <throwaway ns>`. Namespace, processes and files belong to the shared namespace
// fixture (host/src/process/netns-fixture.ts), which tears them down on every exit path.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsFixture } from '../../host/src/process/netns-fixture.js';
import type { ExecResult, Tracked } from '../../host/src/process/netns-fixture.js';

export type { ExecResult } from '../../host/src/process/netns-fixture.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** host/dist (overridable for a bundled copy of this file, e.g. the SIGKILL clean-up test's child process) */
export const DIST = process.env.TUNLOCK_DIST ?? join(REPO_ROOT, 'host/dist');

export interface NetnsDaemon {
  /** the namespace (`ip netns exec NS …` runs a command in it) */
  ns: string;
  /** temp dir holding the socket, the state dir and the manifest; mode 0755 so other users can reach the socket */
  dir: string;
  socket: string;
  stateDir: string;
  /** the daemon's pid while it runs */
  pid(): number | null;
  /** everything the daemon wrote to stderr, across restarts */
  log(): string;
  /** stops the daemon (SIGTERM) if it runs, starts a new one on the same socket and state, waits until it listens */
  restart(): Promise<void>;
  /** sends `signal` (default SIGKILL) to the daemon and waits until it has exited */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** starts a process inside the namespace (killed by stop() if still running) */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** runs a command inside the namespace to completion */
  exec(command: string, args: string[], options?: { input?: string; timeoutMs?: number }): Promise<ExecResult>;
  /** tears everything down: every process started here, the namespace, the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface NetnsDaemonOptions {
  readyTimeoutMs?: number;
  daemonArgs?: string[];
  /**
   * Extra /etc/passwd and /etc/group lines that every process started here (the daemon, hosts, CLIs) sees, and
   * nothing else does: copies of the machine's files with these lines (replacing entries of the same name) are
   * bind-mounted over /etc/passwd and /etc/group in a private mount namespace per process. A test gets a user
   * and a group without ever writing the machine's /etc.
   */
  accounts?: { passwd?: string[]; group?: string[] };
}

/** The first uid and gid from 60900 up that neither /etc/passwd nor /etc/group of this machine uses. */
export function unusedIds(): { uid: number; gid: number } {
  const used = (file: string) => new Set(readFileSync(file, 'utf8').split('\n').map((l) => Number(l.split(':')[2])));
  const uids = used('/etc/passwd');
  const gids = used('/etc/group');
  let uid = 60900;
  while (uids.has(uid)) uid++;
  let gid = 60900;
  while (gids.has(gid)) gid++;
  return { uid, gid };
}

/** The machine's file with `extra` lines, minus its own entries of the names they define. */
function withEntries(file: string, extra: string[]): string {
  const names = new Set(extra.map((l) => l.split(':')[0]));
  const kept = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && !names.has(l.split(':')[0]));
  return `${[...kept, ...extra].join('\n')}\n`;
}

export async function startNetnsDaemon(options: NetnsDaemonOptions = {}): Promise<NetnsDaemon> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  // 0755: other users (the native host's caller, a group member) must reach the socket in it.
  const fx = NetnsFixture.create({ namespaces: ['daemon'], tag: 'nsd', tmpMode: 0o755 });
  const ns = fx.ns('daemon');
  const dir = fx.tmp;
  const socket = join(dir, 'tunlockd.sock');
  const stateDir = join(dir, 'state');
  let daemon: Tracked | null = null;
  let logText = '';

  // With private accounts, each process starts through a wrapper that mounts them (private propagation: the
  // mounts never reach the machine's mount namespace) and then execs it in place, so PIDs stay the command's.
  let wrap = (command: string, args: string[]): [string, string[]] => [command, args];
  if (options.accounts) {
    const etc = join(dir, 'etc');
    mkdirSync(etc);
    writeFileSync(join(etc, 'passwd'), withEntries('/etc/passwd', options.accounts.passwd ?? []), { mode: 0o644 });
    writeFileSync(join(etc, 'group'), withEntries('/etc/group', options.accounts.group ?? []), { mode: 0o644 });
    const mounts = `mount --bind '${etc}/passwd' /etc/passwd && mount --bind '${etc}/group' /etc/group && exec "$@"`;
    wrap = (command, args) => ['unshare', ['--mount', '--propagation', 'private', 'sh', '-c', mounts, 'sh', command, ...args]];
  }

  const nsSpawn = (command: string, args: string[], opts: SpawnOptions = {}): ChildProcess => fx.spawn(ns, ...wrap(command, args), { stdio: 'pipe', ...opts }).child;

  const startDaemon = async (): Promise<void> => {
    const t = fx.spawn(ns, ...wrap(process.execPath, [join(DIST, 'tunlockd.js'), '--socket', socket, '--state-dir', stateDir, ...(options.daemonArgs ?? [])]), {
      stdio: ['ignore', 'ignore', 'pipe'],
      name: 'tunlockd',
    });
    daemon = t;
    const child = t.child;
    let seen = '';
    await new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error(`tunlockd did not start within ${readyTimeoutMs} ms:\n${seen}`)), readyTimeoutMs);
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (text: string) => {
        logText += text;
        seen += text;
        if (/listening on /.test(seen)) {
          clearTimeout(timer);
          resolveReady();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`tunlockd exited during startup (${code ?? signal}):\n${seen}`));
      });
    });
  };

  const killDaemon = async (signal: NodeJS.Signals): Promise<void> => {
    const d = daemon;
    if (!d) return;
    daemon = null;
    await fx.kill(d, signal, 5000);
    if (!d.done) await fx.kill(d, 'SIGKILL', 5000);
  };

  try {
    await startDaemon();
  } catch (e) {
    fx.destroySync();
    throw e;
  }

  return {
    ns,
    dir,
    socket,
    stateDir,
    pid: () => daemon?.pid ?? null,
    log: () => logText,
    restart: async () => {
      await killDaemon('SIGTERM');
      await startDaemon();
    },
    kill: (signal = 'SIGKILL') => killDaemon(signal),
    spawn: nsSpawn,
    exec: (command, args, opts = {}) =>
      new Promise<ExecResult>((resolveExec, reject) => {
        const child = nsSpawn(command, args);
        let stdout = '';
        let stderr = '';
        child.stdout!.setEncoding('utf8').on('data', (t: string) => (stdout += t));
        child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${command} ${args.join(' ')} timed out`));
        }, opts.timeoutMs ?? 15_000);
        child.once('error', reject);
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          resolveExec({ code, signal, stdout, stderr });
        });
        // A command that exits without reading its input (ss, ip) closes the pipe first: EPIPE is no error.
        child.stdin!.on('error', () => undefined);
        child.stdin!.end(opts.input ?? '');
      }),
    stop: async () => {
      if (fx.destroyed) return;
      await killDaemon('SIGTERM');
      await fx.destroy();
    },
  };
}

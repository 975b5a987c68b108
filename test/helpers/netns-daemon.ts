// A real tunlockd (host/dist/tunlockd.js) in a throwaway network namespace with only loopback up, its socket
// and state in the namespace fixture's temp dir. Needs root. The daemon applies nftables rules, so it only ever
// runs under `ip netns exec <throwaway ns>`. Namespace, processes and files belong to the shared namespace
// fixture (host/src/process/netns-fixture.ts), which tears them down on every exit path.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
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

export async function startNetnsDaemon(options: { readyTimeoutMs?: number; daemonArgs?: string[] } = {}): Promise<NetnsDaemon> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  // 0755: other users (the native host's caller, a group member) must reach the socket in it.
  const fx = NetnsFixture.create({ namespaces: ['daemon'], tag: 'nsd', tmpMode: 0o755 });
  const ns = fx.ns('daemon');
  const dir = fx.tmp;
  const socket = join(dir, 'tunlockd.sock');
  const stateDir = join(dir, 'state');
  let daemon: Tracked | null = null;
  let logText = '';

  const nsSpawn = (command: string, args: string[], opts: SpawnOptions = {}): ChildProcess => fx.spawn(ns, command, args, { stdio: 'pipe', ...opts }).child;

  const startDaemon = async (): Promise<void> => {
    const t = fx.spawn(ns, process.execPath, [join(DIST, 'tunlockd.js'), '--socket', socket, '--state-dir', stateDir, ...(options.daemonArgs ?? [])], {
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

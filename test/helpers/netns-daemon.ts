// A real tunlockd (host/dist/tunlockd.js) in a throwaway network namespace with only loopback up, its socket
// and state in a temp dir. Needs root. The daemon applies nftables rules, so it only ever runs under
// `ip netns exec <throwaway ns>`: nothing here touches the machine's own namespace except `ip netns add/del`.
//
// Cleanup on every exit path: stop() (normal), process 'exit' and SIGINT/SIGTERM/SIGHUP (sync), and a
// detached reaper that cleans up if the test process dies without either (SIGKILL, crash). Only processes
// this fixture started are killed: by PID (checked against their start time), and whatever runs inside the
// namespace it created.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** host/dist (overridable for a bundled copy of this file, e.g. the SIGKILL clean-up test's child process) */
export const DIST = process.env.TUNLOCK_DIST ?? join(REPO_ROOT, 'host/dist');

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

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

interface Tracked {
  pid: number;
  start: string | undefined;
}

function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Kills pid only if it is still the process we started (same start time): PIDs get reused. */
function killIfOurs(t: Tracked, signal: NodeJS.Signals): void {
  if (t.start === undefined || procStart(t.pid) !== t.start) return;
  try {
    process.kill(t.pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

// The reaper: a detached node process polling its owner; if the owner dies while the manifest still exists
// (no normal teardown), it does the teardown. Inline so the fixture is one file.
const REAPER = `
import { readFileSync, rmSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const [manifest, owner] = process.argv.slice(-2);
const start = (pid) => { try { const s = readFileSync('/proc/' + pid + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2).split(' '); } catch { return undefined; } };
const ownerStart = start(owner)?.[19];
const alive = () => { const s = start(owner); return !!s && s[19] === ownerStart && s[0] !== 'Z'; };
const timer = setInterval(() => {
  if (!existsSync(manifest)) process.exit(0);
  if (alive()) return;
  clearInterval(timer);
  const m = JSON.parse(readFileSync(manifest, 'utf8'));
  for (const p of m.pids) if (p.start && start(p.pid)?.[19] === p.start) { try { process.kill(p.pid, 'SIGKILL'); } catch {} }
  let inside = [];
  try { inside = execFileSync('ip', ['netns', 'pids', m.ns], { encoding: 'utf8' }).split(/\\s+/).filter(Boolean).map(Number); } catch {}
  for (const pid of inside) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  try { execFileSync('ip', ['netns', 'del', m.ns], { stdio: 'ignore' }); } catch {}
  rmSync(m.dir, { recursive: true, force: true });
  process.exit(0);
}, 250);
`;

const live = new Set<() => void>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const cleanup of live) cleanup();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      for (const cleanup of live) cleanup();
      process.removeListener(signal, onSignal);
      // Nobody else handles it: die by the signal, as without this handler.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

export async function startNetnsDaemon(options: { readyTimeoutMs?: number; daemonArgs?: string[] } = {}): Promise<NetnsDaemon> {
  if (process.getuid?.() !== 0) throw new Error('startNetnsDaemon needs root (network namespaces, nftables)');
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const ns = `tlnh-${process.pid}-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'tunlock-nsd-'));
  chmodSync(dir, 0o755);
  const socket = join(dir, 'tunlockd.sock');
  const stateDir = join(dir, 'state');
  const manifest = join(dir, '.manifest.json');
  const tracked = new Set<Tracked>();
  let daemon: { child: ChildProcess; tracked: Tracked; exited: Promise<void> } | null = null;
  let logText = '';
  let torn = false;

  const writeManifest = (): void => {
    if (torn) return;
    writeFileSync(manifest, JSON.stringify({ ns, dir, pids: [...tracked] }), { mode: 0o600 });
  };

  const cleanupSync = (): void => {
    if (torn) return;
    torn = true;
    live.delete(cleanupSync);
    for (const t of tracked) killIfOurs(t, 'SIGKILL');
    const inside = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
    for (const pid of (inside.stdout ?? '').split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true }); // includes the manifest: the reaper exits
  };

  const track = (child: ChildProcess): Tracked => {
    if (child.pid === undefined) throw new Error('netns-daemon: a process failed to start');
    const t: Tracked = { pid: child.pid, start: procStart(child.pid) };
    tracked.add(t);
    writeManifest();
    child.once('exit', () => {
      tracked.delete(t);
      writeManifest();
    });
    return t;
  };

  const nsSpawn = (command: string, args: string[], opts: SpawnOptions = {}): ChildProcess => {
    if (torn) throw new Error('netns-daemon: already stopped');
    // `ip netns exec` execs the command in place: the child's pid is the command's pid.
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: 'pipe', ...opts });
    track(child);
    return child;
  };

  const startDaemon = async (): Promise<void> => {
    const child = nsSpawn(process.execPath, [join(DIST, 'tunlockd.js'), '--socket', socket, '--state-dir', stateDir, ...(options.daemonArgs ?? [])], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const t = [...tracked].find((x) => x.pid === child.pid)!;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    daemon = { child, tracked: t, exited };
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
    killIfOurs(d.tracked, signal);
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
    if ((await Promise.race([d.exited.then(() => 'exited' as const), timeout])) === 'timeout') {
      killIfOurs(d.tracked, 'SIGKILL');
      await d.exited;
    }
  };

  installExitHandlers();
  live.add(cleanupSync);
  try {
    run('ip', ['netns', 'add', ns]);
    writeManifest();
    const reaper = spawn(process.execPath, ['--input-type=module', '-e', REAPER, manifest, String(process.pid)], {
      detached: true,
      stdio: 'ignore',
    });
    reaper.unref();
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await startDaemon();
  } catch (e) {
    cleanupSync();
    throw e;
  }

  return {
    ns,
    dir,
    socket,
    stateDir,
    pid: () => daemon?.child.pid ?? null,
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
      if (torn) return;
      await killDaemon('SIGTERM');
      cleanupSync();
    },
  };
}

// Throwaway network namespaces for benches that need no full lab (`tlbn<6 hex><suffix>`). The only actions in
// the machine's own namespace are `ip netns add/del`; everything else runs via `ip -n NS` / `ip netns exec NS`.
// Cleanup on every exit path: destroy() (normal), process exit and SIGINT/SIGTERM/SIGHUP (synchronous), and
// the lab's detached reaper (test/lab/servers/reaper.mjs, fed a manifest) if this process is SIGKILLed.
// Processes are killed by PID: the ones started here, and whatever still runs inside these namespaces.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LAB_DIR } from '../../lab/lab';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const active = new Set<BenchNetns>();
let handlers = false;

function installHandlers(): void {
  if (handlers) return;
  handlers = true;
  process.on('exit', () => {
    for (const n of active) n.destroySync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSig = () => {
      for (const n of active) n.destroySync();
      process.removeListener(sig, onSig);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSig);
  }
}

function run(cmd: string, args: string[], input?: string, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export class BenchNetns {
  readonly id = randomBytes(3).toString('hex');
  readonly names: Record<string, string>;
  /** removed by destroy() and by the reaper: point TMPDIR of processes started in the namespaces here */
  readonly tmp: string;
  private readonly manifest: string;
  private readonly procs = new Set<ChildProcess>();
  private reaperPid: number | undefined;
  private destroyed = false;

  private constructor(suffixes: string[]) {
    this.names = Object.fromEntries(suffixes.map((s) => [s, `tlbn${this.id}${s}`]));
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `tunlock-bench-ns-${this.id}-`));
    this.manifest = path.join(this.tmp, 'manifest.json');
  }

  /** Creates one namespace per suffix, loopback up. */
  static async create(suffixes: string[]): Promise<BenchNetns> {
    const n = new BenchNetns(suffixes);
    active.add(n);
    installHandlers();
    n.writeManifest();
    const reaper = spawn(process.execPath, [path.join(LAB_DIR, 'servers/reaper.mjs'), n.manifest, String(process.pid)], {
      detached: true,
      stdio: 'ignore',
    });
    reaper.unref();
    n.reaperPid = reaper.pid;
    try {
      for (const name of Object.values(n.names)) {
        const r = await run('ip', ['netns', 'add', name]);
        if (r.code !== 0) throw new Error(`ip netns add ${name}: ${r.stderr.trim()}`);
        await n.ip(name, ['link set lo up']);
      }
    } catch (e) {
      await n.destroy();
      throw e;
    }
    return n;
  }

  private writeManifest(): void {
    const m = {
      owner: process.pid,
      namespaces: Object.values(this.names),
      pids: [...this.procs].filter((c) => c.exitCode === null).map((c) => ({ pid: c.pid, start: startTime(c.pid!), name: 'bench' })),
      files: [],
      dirs: [this.tmp],
    };
    try {
      fs.writeFileSync(this.manifest + '.new', JSON.stringify(m));
      fs.renameSync(this.manifest + '.new', this.manifest);
    } catch {
      // torn down
    }
  }

  private check(ns: string): string {
    if (!Object.values(this.names).includes(ns)) throw new Error(`refusing to act outside the bench namespaces (${ns})`);
    return ns;
  }

  /** `ip -n NS -batch -` with these lines; throws on failure. */
  async ip(ns: string, lines: string[]): Promise<void> {
    const r = await run('ip', ['-n', this.check(ns), '-batch', '-'], lines.join('\n') + '\n');
    if (r.code !== 0) throw new Error(`ip -n ${ns}: ${r.stderr.trim()}`);
  }

  /** Runs a command inside a namespace to completion. */
  async exec(ns: string, cmd: string, args: string[], opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
    const r = await run('ip', ['netns', 'exec', this.check(ns), cmd, ...args], opts.input, opts.timeoutMs);
    if (r.code !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} in ${ns}: exit ${r.code}: ${r.stderr.trim()}`);
    return r;
  }

  /** Starts a long-running process inside a namespace (killed by destroy()). */
  spawn(ns: string, cmd: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.check(ns), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.add(child);
    child.once('exit', () => {
      this.procs.delete(child);
      this.writeManifest();
    });
    this.writeManifest();
    return child;
  }

  /** Kills what runs in the namespaces (by PID), deletes them and the temp dir. Idempotent. */
  async destroy(): Promise<void> {
    this.destroySync();
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.procs) {
      if (c.pid !== undefined && c.exitCode === null) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    for (const ns of Object.values(this.names)) {
      const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
      for (const pid of (r.stdout ?? '').split(/\s+/).filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    for (const ns of Object.values(this.names)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    fs.rmSync(this.tmp, { recursive: true, force: true });
    if (this.reaperPid !== undefined) {
      try {
        process.kill(this.reaperPid, 'SIGKILL');
      } catch {
        // exited (its manifest is gone)
      }
    }
    active.delete(this);
  }
}

function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

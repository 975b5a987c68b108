// The one namespace fixture: throwaway network namespaces (`tl<6 hex>-<suffix>`), the processes started in
// them, and the files that go with them, torn down on every exit path. Used by every tier that needs a
// namespace — the leak lab, the daemon/host/installer lab tests, the browser tier, the benches — and by
// `tunlock-install demo`, which is why it lives in shipped code (test/ imports it; installer/src may not import
// test/). It never configures the machine's own network namespace: the only root-namespace actions are
// `ip netns add/del`; everything else runs via `ip -n NS` / `ip netns exec NS`, and only in namespaces this
// fixture created. Addresses it puts on interfaces must be documentation, benchmarking (RFC 2544), private or
// loopback ranges.
//
// Teardown (`destroy()` / `destroySync()`, idempotent): SIGKILL every process it started (by PID, checked
// against the start time so a reused PID is never hit), then whatever still runs inside its namespaces, then
// delete the namespaces, the registered files and the temp dir. The same runs synchronously from ONE set of
// handlers (process exit, SIGINT/SIGTERM/SIGHUP) shared by every fixture in the process, and from a detached
// reaper (fed a manifest in the temp dir) when the owner dies without running them (SIGKILL, crash).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess, SpawnOptions, SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  /** default 30 s; then SIGKILL */
  timeoutMs?: number;
  /** don't throw on a non-zero exit */
  allowFail?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** A process the fixture started and kills on teardown. */
export interface Tracked {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** field 22 of /proc/PID/stat: tells this process from a later one with the same PID */
  readonly start: string | undefined;
  readonly exited: Promise<void>;
  done: boolean;
}

export interface FixtureOptions {
  /** one namespace per suffix, named `tl<id>-<suffix>`, loopback up */
  namespaces: readonly string[];
  /** names the temp dir (`tunlock-<tag>-<id>-XXXXXX`) */
  tag: string;
  /** mode of the temp dir (default 0700; 0755 when other users must reach a socket in it) */
  tmpMode?: number;
}

/** The start time of a process (field 22 of /proc/PID/stat), undefined once it is gone. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Addresses the fixture may put on an interface: documentation, benchmarking, private, loopback, link-local. */
const LAB_V4 = [/^192\.0\.2\./, /^198\.51\.100\./, /^203\.0\.113\./, /^198\.1[89]\./, /^10\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^127\./, /^169\.254\./];
const LAB_V6 = [/^2001:db8:/i, /^f[cd][0-9a-f]{2}:/i, /^fe80:/i, /^::1$/];

/** True for an address (optionally with /prefix) the lab may use: it can never be a real host on the internet. */
export function isLabAddress(cidr: string): boolean {
  const addr = cidr.split('/')[0]!;
  return (addr.includes(':') ? LAB_V6 : LAB_V4).some((re) => re.test(addr));
}

/** Runs a command to completion (in the caller's namespace: the fixture uses it for `ip netns …` / `ip -n`). */
export function runCommand(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // A command that exits without reading its input (ss, ip) closes the pipe first: EPIPE is no error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs ?? 30_000} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && !opts.allowFail) {
        reject(new Error(`\`${cmd} ${args.join(' ')}\` failed (${code ?? signal}): ${stderr.trim() || stdout.trim()}`));
      } else resolve({ code, signal, stdout, stderr });
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

function pidsInside(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  return (r.stdout ?? '').split(/\s+/).filter(Boolean).map(Number);
}

// The reaper, inline so the fixture works from a bundle (tunlock-install.js, a test's child process). It
// polls its owner; if the owner is gone while the manifest still exists (no teardown ran), it tears down.
const REAPER = `
import { readFileSync, rmSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const [manifest, owner] = process.argv.slice(-2);
const stat = (pid) => { try { const s = readFileSync('/proc/' + pid + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2).split(' '); } catch { return undefined; } };
const ownerStart = stat(owner)?.[19];
const alive = () => { const s = stat(owner); return !!s && s[19] === ownerStart && s[0] !== 'Z'; };
const kill = (pid) => { try { process.kill(pid, 'SIGKILL'); } catch {} };
const timer = setInterval(() => {
  if (!existsSync(manifest)) process.exit(0);
  if (alive()) return;
  clearInterval(timer);
  let m;
  try { m = JSON.parse(readFileSync(manifest, 'utf8')); } catch { process.exit(0); }
  for (const p of m.pids) if (p.start && stat(p.pid)?.[19] === p.start) kill(p.pid);
  for (const ns of m.namespaces) {
    let inside = [];
    try { inside = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\\s+/).filter(Boolean).map(Number); } catch {}
    for (const pid of inside) kill(pid);
  }
  for (const ns of m.namespaces) { try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch {} }
  for (const f of m.files) rmSync(f, { force: true });
  rmSync(m.dir, { recursive: true, force: true });
  process.exit(0);
}, 250);
`;

// One registry and one set of exit/signal handlers per process, even if two copies of this module are loaded
// (a bundle and the source): they share it through a global symbol.
interface Registry {
  live: Set<NetnsFixture>;
}
const REGISTRY = Symbol.for('tunlock.netns-fixture');
function registry(): Registry {
  const g = globalThis as { [REGISTRY]?: Registry };
  if (g[REGISTRY]) return g[REGISTRY];
  const reg: Registry = { live: new Set() };
  g[REGISTRY] = reg;
  const all = () => {
    for (const f of [...reg.live]) f.destroySync();
  };
  process.on('exit', all);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      all();
      process.removeListener(signal, onSignal);
      // Nobody else handles it: die by the signal, as without this handler.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
  return reg;
}

export class NetnsFixture {
  /** 6 hex digits, unique among the namespaces on this machine when created */
  readonly id: string;
  /** removed on teardown (holds the manifest); point sockets, state and logs of the fixture's processes here */
  readonly tmp: string;
  private readonly names: Map<string, string>;
  private readonly manifest: string;
  private readonly procs = new Set<Tracked>();
  private readonly files = new Set<string>();
  /** namespaces that exist because this fixture made them (only these are ever deleted) */
  private readonly created: string[] = [];
  private reaper: { pid: number; start: string | undefined } | undefined;
  private torn = false;

  private constructor(opts: FixtureOptions) {
    let id = '';
    for (let i = 0; i < 20; i++) {
      id = randomBytes(3).toString('hex');
      if (!opts.namespaces.some((s) => existsSync(`/var/run/netns/tl${id}-${s}`))) break;
    }
    this.id = id;
    this.names = new Map(opts.namespaces.map((s) => [s, `tl${id}-${s}`]));
    this.tmp = mkdtempSync(join(tmpdir(), `tunlock-${opts.tag}-${id}-`));
    if (opts.tmpMode !== undefined) chmodSync(this.tmp, opts.tmpMode);
    this.manifest = join(this.tmp, '.fixture-manifest.json');
  }

  /**
   * Creates the namespaces (loopback up) and starts the reaper. Needs root. Always pair with destroy(); on a
   * failure here everything created so far is removed before the error is thrown.
   */
  static create(opts: FixtureOptions): NetnsFixture {
    if (process.getuid?.() !== 0) throw new Error('network namespaces need root: run as root (sudo)');
    const f = new NetnsFixture(opts);
    registry().live.add(f);
    try {
      f.writeManifest();
      const reaper = spawn(process.execPath, ['--input-type=module', '-e', REAPER, f.manifest, String(process.pid)], { detached: true, stdio: 'ignore' });
      reaper.unref();
      if (reaper.pid !== undefined) f.reaper = { pid: reaper.pid, start: procStartTime(reaper.pid) };
      for (const ns of f.names.values()) {
        const r = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr?.trim() || r.error?.message}`);
        // Registered only once it exists: never delete a namespace of the same name someone else made.
        f.created.push(ns);
        f.writeManifest();
        const lo = spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
        if (lo.status !== 0) throw new Error(`ip -n ${ns} link set lo up: ${lo.stderr?.trim()}`);
      }
    } catch (e) {
      f.destroySync();
      throw e;
    }
    return f;
  }

  /** The namespace for `suffix` (throws for a name this fixture did not create). */
  ns(suffix: string): string {
    const n = this.names.get(suffix);
    if (n === undefined) throw new Error(`fixture ${this.id}: no namespace "${suffix}"`);
    return n;
  }

  /** Every namespace name, in creation order. */
  namespaces(): string[] {
    return [...this.created];
  }

  get destroyed(): boolean {
    return this.torn;
  }

  /** Refuses a namespace this fixture did not create: nothing acts outside them. */
  own(ns: string): string {
    if (!this.created.includes(ns)) throw new Error(`fixture ${this.id}: refusing to act outside its namespaces (${ns})`);
    return ns;
  }

  /** A file to remove on teardown (e.g. a WireGuard control socket outside the temp dir). */
  removeOnTeardown(path: string): void {
    this.files.add(path);
    this.writeManifest();
  }

  private writeManifest(): void {
    if (this.torn) return;
    const m = {
      owner: process.pid,
      namespaces: this.created,
      pids: [...this.procs].filter((p) => !p.done).map((p) => ({ pid: p.pid, start: p.start, name: p.name })),
      files: [...this.files],
      dir: this.tmp,
    };
    try {
      writeFileSync(`${this.manifest}.new`, JSON.stringify(m), { mode: 0o600 });
      renameSync(`${this.manifest}.new`, this.manifest);
    } catch {
      // the temp dir is already gone (teardown in progress)
    }
  }

  // ----- processes ---------------------------------------------------------------------------------------

  /** Registers a child so teardown kills it; `exited` resolves when it exits. */
  track(name: string, child: ChildProcess): Tracked {
    if (child.pid === undefined) throw new Error(`fixture ${this.id}: ${name} failed to start`);
    let resolveExit!: () => void;
    const exited = new Promise<void>((r) => (resolveExit = r));
    const t: Tracked = { name, child, pid: child.pid, start: procStartTime(child.pid), exited, done: false };
    const finish = () => {
      if (t.done) return;
      t.done = true;
      this.procs.delete(t);
      this.writeManifest();
      resolveExit();
    };
    child.once('exit', finish);
    child.once('error', finish);
    this.procs.add(t);
    this.writeManifest();
    return t;
  }

  /**
   * Starts `cmd args` inside namespace `ns` (`ip netns exec` execs in place: the child's PID is the command's).
   * Default stdio: stdin ignored, stdout/stderr piped.
   */
  spawn(ns: string, cmd: string, args: string[], opts: SpawnOptions & { name?: string } = {}): Tracked {
    if (this.torn) throw new Error(`fixture ${this.id}: already torn down`);
    const { name, ...spawnOpts } = opts;
    const child = spawn('ip', ['netns', 'exec', this.own(ns), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOpts });
    return this.track(name ?? cmd, child);
  }

  /** Sends `signal` (if the PID is still the process we started) and waits up to waitMs for it to exit. */
  async kill(t: Tracked, signal: NodeJS.Signals = 'SIGKILL', waitMs = 3000): Promise<void> {
    if (t.done) return;
    if (procStartTime(t.pid) === t.start) {
      try {
        process.kill(t.pid, signal);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
    await Promise.race([t.exited, sleep(waitMs)]);
  }

  /** Processes the fixture started that are still running. */
  processes(): { name: string; pid: number; start: string | undefined }[] {
    return [...this.procs].filter((p) => !p.done).map((p) => ({ name: p.name, pid: p.pid, start: p.start }));
  }

  // ----- commands in the namespaces ----------------------------------------------------------------------

  /** Runs `cmd args` inside `ns` to completion; throws on a non-zero exit unless allowFail. */
  exec(ns: string, cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return runCommand('ip', ['netns', 'exec', this.own(ns), cmd, ...args], opts);
  }

  /** Synchronous exec (for the installer demo and sync callers); never throws on a non-zero exit. */
  execSync(ns: string, argv: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
    return spawnSync('ip', ['netns', 'exec', this.own(ns), ...argv], {
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 60_000,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      env: opts.env ?? process.env,
    });
  }

  /**
   * `ip -n NS -batch -` with these lines. Every address added must pass isLabAddress: the lab's interfaces
   * never carry an address that could be a real host.
   */
  ip(ns: string, lines: string[]): Promise<ExecResult> {
    this.checkAddresses(lines);
    return runCommand('ip', ['-n', this.own(ns), '-batch', '-'], { input: `${lines.join('\n')}\n` });
  }

  /** Synchronous `ip -n NS …args` (throws on failure), with the same address check. */
  ipSync(ns: string, args: string[]): void {
    this.checkAddresses([args.join(' ')]);
    const r = spawnSync('ip', ['-n', this.own(ns), ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip -n ${ns} ${args.join(' ')}: ${r.stderr?.trim() || r.error?.message}`);
  }

  private checkAddresses(lines: string[]): void {
    for (const line of lines) {
      const m = /^\s*(?:-[46]\s+)?addr(?:ess)?\s+add\s+(\S+)/.exec(line);
      if (m && !isLabAddress(m[1]!)) throw new Error(`fixture ${this.id}: ${m[1]} is not a documentation, benchmarking, private or loopback address`);
    }
  }

  /**
   * The `ip` batch line for a veth pair created directly inside namespaces (never in the machine's own):
   * run it with ip(a.ns, [line]). Distinct explicit ifindexes (index, index + 1): when a veth's ifindex equals
   * its peer's, the kernel treats its carrier change as non-urgent and the first packets are lost for up to 1 s.
   */
  vethLine(dev: string, peer: { ns: string; dev: string }, opts: { index?: number; mac?: string } = {}): string {
    const idx = opts.index === undefined ? '' : ` index ${opts.index}`;
    const peerIdx = opts.index === undefined ? '' : ` index ${opts.index + 1}`;
    return `link add ${dev}${idx}${opts.mac ? ` address ${opts.mac}` : ''} type veth peer name ${peer.dev}${peerIdx} netns ${this.own(peer.ns)}`;
  }

  // ----- teardown ----------------------------------------------------------------------------------------

  /** Kills what the fixture started (and what still runs in its namespaces), deletes them and its files. */
  async destroy(): Promise<void> {
    if (this.torn) return;
    await Promise.all([...this.procs].map((p) => this.kill(p, 'SIGKILL', 3000)));
    this.destroySync();
  }

  /** The same, synchronously (exit and signal handlers). Idempotent. */
  destroySync(): void {
    if (this.torn) return;
    this.torn = true;
    for (const p of this.procs) if (!p.done && procStartTime(p.pid) === p.start) killPid(p.pid);
    // Anything else inside the namespaces (children of the daemon, a detached installed daemon) is ours.
    for (const ns of this.created) for (const pid of pidsInside(ns)) killPid(pid);
    for (const ns of this.created) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    for (const f of this.files) rmSync(f, { force: true });
    rmSync(this.tmp, { recursive: true, force: true }); // includes the manifest: the reaper exits by itself
    if (this.reaper && procStartTime(this.reaper.pid) === this.reaper.start) killPid(this.reaper.pid);
    registry().live.delete(this);
  }
}

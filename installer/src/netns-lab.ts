// A throwaway two-namespace lab for the installer demo and test/lab/installer.test.ts: namespace "client"
// (where the installed daemon runs and locks) joined by a veth pair to namespace "peer", documentation
// addresses only, no link to the machine's own network. Every firewall command runs inside the namespaces.
// Cleanup is idempotent and also runs on exit and on SIGINT/SIGTERM/SIGHUP.
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLIENT_ADDR = '198.51.100.1';
export const PEER_ADDR = '198.51.100.2';
export const CLIENT_ADDR6 = '2001:db8:7::1';
export const PEER_ADDR6 = '2001:db8:7::2';

const live = new Set<NetnsLab>();
let handlers = false;

function installHandlers(): void {
  if (handlers) return;
  handlers = true;
  process.on('exit', () => live.forEach((lab) => lab.cleanup()));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const h = () => {
      live.forEach((lab) => lab.cleanup());
      process.removeListener(sig, h);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, h);
  }
}

export class NetnsLab {
  readonly id = `tli${randomBytes(3).toString('hex')}`;
  readonly client = this.id;
  readonly peer = `${this.id}p`;
  /** the install root (DESTDIR) */
  readonly root: string;
  /** pids to kill on cleanup (besides the pid file's daemon) */
  readonly pids = new Set<number>();
  private created: string[] = [];
  private done = false;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'tunlock-lab-'));
    live.add(this);
    installHandlers();
  }

  /** A minimal root: /etc/passwd and /etc/group with root and one user, so group changes stay in here. */
  seedRoot(user = 'labuser', uid = 4242): void {
    mkdirSync(join(this.root, 'etc'), { recursive: true });
    writeFileSync(join(this.root, 'etc/passwd'), `root:x:0:0:root:/root:/bin/sh\n${user}:x:${uid}:${uid}::/home/${user}:/bin/sh\n`);
    writeFileSync(join(this.root, 'etc/group'), `root:x:0:\n${user}:x:${uid}:\n`);
    mkdirSync(join(this.root, 'home', user), { recursive: true });
  }

  private ip(args: string[]): void {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  }

  up(): void {
    for (const ns of [this.client, this.peer]) {
      this.ip(['netns', 'add', ns]);
      this.created.push(ns);
      this.ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    this.ip(['link', 'add', `${this.id}a`, 'netns', this.client, 'type', 'veth', 'peer', 'name', `${this.id}b`, 'netns', this.peer]);
    for (const [ns, dev, a4, a6] of [
      [this.client, `${this.id}a`, CLIENT_ADDR, CLIENT_ADDR6],
      [this.peer, `${this.id}b`, PEER_ADDR, PEER_ADDR6],
    ] as const) {
      this.ip(['-n', ns, 'addr', 'add', `${a4}/24`, 'dev', dev]);
      this.ip(['-n', ns, 'addr', 'add', `${a6}/64`, 'dev', dev, 'nodad']);
      this.ip(['-n', ns, 'link', 'set', dev, 'up']);
    }
  }

  /** Runs argv inside the client namespace. */
  exec(argv: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
    return spawnSync('ip', ['netns', 'exec', this.client, ...argv], {
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 60_000,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      env: { ...process.env, ...opts.env },
    });
  }

  /** One ICMP echo from client to peer (v4 or v6): true when answered. */
  canReachPeer(v6 = false): boolean {
    // Up to three echoes, any reply counts: one reply lost on a loaded machine is no verdict either way.
    return this.exec(['ping', v6 ? '-6' : '-4', '-c', '3', '-i', '0.2', '-W', '1', v6 ? PEER_ADDR6 : PEER_ADDR], { timeoutMs: 5000 }).status === 0;
  }

  /** Our table in the client namespace, or null. */
  table(): string | null {
    const r = this.exec(['nft', 'list', 'table', 'inet', 'tunlock']);
    return r.status === 0 ? r.stdout : null;
  }

  tables(): string {
    return this.exec(['nft', 'list', 'tables']).stdout;
  }

  /** Idempotent: kills the daemon (by its pid file, checked) and any tracked pid, deletes namespaces and the root. */
  cleanup(): void {
    if (this.done) return;
    this.done = true;
    live.delete(this);
    try {
      const pid = Number(readFileSync(join(this.root, 'run/tunlock/tunlockd.pid'), 'utf8').trim());
      if (pid > 1 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.root)) this.pids.add(pid);
    } catch {
      // no daemon left
    }
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const ns of this.created.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(this.root, { recursive: true, force: true });
  }
}

// Throwaway network namespaces for benches that need no full lab (`tl<6 hex>-<suffix>`): a thin face over the
// shared namespace fixture (host/src/process/netns-fixture.ts), which owns the namespaces, the processes
// started in them and their teardown on every exit path (normal end, exceptions, SIGINT/SIGTERM/SIGHUP, and
// its detached reaper if the bench is SIGKILLed).
import type { ChildProcess } from 'node:child_process';
import { NetnsFixture } from '../../../host/src/process/netns-fixture.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class BenchNetns {
  readonly names: Record<string, string>;
  /** removed on teardown: point TMPDIR of processes started in the namespaces here */
  readonly tmp: string;

  private constructor(private readonly fx: NetnsFixture) {
    this.names = Object.fromEntries(fx.namespaces().map((n) => [n.slice(n.indexOf('-') + 1), n]));
    this.tmp = fx.tmp;
  }

  /** Creates one namespace per suffix, loopback up. */
  static async create(suffixes: string[]): Promise<BenchNetns> {
    return new BenchNetns(NetnsFixture.create({ namespaces: suffixes, tag: 'bench-ns' }));
  }

  /** `ip -n NS -batch -` with these lines; throws on failure. */
  async ip(ns: string, lines: string[]): Promise<void> {
    await this.fx.ip(ns, lines);
  }

  /** Runs a command inside a namespace to completion. */
  async exec(ns: string, cmd: string, args: string[], opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
    return this.fx.exec(ns, cmd, args, { timeoutMs: 60_000, ...opts });
  }

  /** Starts a long-running process inside a namespace (killed by destroy()). */
  spawn(ns: string, cmd: string, args: string[]): ChildProcess {
    return this.fx.spawn(ns, cmd, args, { name: 'bench' }).child;
  }

  /** Kills what runs in the namespaces (by PID), deletes them and the temp dir. Idempotent. */
  destroy(): Promise<void> {
    return this.fx.destroy();
  }
}

// A bench's measuring half often has to run inside a namespace (the daemon identifies its clients with `ss`
// in its own namespace; nft acts on the namespace it runs in). The bench starts its own bundle again there
// (`ip netns exec NS node bundle.mjs worker …`) and talks to it with JSON lines over stdin/stdout:
//   → {"id":1,"op":"toggle","params":{…}}      ← {"re":1,"ok":true,"result":{…}}   ← {"push":{…}} (unsolicited)
// The worker measures with its own clock, so the pipe adds nothing to the figures. Workers run inside a
// namespace of the shared fixture (host/src/process/netns-fixture.ts), whose teardown kills everything still
// running in its namespaces on every exit path: no exit hook of its own here.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import readline from 'node:readline';

export class NsWorker {
  private seq = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private pushListeners = new Set<(msg: Record<string, unknown>) => void>();
  private stderr = '';
  readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly name: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      if (process.env.TUNLOCK_BENCH_VERBOSE === '1') process.stderr.write(`[${name}] ${d}`);
    });
    child.once('exit', (code, signal) => {
      const err = new Error(`worker ${name} exited (${signal ?? code})${this.stderr ? `:\n${this.stderr.trim().slice(-2000)}` : ''}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  /** Starts `node script worker ...args` inside network namespace `ns` (a full namespace name). */
  static start(ns: string, script: string, args: string[], name = `worker@${ns}`, env: NodeJS.ProcessEnv = process.env): NsWorker {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, 'worker', ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    if (child.pid === undefined) throw new Error(`cannot start ${name}`);
    child.stdin!.on('error', () => undefined);
    return new NsWorker(child, name);
  }

  get pid(): number {
    return this.child.pid!;
  }

  private onLine(line: string): void {
    let msg: { re?: number; ok?: boolean; result?: unknown; error?: string; push?: Record<string, unknown> };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      if (line.trim()) process.stderr.write(`[${this.name} stdout] ${line}\n`);
      return;
    }
    if (msg.push) {
      for (const l of this.pushListeners) l(msg.push);
      return;
    }
    if (typeof msg.re !== 'number') return;
    const p = this.pending.get(msg.re);
    if (!p) return;
    this.pending.delete(msg.re);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${this.name}: ${msg.error ?? 'failed'}`));
  }

  call<T>(op: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin!.write(JSON.stringify({ id, op, params }) + '\n');
    });
  }

  onPush(listener: (msg: Record<string, unknown>) => void): void {
    this.pushListeners.add(listener);
  }

  /** Closes stdin (the worker cleans up and exits); SIGKILL by PID if it has not exited after `graceMs`. */
  async close(graceMs = 3000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    const t = setTimeout(() => {
      try {
        process.kill(this.child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

// ── worker side ───────────────────────────────────────────────────────────────────────────────────────

export type Handlers = Record<string, (params: Record<string, unknown>) => Promise<unknown> | unknown>;

/** Sends an unsolicited message to the bench. */
export function push(msg: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ push: msg }) + '\n');
}

/**
 * Serves requests from the bench, one at a time, in order. When stdin closes (the bench is done or died),
 * runs `cleanup` and exits.
 */
export function serveWorker(handlers: Handlers, cleanup: () => Promise<void> | void = () => undefined): void {
  let chain: Promise<void> = Promise.resolve();
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      let req: { id: number; op: string; params?: Record<string, unknown> };
      try {
        req = JSON.parse(line) as typeof req;
      } catch {
        return;
      }
      const h = handlers[req.op];
      try {
        if (!h) throw new Error(`unknown op ${req.op}`);
        const result = await h(req.params ?? {});
        process.stdout.write(JSON.stringify({ re: req.id, ok: true, result: result ?? null }) + '\n');
      } catch (e) {
        process.stdout.write(JSON.stringify({ re: req.id, ok: false, error: (e as Error).stack ?? String(e) }) + '\n');
      }
    });
  });
  rl.on('close', () => {
    void chain
      .then(() => cleanup())
      .catch(() => undefined)
      .finally(() => process.exit(0));
  });
}

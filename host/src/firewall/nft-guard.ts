// Holds the guard table (see GUARD_TABLE in nft-rules.ts) through one long-lived `nft -i` session: the kernel
// ties an owned table to the netlink socket that created it, so the session must live as long as the guard
// should. Each apply is one `include` of a batch file (one transaction), followed by a listing of the guard's
// `tunnels` set whose closing brace tells us the session has finished the batch. stderr is merged into stdout
// so an error is always read before that brace.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirewallError } from './firewall.js';
import { GUARD_TABLE_NAME, TABLE_FAMILY } from './nft-rules.js';

const DONE = /\n\}\n$/;
const TIMEOUT_MS = 10_000;

export class NftGuard {
  private session: ChildProcess | null = null;
  private output = '';
  private waiter: (() => void) | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'tunlock-guard-'));
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly nft: string) {}

  /** Replaces the guard table with `batch` (text rendered for GUARD_TABLE). Applies and drops run in call order. */
  apply(batch: string): Promise<void> {
    return this.enqueue(() => this.applyNow(batch));
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private ensureSession(): ChildProcess {
    if (this.session && this.session.exitCode === null && !this.session.killed) return this.session;
    const child = spawn('sh', ['-c', `exec "$0" -i 2>&1`, this.nft], { stdio: ['pipe', 'pipe', 'ignore'] });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.output += d;
      this.waiter?.();
    });
    child.stdin!.on('error', () => undefined);
    child.on('exit', () => {
      if (this.session === child) this.session = null;
      this.waiter?.();
    });
    this.session = child;
    this.output = '';
    return child;
  }

  private async applyNow(batch: string): Promise<void> {
    const session = this.ensureSession();
    const file = join(this.dir, 'guard.nft');
    writeFileSync(file, batch, { mode: 0o600 });
    this.output = '';
    session.stdin!.write(`include "${file}"\nlist set ${TABLE_FAMILY} ${GUARD_TABLE_NAME} tunnels\n`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new FirewallError(`nft guard session did not answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.waiter = null;
        if (error) reject(error);
        else resolve();
      };
      this.waiter = () => {
        if (/Error:/.test(this.output)) return finish(new FirewallError(`nft refused the guard rules: ${this.output.trim().slice(0, 800)}`));
        if (session.exitCode !== null || this.session !== session) return finish(new FirewallError('nft guard session exited'));
        if (DONE.test(this.output)) finish();
      };
      this.waiter();
    });
  }

  /** Ends the session and waits for it: the kernel removes the guard table with it. The next apply starts anew. */
  drop(): Promise<void> {
    return this.enqueue(() => this.dropNow());
  }

  private async dropNow(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (!s || s.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => s.once('exit', () => resolve()));
    s.stdin?.end();
    s.kill('SIGTERM');
    await exited;
  }

  close(): void {
    void this.drop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

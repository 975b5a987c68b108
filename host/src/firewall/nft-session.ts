// One long-lived `nft -t -i` process for every firewall operation. Starting an `nft` per operation costs
// 3–20 ms each (mostly closing its netlink socket); one session answers a whole batch in ~2 ms. The session
// also owns the guard table (`flags owner` ties a table to the netlink socket that created it).
//
// Commands are written one per line; after each we write a sentinel command that must fail —
// `list table inet tunlock_sync_<n>` — and nft echoes it on stderr. Everything on stderr before that echo
// belongs to the command (an `Error:` there means it failed). A listing is text on stdout, ended by the
// fixed line a `describe` prints (stdout and stderr are separate pipes, so the end must be on stdout).
// `-t` (terse) leaves set elements out of listings: the post-apply check does not need 10,000 of them.
// Text, not JSON: nft 1.0.6 frees the string of a table's single flag before printing it as JSON (the
// guard's `owner`), so a JSON listing that includes the guard prints garbage and corrupts nft's heap.
// `nft -i` keeps every input line in its line editor's history: in memory for the session's life (~100 bytes
// a line), read from and written back to `$HOME/.nft.history` at start and exit. The session gets HOME=/dev/null
// (no file can be read or written below it), and its owner renews a long session (linesSent, renew).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { FirewallError } from './firewall.js';
import { TABLE_FAMILY } from './nft-rules.js';

/** An nft that does not answer within this is killed: the kernel applies a batch whole or not at all. */
export const NFT_TIMEOUT_MS = 10_000;
const END_COMMAND = 'describe meta mark';
const END_LINE = 'meta expression, datatype mark (packet mark) (basetype integer), 32 bits\n';
/** nft's history file goes below $HOME: below /dev/null there is none to read, and none can be written. */
const NO_HOME = '/dev/null';

interface Pending {
  seq: number;
  listing: boolean;
  resolve: (line: string | null) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class NftSession {
  private child: ChildProcess | null = null;
  private stdout = '';
  private stderr = '';
  private seq = 0;
  private pending: Pending | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private lines = 0;

  /** onExit: the session ended (the guard table went with it). */
  constructor(
    private readonly nft: string,
    private readonly onExit: (why: string) => void,
    private readonly timeoutMs = NFT_TIMEOUT_MS,
  ) {}

  /** Runs one command (a listing when `listing`), in call order. Resolves with the text of a listing. */
  run(command: string, listing: boolean): Promise<string | null> {
    if (/[\n\r]/.test(command)) return Promise.reject(new FirewallError('nft command with a line break'));
    const next = this.queue.then(() => this.runNow(command, listing));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private start(): ChildProcess {
    const child = spawn(this.nft, ['-t', '-i'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: NO_HOME } });
    this.stdout = '';
    this.stderr = '';
    this.lines = 0;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.check();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.check();
    });
    child.stdin!.on('error', () => undefined);
    child.on('error', (e) => this.lost(child, `cannot run ${this.nft}: ${e.message}`));
    child.on('exit', (code, signal) => this.lost(child, `nft session exited (${signal ?? code})`));
    this.child = child;
    return child;
  }

  private lost(child: ChildProcess, why: string, hint = 'install nftables (apt-get install nftables)'): void {
    if (this.child !== child) return;
    this.child = null;
    this.fail(new FirewallError(why, hint));
    this.onExit(why);
  }

  private runNow(command: string, listing: boolean): Promise<string | null> {
    const child = this.child ?? this.start();
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // The session is over (its guard table goes with it, onExit says so); the next command starts a new one.
        this.lost(child, `nft did not answer within ${this.timeoutMs} ms (killed): ${command.slice(0, 200)}`, 'the previous rules stay in force; run `tunlock doctor`');
        child.kill('SIGKILL');
      }, this.timeoutMs);
      this.pending = { seq, listing: listing, resolve, reject, timer };
      this.lines += listing ? 3 : 2;
      child.stdin!.write(`${command}\n${listing ? `${END_COMMAND}\n` : ''}list table ${TABLE_FAMILY} tunlock_sync_${seq}\n`);
    });
  }

  private check(): void {
    const p = this.pending;
    if (!p) return;
    const echo = `\nlist table ${TABLE_FAMILY} tunlock_sync_${p.seq}\n`;
    const at = this.stderr.indexOf(echo);
    if (at < 0) return;
    const caretEnd = this.stderr.indexOf('\n', at + echo.length);
    if (caretEnd < 0) return;
    // The sentinel's own "Error: ..." line sits just before its echo; the command's output is before that.
    const sentinelStart = this.stderr.lastIndexOf('Error:', at);
    const own = this.stderr.slice(0, Math.max(0, sentinelStart));
    let listing: string | null = null;
    if (p.listing) {
      // The end marker follows the listing on stdout even when the listing failed.
      const end = this.stdout.indexOf(END_LINE);
      if (end < 0) return; // the listing is still on its way (stdout and stderr are separate pipes)
      listing = this.stdout.slice(0, end);
      this.stdout = this.stdout.slice(end + END_LINE.length);
    }
    this.stderr = this.stderr.slice(caretEnd + 1);
    if (/Error:/.test(own)) this.settle(new FirewallError(own.trim().slice(0, 800)));
    else this.settle(null, listing);
  }

  private settle(error: Error | null, line: string | null = null): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    if (error) p.reject(error);
    else p.resolve(line);
  }

  private fail(error: Error): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.reject(error);
  }

  /** Input lines the running session has kept in its history (0 when none runs). */
  get linesSent(): number {
    return this.child ? this.lines : 0;
  }

  /** The running session's process id (tests), or undefined. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Ends the session after the commands already queued, without reporting it as lost: the caller knows the
   * guard table went with it. The next command starts a new session.
   */
  renew(): Promise<void> {
    const next = this.queue.then(() => this.close());
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Ends the session (the kernel drops the guard table with it). */
  close(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin!.end();
    child.kill('SIGTERM');
    return exited;
  }
}

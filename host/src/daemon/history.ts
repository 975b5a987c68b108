// The lock history (docs/self-test.md): what the lock did, for the user to read (`tunlock history`, the
// options page). One JSON object per line in <state-dir>/history.jsonl, bounded in bytes: the oldest events
// go first when a new one would exceed the bound (a rotating log in one file). Every write replaces the whole
// file atomically (temp file, fsync, rename), so a crash leaves the old or the new history, never a torn line;
// writes are batched per tick so a burst of events costs one write and never delays an apply.
// Read strictly: a line that does not validate is skipped (the history is a record, not a security input).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryEvent } from '../protocol/schema.js';
import { HistoryEvent as HistoryEventSchema } from '../protocol/schema.js';

export const HISTORY_FILE = 'history.jsonl';
export const DEFAULT_HISTORY_BYTES = 256 * 1024;

export interface HistoryStorage {
  readonly dir: string;
  writeAtomically(name: string, text: string, mode: number): void;
}

export class History {
  private lines: string[] = [];
  private bytes = 0;
  private flushScheduled = false;

  constructor(
    private readonly storage: HistoryStorage,
    private readonly log: (message: string) => void,
    readonly maxBytes = DEFAULT_HISTORY_BYTES,
  ) {}

  /** Reads what an earlier daemon wrote; a missing file is an empty history. */
  load(): void {
    let text = '';
    try {
      text = readFileSync(join(this.storage.dir, HISTORY_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log(`history unreadable, starting a new one: ${(e as Error).message}`);
    }
    this.lines = [];
    this.bytes = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        if (HistoryEventSchema.safeParse(JSON.parse(line)).success) this.push(line);
      } catch {
        // not JSON: skipped, like any line that does not validate
      }
    }
  }

  record(event: HistoryEvent): void {
    this.push(JSON.stringify(HistoryEventSchema.parse(event)));
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Oldest first. */
  events(): HistoryEvent[] {
    return this.lines.map((l) => JSON.parse(l) as HistoryEvent);
  }

  /** The last event of a state type (protected/blocking/standby/off/exception). */
  lastState(): HistoryEvent | null {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const e = JSON.parse(this.lines[i]!) as HistoryEvent;
      if (e.previous !== undefined || e.cause !== undefined) return e;
    }
    return null;
  }

  flush(): void {
    this.flushScheduled = false;
    try {
      this.storage.writeAtomically(HISTORY_FILE, this.lines.map((l) => `${l}\n`).join(''), 0o600);
    } catch (e) {
      this.log(`cannot write the history: ${(e as Error).message}`);
    }
  }

  private push(line: string): void {
    const size = Buffer.byteLength(line) + 1;
    if (size > this.maxBytes) return;
    this.lines.push(line);
    this.bytes += size;
    while (this.bytes > this.maxBytes) this.bytes -= Buffer.byteLength(this.lines.shift()!) + 1;
  }
}

// The lock history file: bounded in bytes (oldest events dropped first), written whole and atomically, read
// back after a restart, and strict about what it reads (a line that does not validate is skipped).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { History, HISTORY_FILE } from '../../host/src/daemon/history.js';
import { StateStore } from '../../host/src/daemon/state-store.js';
import type { HistoryEvent } from '../../host/src/protocol/schema.js';

const dirs: string[] = [];
function store(): StateStore {
  const dir = mkdtempSync(join(tmpdir(), 'tunlock-history-'));
  dirs.push(dir);
  return new StateStore(dir);
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const drop = (at: number): HistoryEvent => ({ at, type: 'blocking', cause: 'link', previous: { state: 'protected', ms: 60_000 } });

describe('lock history', () => {
  it('records, flushes atomically and reads back after a restart, oldest first', () => {
    const s = store();
    const h = new History(s, () => undefined);
    h.load();
    h.record(drop(1));
    h.record({ at: 2, type: 'protected', cause: 'link', previous: { state: 'blocking', ms: 1 } });
    h.record({ at: 3, type: 'test', ok: true, passed: 5, total: 5, failed: [] });
    h.flush();
    const again = new History(s, () => undefined);
    again.load();
    expect(again.events().map((e) => e.at)).toEqual([1, 2, 3]);
    expect(again.lastState()).toMatchObject({ type: 'protected' });
    expect(readFileSync(join(s.dir, HISTORY_FILE), 'utf8').split('\n')).toHaveLength(4);
  });

  it('stays within its byte bound, dropping the oldest events first', () => {
    const s = store();
    const h = new History(s, () => undefined, 2048);
    h.load();
    for (let i = 0; i < 500; i++) h.record(drop(i));
    h.flush();
    const size = readFileSync(join(s.dir, HISTORY_FILE)).length;
    expect(size).toBeLessThanOrEqual(2048);
    expect(size).toBeGreaterThan(1500);
    const events = h.events();
    expect(events.at(-1)!.at).toBe(499);
    expect(events[0]!.at).toBeGreaterThan(400);
  });

  it('skips lines that do not validate, and a missing file is an empty history', () => {
    const s = store();
    const h = new History(s, () => undefined);
    h.load();
    expect(h.events()).toEqual([]);
    writeFileSync(join(s.dir, HISTORY_FILE), `not json\n${JSON.stringify({ at: 5, type: 'off', cause: 'request' })}\n{"at":-1,"type":"off"}\n{"at":6,"type":"evil","x":1}\n`);
    h.load();
    expect(h.events()).toEqual([{ at: 5, type: 'off', cause: 'request' }]);
  });

  it('batches a burst of events into one write on the next tick', async () => {
    const s = store();
    let writes = 0;
    const counting = { dir: s.dir, writeAtomically: (n: string, t: string, m: number) => (writes++, s.writeAtomically(n, t, m)) };
    const h = new History(counting, () => undefined);
    for (let i = 0; i < 10; i++) h.record(drop(i));
    expect(writes).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(writes).toBe(1);
  });
});

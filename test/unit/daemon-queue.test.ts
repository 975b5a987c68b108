// Periodic verification must never hold up requests: a kernel listing that takes long (10,000 set elements,
// a loaded machine) runs beside the request queue. A fake firewall whose full listing never returns stands
// for the slowest possible one; requests must still be answered.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../host/src/daemon/daemon.js';
import { StateStore } from '../../host/src/daemon/state-store.js';
import type { Verification } from '../../host/src/firewall/firewall.js';
import { FakeFirewall } from './daemon-fakes.js';

describe('verification and the request queue', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tunlock-queue-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let fullReads = 0;
  // A verify (the full listing) that never answers.
  const firewall = new (class extends FakeFirewall {
    override verify(): Promise<Verification> {
      fullReads++;
      return new Promise(() => undefined);
    }
  })();
  const daemon = new Daemon({ firewall, store: new StateStore(dir), log: () => undefined });
  const root = { uid: 0, gid: 0, pid: 1, pidfd: null };

  it('a verification stuck in the kernel read does not block the next request', async () => {
    await daemon.handle({ id: 1, type: 'setMode', mode: 'always' }, root);
    (daemon as unknown as { scheduleVerify(): void }).scheduleVerify();
    await new Promise((r) => setImmediate(r));
    expect(fullReads).toBe(1);
    const s = await daemon.handle({ id: 2, type: 'setLan', allow: false }, root);
    expect(s).toMatchObject({ mode: 'always', lan: 'block' });
    expect((await daemon.handle({ id: 3, type: 'status' }, root)) as { lan: string }).toMatchObject({ lan: 'block' });
    daemon.stop();
  });
});

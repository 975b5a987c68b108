// The daemon's long-lived `nft -i` session in a real kernel (a throwaway network namespace): nft's line editor
// must not read or write a history file in the home directory, and a session that has kept many lines in its
// history is renewed without the main table ever going and with the guard table written again at once.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftBackend } from '../../host/src/firewall/nft-backend.js';
import { DEFAULT_LAN_RANGES, rootEndpoint } from '../../host/src/firewall/policy.js';
import type { Policy } from '../../host/src/firewall/policy.js';
import { parseEndpoint } from '../../host/src/net/values.js';
import { NetnsFixture } from '../../host/src/process/netns-fixture.js';
import { requireRootOrSkip } from '../helpers/root.js';

const run = requireRootOrSkip('lab: nft-session', ['nft', 'ip']);

const lock: Policy = {
  kind: 'locked',
  bindings: [],
  tunnels: ['wg0'],
  endpoints: [rootEndpoint(parseEndpoint('198.51.100.10:51820/udp'))],
  allowLan: true,
  lanRanges: [...DEFAULT_LAN_RANGES],
  onLink: [],
  captive: null,
};

/** The handle of one of our tables in the namespace, or null when it does not exist (a new table, a new handle). */
function tableHandle(ns: string, table: string): number | null {
  try {
    const text = execFileSync('ip', ['netns', 'exec', ns, 'nft', '-a', '-t', 'list', 'table', 'inet', table], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return Number(/^table inet \S+ \{.*# handle (\d+)/.exec(text)![1]);
  } catch {
    return null;
  }
}

/** Process ids of this test's `nft -t -i` sessions (children of this process, through the wrapper's exec). */
function sessionPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => / nft -t -i$/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe.skipIf(!run)('the nft session in a real kernel', () => {
  let fx: NetnsFixture;
  let ns = '';
  let dir = '';
  let wrapper = '';
  const homeBefore = process.env['HOME'];

  beforeAll(() => {
    fx = NetnsFixture.create({ namespaces: ['nft'], tag: 'nft-session' });
    ns = fx.ns('nft');
    dir = mkdtempSync(join(tmpdir(), 'tunlock-session-'));
    // The backend runs `nft` in the test's namespace through this wrapper, never in the machine's own.
    wrapper = join(dir, 'nft');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} nft "$@"\n`);
    chmodSync(wrapper, 0o755);
  });
  afterAll(() => {
    process.env['HOME'] = homeBefore;
    fx?.destroySync();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads and writes no history file in the home directory (its HOME is /dev/null)', async () => {
    // What nft would use as the daemon's home: a private one for this test (nft writes its history at exit).
    const home = join(dir, 'home');
    mkdirSync(home);
    process.env['HOME'] = home;
    const backend = new NftBackend({ nft: wrapper, workDir: join(dir, 'work-home') });
    try {
      await backend.apply(lock, Date.now());
      expect(await backend.read()).not.toBeNull();
      const [pid] = sessionPids();
      expect(pid).toBeGreaterThan(0);
      // nft finds its history file through HOME, at start (read) and at a normal end (write; a SIGTERM skips it).
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      expect(env.filter((v) => v.startsWith('HOME='))).toEqual(['HOME=/dev/null']);
      backend.close();
      // The session has ended (and written its history, if it writes one) once its process is gone.
      while (sessionPids().includes(pid!)) await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.env['HOME'] = homeBefore;
      backend.close();
    }
    expect(existsSync(join(home, '.nft.history'))).toBe(false);
  });

  it('renews a long session: the main table stays, the guard is written again by the new session', async () => {
    // Renewed after 40 lines: an apply and its read-back send 6–8, each read 3.
    const backend = new NftBackend({ nft: wrapper, workDir: join(dir, 'work-renew'), sessionLines: 40 });
    try {
      await backend.apply(lock, Date.now());
      expect((await backend.read())?.guarded).toBe(true);
      const main = tableHandle(ns, 'tunlock');
      const guard = tableHandle(ns, 'tunlock_guard');
      const [first] = sessionPids();
      expect(main).not.toBeNull();
      expect(guard).not.toBeNull();
      let reads = 0;
      while (sessionPids()[0] === first) {
        expect(++reads).toBeLessThan(40);
        const observed = await backend.read();
        // Every read, the one that renewed the session included, finds both tables.
        expect(observed?.guarded).toBe(true);
        expect(tableHandle(ns, 'tunlock')).toBe(main);
      }
      expect(sessionPids()).toHaveLength(1);
      // A new guard table (new handle) from the new session, which owns it now.
      const renewed = tableHandle(ns, 'tunlock_guard');
      expect(renewed).not.toBeNull();
      expect(renewed).not.toBe(guard);
      expect(execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'tunlock_guard'], { encoding: 'utf8' })).toContain('flags owner');
      // The lock goes on as before: a change in place still works through the new session.
      await backend.apply({ ...lock, allowLan: false }, Date.now());
      expect(tableHandle(ns, 'tunlock')).toBe(main);
    } finally {
      backend.close();
    }
  });
});

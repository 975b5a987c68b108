// Every nft child has a deadline: one that hangs (a wedged netlink socket, a stopped process) is killed and
// the operation fails closed with an error, instead of blocking the daemon's queue forever. A stand-in `nft`
// that never answers plays the hung process; the test checks it is really gone afterwards.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NftBackend } from '../../host/src/firewall/nft-backend.js';
import { FirewallError } from '../../host/src/firewall/firewall.js';
import { DEFAULT_LAN_RANGES, rootEndpoint } from '../../host/src/firewall/policy.js';
import type { Policy } from '../../host/src/firewall/policy.js';
import { parseEndpoint } from '../../host/src/net/values.js';

const dir = mkdtempSync(join(tmpdir(), 'tunlock-nft-timeout-'));
const pids = join(dir, 'pids');
const hung = join(dir, 'nft');
writeFileSync(hung, `#!/bin/sh\necho $$ >> ${pids}\nexec sleep 600\n`);
chmodSync(hung, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lan = [...DEFAULT_LAN_RANGES];
const policy: Policy = {
  kind: 'locked',
  endpoints: [rootEndpoint(parseEndpoint('198.51.100.10:51820/udp'))],
  onLink: [],
  captive: null,
  bindings: [],
  tunnels: ['wg0'],
  allowLan: true,
  lanRanges: lan,
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (!alive(pid)) return true;
  return false;
}

function lastPid(): number {
  return Number(readFileSync(pids, 'utf8').trim().split('\n').pop());
}

describe('nft children have a deadline', () => {
  it('an apply whose nft never answers fails with an error and the nft is killed', async () => {
    const fw = new NftBackend({ nft: hung, workDir: join(dir, 'work'), timeoutMs: 300 });
    const err = await fw.apply(policy, Date.now()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirewallError);
    expect((err as Error).message).toMatch(/did not answer within 300 ms \(killed\)/);
    expect(await gone(lastPid())).toBe(true);
    fw.close();
  });

  it('a full read (the tamper check) whose nft never answers fails and the nft is killed', async () => {
    const fw = new NftBackend({ nft: hung, workDir: join(dir, 'work'), timeoutMs: 300 });
    await expect(fw.read({ full: true })).rejects.toThrow(/did not answer within 300 ms \(killed\)/);
    expect(await gone(lastPid())).toBe(true);
    fw.close();
  });
});

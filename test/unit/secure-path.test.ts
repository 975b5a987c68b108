// The daemon refuses state and socket directories that anyone but root could change (secure-path.ts).
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UnsafePathError, checkRootOnlyDir } from '../../host/src/daemon/secure-path.js';
import { requireRootOrSkip } from '../helpers/root.js';

const base = mkdtempSync(join(tmpdir(), 'tunlock-secure-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function fresh(name: string, mode = 0o755): string {
  const p = join(base, name);
  mkdirSync(p, { recursive: true });
  chmodSync(p, mode);
  return p;
}

function refusal(dir: string): string {
  try {
    checkRootOnlyDir(dir, 'the state directory');
  } catch (e) {
    if (e instanceof UnsafePathError) return e.message;
    throw e;
  }
  return 'accepted';
}

// Ownership needs chown: these run as root (a non-root run cannot build the cases: it skips loudly, and fails
// under CI=true, through the one root gate).
describe.runIf(requireRootOrSkip('unit: secure-path (chown)'))('checkRootOnlyDir', () => {
  it("accepts root's directory below sticky /tmp", () => {
    expect(refusal(fresh('ok', 0o700))).toBe('accepted');
  });

  it('refuses the directory when group or others may write it, even with the sticky bit', () => {
    expect(refusal(fresh('gw', 0o770))).toMatch(/writable by its group/);
    expect(refusal(fresh('sticky', 0o1777))).toMatch(/writable by its group and other users/);
  });

  it('refuses a directory owned by another user, or below one', () => {
    const user = fresh('user');
    chownSync(user, 65534, 65534);
    expect(refusal(user)).toMatch(/owned by uid 65534, not root/);
    const below = fresh('user/state', 0o700);
    expect(refusal(below)).toMatch(/user is owned by uid 65534/);
  });

  it('refuses a directory below one others may write without the sticky bit', () => {
    fresh('open', 0o777);
    expect(refusal(fresh('open/state', 0o700))).toMatch(/open is writable by its group and other users/);
  });

  it('checks where a link leads, and the link itself', () => {
    const user = fresh('owner2');
    chownSync(user, 65534, 65534);
    const target = fresh('owner2/real', 0o700);
    symlinkSync(target, join(base, 'link'));
    expect(refusal(join(base, 'link'))).toMatch(/owner2 is owned by uid 65534/);
  });
});

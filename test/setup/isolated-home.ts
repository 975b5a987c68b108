// Global setup for every tier: tests never see or write the real home. Each run gets a throwaway HOME (and
// XDG dirs) that every test process and everything it starts inherits — tunlock-host's last-contact file,
// browser profiles' stray files and the CLI's per-user paths land there. At the end, the real home's
// last-contact file must be exactly as before (fails under CI=true): `tunlock doctor` must never be fooled by a
// test run.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastContactPath } from '../../host/src/common/paths';

function stamp(path: string): string {
  try {
    return String(statSync(path).mtimeMs);
  } catch {
    return 'absent';
  }
}

export default function setup(): () => void {
  const realContact = lastContactPath({}, homedir());
  const before = stamp(realContact);
  const home = mkdtempSync(join(tmpdir(), 'tunlock-test-home-'));
  process.env.HOME = home;
  process.env.XDG_STATE_HOME = join(home, '.local', 'state');
  process.env.XDG_CONFIG_HOME = join(home, '.config');
  return () => {
    rmSync(home, { recursive: true, force: true });
    const after = stamp(realContact);
    if (after === before) return;
    const msg = `the real home's ${realContact} changed during the test run (${before} → ${after}): tests must use their own HOME`;
    // On a shared development machine another checkout's run may touch it; CI runs alone, so there it fails.
    if (process.env.CI === 'true') throw new Error(msg);
    console.warn(`\n*** WARNING: ${msg} (another test run on this machine?) ***\n`);
  };
}

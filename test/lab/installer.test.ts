// A real install and uninstall inside a throwaway network namespace: files under a temporary root, the
// daemon started by the installer's own `start` command inside the namespace (no systemd), a lock that
// really blocks a neighbour namespace, the early-boot unit's own commands re-creating the block with nothing
// but nft, and an uninstall that leaves no table, no process and no file behind. Never touches the
// machine's own firewall, /etc or services; namespaces, temp dirs and processes are cleaned up on every path.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bundlePrograms } from '../../host/bundle.mjs';
import { NetnsLab } from '../../installer/src/netns-lab';
import { diff, snapshot } from '../../installer/src/tree';
import { requireRootOrSkip } from '../helpers/root.js';

function labGate(): boolean {
  return !requireRootOrSkip('lab tier "installer"', ['ip', 'nft', 'ping']);
}
const skip = labGate();

const NODE = process.execPath;
const hashes = (files: string[]) => files.map((f) => (existsSync(f) ? createHash('sha256').update(readFileSync(f)).digest('hex') : 'none'));
const shadowBackups = (rel: string) => rel === 'etc/group-' || rel === 'etc/gshadow-';

/** The programs, built fresh from source into a temporary dist (independent of host/dist's state), as host/build.mjs builds them. */
async function buildDist(): Promise<string> {
  const dist = mkdtempSync(join(tmpdir(), 'tunlock-labdist-'));
  const entries: Record<string, string> = {
    tunlockd: 'host/src/daemon/main.ts',
    tunlock: 'host/src/cli/main.ts',
    'tunlock-install': 'installer/src/main.ts',
  };
  if (existsSync('host/src/native-host/main.ts')) entries['tunlock-host'] = 'host/src/native-host/main.ts';
  else writeFileSync(join(dist, 'tunlock-host.js'), '// tunlock-host is not built yet (host/src/native-host/main.ts missing)\n');
  await bundlePrograms(dist, entries);
  mkdirSync(join(dist, 'hooks'));
  for (const h of readdirSync('installer/src/hooks')) copyFileSync(join('installer/src/hooks', h), join(dist, 'hooks', h));
  mkdirSync(join(dist, 'completion'));
  for (const c of readdirSync('installer/src/completion')) copyFileSync(join('installer/src/completion', c), join(dist, 'completion', c));
  return dist;
}

/** A systemd unit line's command (ExecStart= / ExecCondition=), with the state dir moved under the root. */
function unitCommand(unit: string, key: string, stateDir: string): string {
  const line = unit.split('\n').find((l) => l.startsWith(`${key}=`));
  if (!line) throw new Error(`no ${key}= in the unit`);
  return line.slice(key.length + 1).replaceAll('/var/lib/tunlock', stateDir);
}

describe.skipIf(skip)('installer in a lab namespace', () => {
  let lab: NetnsLab;
  let dist: string;
  let before: ReturnType<typeof snapshot>;
  let realBefore: string[];
  let daemonPid = 0;
  /** what happened before and during this test's install (every test starts from its own fresh install) */
  let reachedPeerBeforeInstall: boolean;
  let installed: ReturnType<NetnsLab['exec']>;
  const lib = () => join(lab.root, 'usr/local/lib/tunlock');
  const sock = () => join(lab.root, 'run/tunlock/tunlockd.sock');
  const tunlock = (...args: string[]) => lab.exec([NODE, join(lib(), 'tunlock.js'), '--socket', sock(), '--json', ...args]);
  const installer = (...args: string[]) => lab.exec([NODE, join(lib(), 'tunlock-install.js'), ...args, '--root', lab.root]);
  const pidOf = () => Number(readFileSync(join(lab.root, 'run/tunlock/tunlockd.pid'), 'utf8').trim());
  const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

  beforeAll(async () => {
    realBefore = hashes(['/etc/group', '/etc/gshadow', '/etc/passwd']);
    dist = await buildDist();
  });
  afterAll(() => {
    if (dist) rmSync(dist, { recursive: true, force: true });
    // Nothing leaked into the machine.
    expect(hashes(['/etc/group', '/etc/gshadow', '/etc/passwd'])).toEqual(realBefore);
  });

  // Each test gets its own lab and its own install (the daemon started with the installer's own command), so
  // none depends on what an earlier one left behind.
  beforeEach(() => {
    lab = new NetnsLab();
    lab.seedRoot('labuser', 4242);
    before = snapshot(lab.root, shadowBackups);
    lab.up();
    reachedPeerBeforeInstall = lab.canReachPeer();
    installed = lab.exec([NODE, join(dist, 'tunlock-install.js'), 'install', '--root', lab.root, '--user', 'labuser', '--dist', dist, '--live']);
    if (installed.status !== 0) throw new Error(`install failed (${installed.status}):\n${installed.stdout}${installed.stderr}`);
    daemonPid = pidOf();
  });
  afterEach(() => {
    // The daemon runs inside the lab namespace: the fixture's teardown kills it with everything else there.
    lab?.cleanup();
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(lab.id);
  });

  it('installs into the root and starts the daemon inside the namespace with its own command', () => {
    expect(reachedPeerBeforeInstall).toBe(true);
    const r = installed;
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/started tunlockd \(pid \d+\) with the installer's own command/);
    expect(alive(daemonPid)).toBe(true);
    // It runs in the lab namespace, not the machine's.
    expect(readlinkSync(`/proc/${daemonPid}/ns/net`)).toBe(`net:[${statSync(`/run/netns/${lab.client}`).ino}]`);
    expect(readFileSync(join(lab.root, 'etc/group'), 'utf8')).toMatch(/^tunlock:x:\d+:labuser$/m);
    const st = tunlock('status');
    expect(st.status).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ mode: 'off', state: 'off' });
  });

  it('protects the namespace: lock always blocks v4 and v6 to the neighbour; off lets it through', () => {
    expect(tunlock('lock', 'always').status).toBe(0);
    expect(JSON.parse(tunlock('status').stdout)).toMatchObject({ mode: 'always', state: 'blocking' });
    expect(lab.table()).toMatch(/table inet tunlock/);
    expect(lab.canReachPeer()).toBe(false);
    expect(lab.canReachPeer(true)).toBe(false);
    expect(tunlock('lock', 'off').status).toBe(0);
    expect(lab.canReachPeer()).toBe(true);
    expect(lab.canReachPeer(true)).toBe(true);
  });

  it('the early-boot unit\'s own commands restore the saved "always" block with nft alone, and skip otherwise', () => {
    const unit = readFileSync(join(lab.root, 'etc/systemd/system/tunlock-boot.service'), 'utf8');
    const stateDir = join(lab.root, 'var/lib/tunlock');
    const bootFile = join(stateDir, 'boot.nft');
    expect(unit).toContain(`ConditionPathExists=/var/lib/tunlock/boot.nft`);
    const start = unitCommand(unit, 'ExecStart', stateDir);
    expect(start).toBe(`/usr/sbin/nft -f ${stateDir}/boot.nft`);

    // Mode off is saved: there is no boot.nft, so systemd skips the unit (ConditionPathExists).
    expect(existsSync(bootFile)).toBe(false);

    // Mode always saved, then "reboot": daemon gone, table gone, nothing but the unit's commands.
    expect(tunlock('lock', 'always').status).toBe(0);
    expect(installer('stop').status).toBe(0);
    expect(alive(daemonPid)).toBe(false);
    expect(lab.exec(['nft', 'delete', 'table', 'inet', 'tunlock']).status).toBe(0);
    expect(lab.canReachPeer()).toBe(true);
    expect(existsSync(bootFile)).toBe(true);
    const loaded = lab.exec(['sh', '-c', start]);
    expect(loaded.stderr).toBe('');
    expect(loaded.status).toBe(0);
    expect(lab.canReachPeer()).toBe(false);
    expect(lab.canReachPeer(true)).toBe(false);

    // The daemon takes over from the boot rules.
    const again = installer('start');
    expect(again.status).toBe(0);
    daemonPid = pidOf();
    expect(JSON.parse(tunlock('status').stdout)).toMatchObject({ mode: 'always', state: 'blocking' });
    expect(lab.canReachPeer()).toBe(false);
  });

  it('uninstall (locked) stops the daemon, removes the table and every file: the root is as before', () => {
    expect(tunlock('lock', 'always').status).toBe(0);
    expect(lab.canReachPeer()).toBe(false);
    const r = installer('uninstall', '--live');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/removed firewall table inet tunlock/);
    expect(alive(daemonPid)).toBe(false);
    expect(lab.table()).toBeNull();
    expect(lab.tables()).not.toMatch(/tunlock/);
    expect(lab.canReachPeer()).toBe(true);
    expect(lab.canReachPeer(true)).toBe(true);
    expect(diff(before, snapshot(lab.root, shadowBackups))).toEqual([]);
  });
});

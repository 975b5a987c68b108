// Install into a temporary root (--root), check every file with its mode, owner and content, verify the
// units with systemd-analyze, then uninstall and diff the tree against the snapshot taken before.
// Root-only (files are chowned, groups created with the shadow tools under --prefix ROOT): skips LOUDLY when
// not root, fails when CI=true and not root. Never touches the machine's own /etc, firewall or services.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHROMIUM_ORIGIN, FIREFOX_ADDON_ID } from '../../host/src/common/extension-ids';
import { DIST_FILES, install } from '../../installer/src/install';
import { Layout } from '../../installer/src/layout';
import { readRecord } from '../../installer/src/record';
import { diff, snapshot } from '../../installer/src/tree';
import { uninstall } from '../../installer/src/uninstall';
import { requireRootOrSkip } from '../helpers/root.js';

function rootSkip(name: string): boolean {
  return !requireRootOrSkip(`${name} (it chowns files and runs groupadd --prefix in a temporary root)`);
}
const skip = rootSkip('installer-install');

const UID = 4242;
const NODE = process.execPath;
const quiet = () => undefined;
// shadow-utils keeps its previous version of the group files as group-/gshadow- (as on every real system).
const shadowBackups = (rel: string) => rel === 'etc/group-' || rel === 'etc/gshadow-';
const realGroupFiles = () => ['/etc/group', '/etc/gshadow', '/etc/passwd'].map((f) => (existsSync(f) ? createHash('sha256').update(readFileSync(f)).digest('hex') : 'none'));

let dist: string;
let root: string;

function makeDist(): string {
  const d = mkdtempSync(join(tmpdir(), 'tunlock-dist-'));
  for (const f of DIST_FILES) writeFileSync(join(d, f), f === 'package.json' ? '{ "type": "module" }\n' : `// stub ${f}\n`);
  mkdirSync(join(d, 'node_modules/koffi'), { recursive: true });
  writeFileSync(join(d, 'node_modules/koffi/package.json'), '{ "name": "koffi" }\n');
  mkdirSync(join(d, 'node_modules/@koromix/koffi-linux-x64/linux_x64'), { recursive: true });
  writeFileSync(join(d, 'node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node'), 'stub binary\n');
  mkdirSync(join(d, 'hooks'));
  for (const h of readdirSync('installer/src/hooks')) copyFileSync(join('installer/src/hooks', h), join(d, 'hooks', h));
  mkdirSync(join(d, 'completion'));
  for (const c of readdirSync('installer/src/completion')) copyFileSync(join('installer/src/completion', c), join(d, 'completion', c));
  return d;
}

/** A small Debian-like root: users, groups, NetworkManager with someone else's script, Opera and Firefox profiles. */
function makeRoot(): string {
  const r = mkdtempSync(join(tmpdir(), 'tunlock-root-'));
  mkdirSync(join(r, 'etc/NetworkManager/dispatcher.d'), { recursive: true });
  writeFileSync(join(r, 'etc/NetworkManager/dispatcher.d/01-other'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(r, 'etc/passwd'), `root:x:0:0:root:/root:/bin/bash\nalice:x:${UID}:${UID}::/home/alice:/bin/bash\nbob:x:4243:4243::/home/bob:/bin/bash\n`);
  writeFileSync(join(r, 'etc/group'), `root:x:0:\nalice:x:${UID}:\nbob:x:4243:\n`);
  writeFileSync(join(r, 'etc/gshadow'), 'root:*::\nalice:!::\nbob:!::\n', { mode: 0o640 });
  mkdirSync(join(r, 'usr/lib64'), { recursive: true });
  for (const d of ['home/alice/.config/opera', 'home/alice/.mozilla/firefox']) mkdirSync(join(r, d), { recursive: true });
  for (const d of ['home/alice', 'home/alice/.config', 'home/alice/.config/opera', 'home/alice/.mozilla', 'home/alice/.mozilla/firefox']) chownSync(join(r, d), UID, UID);
  return r;
}

function entry(rel: string): { type: string; mode: string; owner: string } {
  const st = lstatSync(join(root, rel));
  return {
    type: st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file',
    mode: (st.mode & 0o7777).toString(8),
    owner: `${st.uid}:${st.gid}`,
  };
}
const read = (rel: string) => readFileSync(join(root, rel), 'utf8');

/** Every path the install must create, with type, mode and owner. */
const EXPECTED: Record<string, [type: string, mode: string, owner: string]> = {
  'usr/local': ['dir', '755', '0:0'],
  'usr/local/bin': ['dir', '755', '0:0'],
  'usr/local/bin/tunlock': ['file', '755', '0:0'],
  'usr/local/lib': ['dir', '755', '0:0'],
  'usr/local/lib/tunlock': ['dir', '755', '0:0'],
  'usr/local/lib/tunlock/tunlockd.js': ['file', '644', '0:0'],
  'usr/local/lib/tunlock/tunlock.js': ['file', '644', '0:0'],
  'usr/local/lib/tunlock/tunlock-host.js': ['file', '644', '0:0'],
  'usr/local/lib/tunlock/tunlock-install.js': ['file', '644', '0:0'],
  'usr/local/lib/tunlock/package.json': ['file', '644', '0:0'],
  'usr/local/lib/tunlock/node_modules': ['dir', '755', '0:0'],
  'usr/local/lib/tunlock/node_modules/koffi': ['dir', '755', '0:0'],
  'usr/local/lib/tunlock/node_modules/koffi/package.json': ['file', '644', '0:0'],
  'usr/local/lib/tunlock/node_modules/@koromix': ['dir', '755', '0:0'],
  'usr/local/lib/tunlock/node_modules/@koromix/koffi-linux-x64': ['dir', '755', '0:0'],
  'usr/local/lib/tunlock/node_modules/@koromix/koffi-linux-x64/linux_x64': ['dir', '755', '0:0'],
  'usr/local/lib/tunlock/node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node': ['file', '644', '0:0'],
  'usr/local/lib/tunlock/installed.json': ['file', '644', '0:0'],
  'usr/local/lib/tunlock/bin': ['dir', '755', '0:0'],
  'usr/local/lib/tunlock/bin/tunlock-host': ['file', '755', '0:0'],
  'usr/local/lib/tunlock/bin/tunlock-install': ['file', '755', '0:0'],
  'usr/local/lib/tunlock/hooks': ['dir', '755', '0:0'],
  'usr/local/lib/tunlock/hooks/wg-quick.sh': ['file', '755', '0:0'],
  'usr/local/lib/tunlock/hooks/openvpn-updown.sh': ['file', '755', '0:0'],
  'usr/local/lib/tunlock/hooks/networkmanager-dispatcher.sh': ['file', '755', '0:0'],
  'usr/local/lib/tunlock/hooks/wg-quick-snippet.conf': ['file', '644', '0:0'],
  'usr/local/lib/tunlock/completion': ['dir', '755', '0:0'],
  'usr/local/lib/tunlock/completion/tunlock.bash': ['file', '644', '0:0'],
  'usr/local/lib/tunlock/completion/_tunlock': ['file', '644', '0:0'],
  'usr/local/share': ['dir', '755', '0:0'],
  'usr/local/share/bash-completion': ['dir', '755', '0:0'],
  'usr/local/share/bash-completion/completions': ['dir', '755', '0:0'],
  'usr/local/share/bash-completion/completions/tunlock': ['file', '644', '0:0'],
  'usr/local/share/zsh': ['dir', '755', '0:0'],
  'usr/local/share/zsh/site-functions': ['dir', '755', '0:0'],
  'usr/local/share/zsh/site-functions/_tunlock': ['file', '644', '0:0'],
  'etc/systemd': ['dir', '755', '0:0'],
  'etc/systemd/system': ['dir', '755', '0:0'],
  'etc/systemd/system/tunlockd.service': ['file', '644', '0:0'],
  'etc/systemd/system/tunlock-boot.service': ['file', '644', '0:0'],
  'etc/systemd/system/multi-user.target.wants': ['dir', '755', '0:0'],
  'etc/systemd/system/multi-user.target.wants/tunlockd.service': ['link', '777', '0:0'],
  'etc/systemd/system/sysinit.target.wants': ['dir', '755', '0:0'],
  'etc/systemd/system/sysinit.target.wants/tunlock-boot.service': ['link', '777', '0:0'],
  'etc/tmpfiles.d': ['dir', '755', '0:0'],
  'etc/tmpfiles.d/tunlock.conf': ['file', '644', '0:0'],
  'etc/NetworkManager/dispatcher.d/90-tunlock': ['file', '755', '0:0'],
  'etc/NetworkManager/dispatcher.d/pre-down.d': ['dir', '755', '0:0'],
  'etc/NetworkManager/dispatcher.d/pre-down.d/90-tunlock': ['link', '777', '0:0'],
  'etc/opt': ['dir', '755', '0:0'],
  'etc/opt/chrome': ['dir', '755', '0:0'],
  'etc/opt/chrome/native-messaging-hosts': ['dir', '755', '0:0'],
  'etc/opt/chrome/native-messaging-hosts/dev.tunlock.host.json': ['file', '644', '0:0'],
  'etc/opt/vivaldi': ['dir', '755', '0:0'],
  'etc/opt/vivaldi/native-messaging-hosts': ['dir', '755', '0:0'],
  'etc/opt/vivaldi/native-messaging-hosts/dev.tunlock.host.json': ['file', '644', '0:0'],
  'etc/chromium': ['dir', '755', '0:0'],
  'etc/chromium/native-messaging-hosts': ['dir', '755', '0:0'],
  'etc/chromium/native-messaging-hosts/dev.tunlock.host.json': ['file', '644', '0:0'],
  'usr/lib': ['dir', '755', '0:0'],
  'usr/lib/mozilla': ['dir', '755', '0:0'],
  'usr/lib/mozilla/native-messaging-hosts': ['dir', '755', '0:0'],
  'usr/lib/mozilla/native-messaging-hosts/dev.tunlock.host.json': ['file', '644', '0:0'],
  'usr/lib64/mozilla': ['dir', '755', '0:0'],
  'usr/lib64/mozilla/native-messaging-hosts': ['dir', '755', '0:0'],
  'usr/lib64/mozilla/native-messaging-hosts/dev.tunlock.host.json': ['file', '644', '0:0'],
  // Opera has no system location: a per-user manifest, owned by the user.
  'home/alice/.config/opera/NativeMessagingHosts': ['dir', '755', `${UID}:${UID}`],
  'home/alice/.config/opera/NativeMessagingHosts/dev.tunlock.host.json': ['file', '644', `${UID}:${UID}`],
};

describe.skipIf(skip)('install into --root, uninstall back to the same tree', () => {
  let before: ReturnType<typeof snapshot>;
  let realBefore: string[];

  beforeAll(() => {
    dist = makeDist();
  });
  afterAll(() => {
    rmSync(dist, { recursive: true, force: true });
  });
  beforeEach((ctx) => {
    root = makeRoot();
    before = snapshot(root, shadowBackups);
    realBefore = realGroupFiles();
    ctx.onTestFinished(() => {
      // The machine's own account files are never touched, whatever the test did.
      expect(realGroupFiles()).toEqual(realBefore);
      rmSync(root, { recursive: true, force: true });
    });
  });

  it('creates exactly the expected files, modes and owners, and uninstall restores the tree', async () => {
    const { record } = await install({ root, dist, user: 'alice', node: NODE, log: quiet });
    const after = snapshot(root, shadowBackups);
    const added = diff(before, after).filter((l) => l.startsWith('+ ')).map((l) => l.slice(2).split(' (')[0]!);
    const changed = diff(before, after).filter((l) => !l.startsWith('+ '));
    // Only /etc/group and /etc/gshadow change in place (group tunlock, alice in it).
    expect(changed.map((l) => l.split(':')[0]).sort()).toEqual(['~ etc/group', '~ etc/gshadow']);
    expect(added.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [rel, [type, mode, owner]] of Object.entries(EXPECTED)) {
      expect({ rel, ...entry(rel) }).toEqual({ rel, type, mode: type === 'link' ? entry(rel).mode : mode, owner });
    }
    expect(read('etc/group')).toMatch(/^tunlock:x:\d+:alice$/m);
    expect(read('etc/gshadow')).toMatch(/^tunlock:!*:.*:alice$/m);
    expect(record.entries.filter((e) => e.kind === 'group' || e.kind === 'member')).toEqual([
      { kind: 'group', name: 'tunlock' },
      { kind: 'member', user: 'alice', group: 'tunlock' },
    ]);
    expect(record.entries.filter((e) => e.kind === 'runtime' || (e.kind === 'dir' && /^\/(var|run)|\.local/.test(e.path))).map((e) => 'path' in e && e.path)).toEqual([
      '/var',
      '/var/lib',
      '/var/lib/tunlock',
      '/run',
      '/run/tunlock',
      '/home/alice/.local',
      '/home/alice/.local/state',
      '/home/alice/.local/state/tunlock',
    ]);

    await uninstall({ root, log: quiet });
    expect(diff(before, snapshot(root, shadowBackups))).toEqual([]);
  });

  it('writes contents that name installed paths, never the install root', async () => {
    await install({ root, dist, user: 'alice', node: NODE, log: quiet });
    for (const rel of Object.keys(EXPECTED).filter((r) => EXPECTED[r]![0] === 'file')) {
      expect(read(rel), rel).not.toContain(root);
    }
    expect(read('usr/local/bin/tunlock')).toBe(`#!/bin/sh\n# Installed by tunlock.\nexec ${NODE} /usr/local/lib/tunlock/tunlock.js "$@"\n`);
    expect(read('usr/local/lib/tunlock/bin/tunlock-host')).toContain(`exec ${NODE} /usr/local/lib/tunlock/tunlock-host.js "$@"`);
    const chrome = JSON.parse(read('etc/opt/chrome/native-messaging-hosts/dev.tunlock.host.json'));
    expect(chrome).toMatchObject({ name: 'dev.tunlock.host', type: 'stdio', path: '/usr/local/lib/tunlock/bin/tunlock-host', allowed_origins: [CHROMIUM_ORIGIN] });
    expect(chrome.allowed_extensions).toBeUndefined();
    const firefox = JSON.parse(read('usr/lib/mozilla/native-messaging-hosts/dev.tunlock.host.json'));
    expect(firefox).toMatchObject({ path: '/usr/local/lib/tunlock/bin/tunlock-host', allowed_extensions: [FIREFOX_ADDON_ID] });
    expect(firefox.allowed_origins).toBeUndefined();
    expect(JSON.parse(read('home/alice/.config/opera/NativeMessagingHosts/dev.tunlock.host.json')).allowed_origins).toEqual([CHROMIUM_ORIGIN]);
    const daemon = read('etc/systemd/system/tunlockd.service');
    expect(daemon).toContain(`ExecStart=${NODE} /usr/local/lib/tunlock/tunlockd.js --socket /run/tunlock/tunlockd.sock --state-dir /var/lib/tunlock`);
    expect(daemon).toMatch(/^Restart=on-failure$/m);
    expect(daemon).not.toMatch(/^User=/m);
    const boot = read('etc/systemd/system/tunlock-boot.service');
    expect(boot).toMatch(/^Before=network-pre\.target /m);
    expect(boot).toMatch(/^DefaultDependencies=no$/m);
    expect(boot).toContain('ExecStart=/usr/sbin/nft -f /var/lib/tunlock/boot.nft');
    expect(boot).not.toMatch(/node/);
    expect(read('etc/tmpfiles.d/tunlock.conf')).toContain('d /run/tunlock 0750 root tunlock -');
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/tunlockd.service'))).toBe('/etc/systemd/system/tunlockd.service');
    expect(readlinkSync(join(root, 'etc/NetworkManager/dispatcher.d/pre-down.d/90-tunlock'))).toBe('../90-tunlock');
    for (const h of ['wg-quick.sh', 'openvpn-updown.sh', 'networkmanager-dispatcher.sh']) {
      const text = read(`usr/local/lib/tunlock/hooks/${h}`);
      expect(text).toContain('TUNLOCK=${TUNLOCK_BIN:-/usr/local/bin/tunlock}');
      expect(text).not.toContain('@TUNLOCK@');
    }
    expect(read('usr/local/lib/tunlock/hooks/wg-quick-snippet.conf')).toContain('PreDown = /usr/local/lib/tunlock/hooks/wg-quick.sh down %i');
  });

  it('systemd-analyze verify passes on the units, with no warning (and flags a broken one)', async () => {
    const which = spawnSync('sh', ['-c', 'command -v systemd-analyze']);
    if (which.status !== 0) {
      if (process.env.CI === 'true') throw new Error('systemd-analyze missing (apt-get install -y systemd)');
      console.warn('!!!!!!!! systemd-analyze not installed: unit verification SKIPPED !!!!!!!!');
      return;
    }
    await install({ root, dist, user: 'alice', node: NODE, log: quiet });
    const units = ['tunlockd.service', 'tunlock-boot.service'].map((u) => join(root, 'etc/systemd/system', u));
    const r = spawnSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8' });
    expect(r.stderr.split('\n').filter((l) => /tunlock/.test(l))).toEqual([]);
    expect(r.status).toBe(0);
    const broken = join(root, 'broken-tunlock.service');
    writeFileSync(broken, read('etc/systemd/system/tunlockd.service').replace('Restart=on-failure', 'Restart=sometimes'));
    const bad = spawnSync('systemd-analyze', ['verify', broken], { encoding: 'utf8' });
    // systemd only warns about a bad directive: a warning naming our unit is what counts as a failure.
    expect(bad.stderr.split('\n').filter((l) => /tunlock/.test(l)).join('\n')).toMatch(/restart specifier/);
    rmSync(broken);
  });

  it('keeps what was there before: an existing group and membership, other dispatcher scripts', async () => {
    writeFileSync(join(root, 'etc/group'), `root:x:0:\nalice:x:${UID}:\nbob:x:4243:\ntunlock:x:990:bob,alice\n`);
    before = snapshot(root, shadowBackups);
    const { record } = await install({ root, dist, user: 'alice', node: NODE, log: quiet });
    expect(record.entries.some((e) => e.kind === 'group' || e.kind === 'member')).toBe(false);
    expect(read('etc/group')).toContain('tunlock:x:990:bob,alice');
    await uninstall({ root, log: quiet });
    expect(diff(before, snapshot(root, shadowBackups))).toEqual([]);
    expect(read('etc/group')).toContain('tunlock:x:990:bob,alice');
    expect(existsSync(join(root, 'etc/NetworkManager/dispatcher.d/01-other'))).toBe(true);
  });

  it('re-installing upgrades in place and still uninstalls to the same tree; runtime files go too', async () => {
    await install({ root, dist, user: 'alice', node: NODE, log: quiet });
    writeFileSync(join(dist, 'tunlockd.js'), '// stub tunlockd.js v2\n');
    const { record } = await install({ root, dist, user: 'alice', node: NODE, log: quiet });
    expect(read('usr/local/lib/tunlock/tunlockd.js')).toBe('// stub tunlockd.js v2\n');
    expect(record.entries.filter((e) => e.kind === 'group' || e.kind === 'member')).toHaveLength(2);
    // What the daemon and the host create at run time is removed with the rest.
    for (const d of ['var/lib/tunlock', 'run/tunlock', 'home/alice/.local/state/tunlock']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'var/lib/tunlock/state.json'), '{}');
    writeFileSync(join(root, 'home/alice/.local/state/tunlock/last-contact'), '');
    await uninstall({ root, log: quiet });
    // Their parents (~/.local/state, /var/lib, /run here) did not exist at install time: they go too.
    expect(diff(before, snapshot(root, shadowBackups))).toEqual([]);
    writeFileSync(join(dist, 'tunlockd.js'), '// stub tunlockd.js\n');
  });

  it('uninstall never follows a symlink the user swapped in (30 root-owned files stay), and keeps files the admin edited', async () => {
    await install({ root, dist, user: 'alice', node: NODE, log: quiet });
    // Root's files the swapped links point at.
    const victim = join(root, 'etc/important');
    mkdirSync(victim);
    for (let i = 0; i < 30; i++) writeFileSync(join(victim, `file-${i}`), `root's ${i}\n`);
    writeFileSync(join(victim, 'dev.tunlock.host.json'), "root's, same name as our manifest\n");
    // alice (who owns her home) replaces the runtime directory and the manifest directory with links.
    const state = join(root, 'home/alice/.local/state/tunlock');
    rmSync(state, { recursive: true, force: true });
    mkdirSync(dirname(state), { recursive: true });
    symlinkSync(victim, state);
    const hosts = join(root, 'home/alice/.config/opera/NativeMessagingHosts');
    rmSync(hosts, { recursive: true });
    symlinkSync(victim, hosts);
    // The admin edited a unit file since install.
    const unit = join(root, 'etc/systemd/system/tunlockd.service');
    writeFileSync(unit, `${read('etc/systemd/system/tunlockd.service')}# local tweak\n`);
    const lines: string[] = [];
    const { kept } = await uninstall({ root, log: (l) => lines.push(l) });
    expect(readdirSync(victim)).toHaveLength(31);
    for (let i = 0; i < 30; i++) expect(readFileSync(join(victim, `file-${i}`), 'utf8')).toBe(`root's ${i}\n`);
    // The link itself (alice's, in her home) may go; nothing behind it does.
    expect(lstatSync(state, { throwIfNoEntry: false })).toBeUndefined();
    expect(kept.join('\n')).toMatch(/NativeMessagingHosts\/dev.tunlock.host.json \(a symlink where tunlock made a directory: left alone\)/);
    expect(readFileSync(unit, 'utf8')).toMatch(/# local tweak/);
    expect(lines.join('\n')).toMatch(/kept: .*tunlockd.service \(changed since install/);
  });

  it('refuses to overwrite a file it did not install, and --force takes it over', async () => {
    mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/local/bin/tunlock'), 'someone else\n');
    await expect(install({ root, dist, user: 'alice', node: NODE, log: quiet })).rejects.toThrow(/refusing to overwrite.*\n.*usr\/local\/bin\/tunlock/);
    expect(read('usr/local/bin/tunlock')).toBe('someone else\n');
    expect(existsSync(join(root, 'usr/local/lib/tunlock'))).toBe(false);
    await install({ root, dist, user: 'alice', node: NODE, force: true, log: quiet });
    expect(read('usr/local/bin/tunlock')).toContain('exec ');
  });

  it('honours --prefix and --unit-dir, installs no group when ROOT/etc/group is absent (packaging), and needs no user', async () => {
    rmSync(join(root, 'etc/group'));
    rmSync(join(root, 'etc/gshadow'));
    before = snapshot(root, shadowBackups);
    const { record, notes } = await install({ root, dist, user: '', prefix: '/usr', unitDir: '/usr/lib/systemd/system', node: NODE, log: quiet });
    expect(existsSync(join(root, 'usr/lib/tunlock/tunlockd.js'))).toBe(true);
    expect(existsSync(join(root, 'usr/bin/tunlock'))).toBe(true);
    expect(read('usr/lib/systemd/system/tunlockd.service')).toContain(' /usr/lib/tunlock/tunlockd.js ');
    expect(readRecord(new Layout({ root, prefix: '/usr' }))?.unitDir).toBe('/usr/lib/systemd/system');
    expect(record.entries.some((e) => e.kind === 'group')).toBe(false);
    expect(notes.join('\n')).toMatch(/group tunlock not created/);
    expect(existsSync(join(root, 'home/alice/.config/opera/NativeMessagingHosts'))).toBe(false);
    await uninstall({ root, prefix: '/usr', log: quiet });
    expect(diff(before, snapshot(root, shadowBackups))).toEqual([]);
  });
});

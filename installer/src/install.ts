// Install: plan every file, symlink, group and membership, refuse to overwrite anything that is not ours,
// then create them, recording each in the install record (see record.ts). Re-running upgrades in place:
// what the previous record owns may be replaced, what it owned and the new plan lacks is removed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmdirSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { bootAdvice, detectInit } from '../../host/src/process/init-system.js';
import { DAEMON_UNIT, SOCKET_GROUP_NAME } from '../../host/src/common/paths.js';
import { addMember, createSystemGroup, findGroup, findUser, installingUser } from './accounts.js';
import type { PasswdEntry } from '../../host/src/common/etc-files.js';
import { startDaemon, systemdRunning, systemctl } from './control.js';
import { Layout } from './layout.js';
import type { LayoutOptions } from './layout.js';
import { BROWSERS, manifestTargets, renderHostManifest, requiresExisting } from '../../host/src/common/manifest-locations.js';
import type { Entry, InstallRecord } from './record.js';
import { entryKey, readRecord } from './record.js';
import { bootUnit, daemonUnit, enableLinks, tmpfilesConf } from './units.js';

export interface InstallOptions extends LayoutOptions {
  /** directory holding the built files (tunlockd.js, tunlock.js, tunlock-host.js, tunlock-install.js, hooks/) */
  dist: string;
  /** the user to add to group tunlock and to install per-user manifests for; '' for none (default: $SUDO_USER) */
  user?: string;
  /** act on the running system (systemctl, start the daemon); default: only when --root is / */
  live?: boolean;
  /** without systemd, start the daemon with our own command (default true; false: --no-start) */
  start?: boolean;
  /** replace files at our paths that the installer did not create */
  force?: boolean;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export const DIST_FILES = ['tunlockd.js', 'tunlock.js', 'tunlock-host.js', 'tunlock-install.js', 'package.json'] as const;
/** The native dependency the build puts beside the bundles (host/build.mjs); installed as it is there. */
export const NATIVE_MODULES = 'node_modules';
const NATIVE_MARKER = 'node_modules/koffi/package.json';

/** Every file below dist/node_modules, relative to dist, in a stable order. */
export function nativeModuleFiles(dist: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of readdirSync(join(dist, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = posix.join(rel, d.name);
      if (d.isDirectory()) walk(child);
      else if (d.isFile()) out.push(child);
      else throw new Error(`${join(dist, child)}: not a file or directory; rebuild (npm run build:host)`);
    }
  };
  walk(NATIVE_MODULES);
  return out;
}
export const HOOK_FILES = ['wg-quick.sh', 'openvpn-updown.sh', 'networkmanager-dispatcher.sh'] as const;
export const COMPLETION_FILES = ['tunlock.bash', '_tunlock'] as const;

interface Owner {
  uid: number;
  gid: number;
}
const ROOT: Owner = { uid: 0, gid: 0 };

type Op =
  | { op: 'file'; path: string; content: string | Buffer; mode: number; owner: Owner }
  | { op: 'symlink'; path: string; target: string; owner: Owner }
  | { op: 'runtime'; path: string }
  | { op: 'group'; name: string }
  | { op: 'member'; user: string; group: string };

export interface Plan {
  layout: Layout;
  ops: Op[];
  user: PasswdEntry | null;
  notes: string[];
}

function wrapper(l: Layout, js: string): string {
  return `#!/bin/sh\n# Installed by tunlock.\nexec ${l.node} ${js} "$@"\n`;
}

function hook(dist: string, name: string, l: Layout): string {
  const text = readFileSync(join(dist, 'hooks', name), 'utf8');
  return text.replaceAll('@TUNLOCK@', l.cli);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Browsers present for a user (profile directory or program), under the root. */
export function detectedBrowsers(l: Layout, home: string | null): Set<string> {
  const found = new Set<string>();
  for (const b of BROWSERS) {
    if (home && isDir(l.at(posix.join(home, b.detect.profile)))) found.add(b.id);
    for (const dir of ['/usr/bin', '/usr/local/bin', '/opt/bin', '/snap/bin']) {
      if (b.detect.programs.some((p) => existsSync(l.at(posix.join(dir, p))))) found.add(b.id);
    }
  }
  return found;
}

/** Everything the installer will create, in order; pure apart from reading the root. */
export function plan(opts: InstallOptions): Plan {
  const l = new Layout(opts);
  const notes: string[] = [];
  const missing = [...DIST_FILES.map((f) => join(opts.dist, f)), ...HOOK_FILES.map((f) => join(opts.dist, 'hooks', f)), ...COMPLETION_FILES.map((f) => join(opts.dist, 'completion', f)), join(opts.dist, NATIVE_MARKER)].filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`missing built files: ${missing.join(', ')} (run the build first: npm run build:host)`);
  if (!isDir(l.root)) throw new Error(`--root ${l.root} is not a directory`);

  const userName = installingUser(opts.user, opts.env);
  const user = userName ? findUser(l, userName) ?? null : null;
  if (userName && !user) throw new Error(`user ${JSON.stringify(userName)} not found in ${l.at('/etc/passwd')}`);
  const userOwner: Owner | null = user && { uid: user.uid, gid: user.gid };

  const ops: Op[] = [];
  const file = (path: string, content: string | Buffer, mode: number, owner: Owner = ROOT) => ops.push({ op: 'file', path, content, mode, owner });

  // The programs, under one prefix.
  for (const f of DIST_FILES) file(join(l.libDir, f), readFileSync(join(opts.dist, f)), 0o644);
  for (const f of nativeModuleFiles(opts.dist)) file(join(l.libDir, f), readFileSync(join(opts.dist, f)), 0o644);
  file(l.hostWrapper, wrapper(l, l.js('tunlock-host')), 0o755);
  file(l.installWrapper, wrapper(l, l.js('tunlock-install')), 0o755);
  file(l.cli, wrapper(l, l.js('tunlock')), 0o755);
  for (const h of HOOK_FILES) file(join(l.hooksDir, h), hook(opts.dist, h, l), 0o755);
  file(join(l.hooksDir, 'wg-quick-snippet.conf'), wgQuickSnippet(l), 0o644);
  // The completions where the shells look, and a copy under the prefix so the installed directory stays a
  // complete dist (the installed tunlock-install can re-install from it).
  for (const c of COMPLETION_FILES) file(join(l.libDir, 'completion', c), readFileSync(join(opts.dist, 'completion', c)), 0o644);
  file(l.bashCompletion, readFileSync(join(opts.dist, 'completion', 'tunlock.bash')), 0o644);
  file(l.zshCompletion, readFileSync(join(opts.dist, 'completion', '_tunlock')), 0o644);

  // Services.
  file(l.daemonUnit, daemonUnit(l), 0o644);
  file(l.bootUnit, bootUnit(l), 0o644);
  for (const { link, target } of enableLinks(l)) ops.push({ op: 'symlink', path: link, target, owner: ROOT });
  file(l.tmpfilesFile, tmpfilesConf(l), 0o644);

  // NetworkManager, only where it is installed.
  if (isDir(l.at(l.nmDir))) {
    file(l.nmDispatcher, hook(opts.dist, 'networkmanager-dispatcher.sh', l), 0o755);
    ops.push({ op: 'symlink', path: l.nmPreDown, target: '../90-tunlock', owner: ROOT });
  } else notes.push('NetworkManager not found: no dispatcher script installed');

  // Native-messaging host manifests: every system location, plus per-user ones for browsers that have no
  // system location and are present for the installing user.
  for (const t of manifestTargets('linux', 'system', '/')) {
    const need = requiresExisting(t.path);
    if (need && !isDir(l.at(need))) continue;
    file(t.path, renderHostManifest(t.flavour, l.hostWrapper), 0o644);
  }
  if (user && userOwner) {
    const present = detectedBrowsers(l, user.home);
    const userOnly = BROWSERS.filter((b) => b.linux.system.length === 0 && present.has(b.id)).map((b) => b.id);
    for (const t of manifestTargets('linux', 'user', user.home, userOnly)) file(t.path, renderHostManifest(t.flavour, l.hostWrapper), 0o644, userOwner);
  }

  // What our programs create while running.
  ops.push({ op: 'runtime', path: l.stateDir }, { op: 'runtime', path: l.runDir });
  if (user) ops.push({ op: 'runtime', path: posix.join(user.home, '.local/state/tunlock') });

  // The socket group, and the installing user in it.
  if (existsSync(l.at('/etc/group'))) {
    ops.push({ op: 'group', name: SOCKET_GROUP_NAME });
    if (user) ops.push({ op: 'member', user: user.name, group: SOCKET_GROUP_NAME });
    else notes.push(`no installing user (run with sudo, or pass --user NAME): add users with: sudo usermod -aG ${SOCKET_GROUP_NAME} NAME`);
  } else notes.push(`${l.at('/etc/group')} does not exist: group ${SOCKET_GROUP_NAME} not created (packagers: create it in postinst)`);

  return { layout: l, ops, user, notes };
}

export function wgQuickSnippet(l: Layout): string {
  return `# Add to the [Interface] section of /etc/wireguard/IFACE.conf (wg-quick), then: wg-quick down IFACE; wg-quick up IFACE
PostUp = ${join(l.hooksDir, 'wg-quick.sh')} up %i
PreDown = ${join(l.hooksDir, 'wg-quick.sh')} down %i
`;
}

/** Creates directories, files and links, recording what did not exist before. */
class Executor {
  readonly entries: Entry[] = [];
  private readonly keys = new Set<string>();
  private readonly canChown = process.getuid?.() === 0;

  constructor(
    private readonly l: Layout,
    private readonly previous: Map<string, Entry>,
  ) {}

  record(e: Entry): void {
    const k = entryKey(e);
    if (this.keys.has(k)) return;
    this.keys.add(k);
    this.entries.push(e);
  }
  /** Keeps the previous install's entry for something that still exists. */
  carry(key: string): void {
    const e = this.previous.get(key);
    if (e) this.record(e);
  }
  private chown(p: string, o: Owner): void {
    if (this.canChown) chownSync(p, o.uid, o.gid);
  }

  ensureDir(target: string, owner: Owner): void {
    let cur = '/';
    for (const part of target.split('/').filter(Boolean)) {
      cur = posix.join(cur, part);
      const at = this.l.at(cur);
      if (isDir(at)) {
        this.carry(`path:${cur}`);
        continue;
      }
      mkdirSync(at, { mode: 0o755 });
      chmodSync(at, 0o755);
      this.chown(at, owner);
      this.record({ kind: 'dir', path: cur, mode: 0o755, ...owner });
    }
  }

  file(path: string, content: string | Buffer, mode: number, owner: Owner): void {
    this.ensureDir(dirname(path), owner);
    const at = this.l.at(path);
    const temp = `${at}.tunlock-new`;
    writeFileSync(temp, content, { mode });
    chmodSync(temp, mode);
    this.chown(temp, owner);
    renameSync(temp, at);
    this.record({ kind: 'file', path, mode, ...owner, sha256: createHash('sha256').update(content).digest('hex') });
  }

  symlink(path: string, target: string, owner: Owner): void {
    this.ensureDir(dirname(path), owner);
    const at = this.l.at(path);
    if (lexists(at)) unlinkSync(at);
    symlinkSync(target, at);
    this.record({ kind: 'symlink', path, target });
  }
}

export function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

export interface InstallResult {
  layout: Layout;
  record: InstallRecord;
  notes: string[];
}

export async function install(opts: InstallOptions): Promise<InstallResult> {
  const log = opts.log ?? ((s: string) => process.stdout.write(`${s}\n`));
  const p = plan(opts);
  const l = p.layout;
  const prev = readRecord(l);
  const previous = new Map((prev?.entries ?? []).map((e) => [entryKey(e), e] as const));

  // Nothing that is not ours gets overwritten.
  const conflicts = p.ops
    .filter((o): o is Extract<Op, { path: string }> => (o.op === 'file' || o.op === 'symlink') && lexists(l.at(o.path)) && !previous.has(`path:${o.path}`))
    .map((o) => l.at(o.path));
  if (conflicts.length && !opts.force) {
    throw new Error(`refusing to overwrite files tunlock did not install:\n  ${conflicts.join('\n  ')}\n(remove them, or pass --force to take them over)`);
  }

  const x = new Executor(l, previous);
  for (const o of p.ops) {
    switch (o.op) {
      case 'file':
        x.file(o.path, o.content, o.mode, o.owner);
        break;
      case 'symlink':
        x.symlink(o.path, o.target, o.owner);
        break;
      case 'runtime':
        if (previous.has(`path:${o.path}`) || !lexists(l.at(o.path))) {
          // Its missing parents will be made by our programs too (e.g. ~/.local/state): ours to remove if empty.
          const parts = o.path.split('/').filter(Boolean);
          for (let i = 1; i < parts.length; i++) {
            const dir = `/${parts.slice(0, i).join('/')}`;
            if (previous.has(`path:${dir}`) || !lexists(l.at(dir))) x.record(previous.get(`path:${dir}`) ?? { kind: 'dir', path: dir, mode: 0o755, uid: 0, gid: 0 });
          }
          x.record({ kind: 'runtime', path: o.path });
        }
        break;
      case 'group':
        if (findGroup(l, o.name)) x.carry(`group:${o.name}`);
        else {
          createSystemGroup(l, o.name);
          x.record({ kind: 'group', name: o.name });
          log(`created group ${o.name}`);
        }
        break;
      case 'member':
        if (findGroup(l, o.group)?.members.includes(o.user)) x.carry(`member:${o.user}:${o.group}`);
        else {
          addMember(l, o.user, o.group);
          x.record({ kind: 'member', user: o.user, group: o.group });
          p.notes.push(`added ${o.user} to group ${o.group}: log out and in again (or run: newgrp ${o.group}) for it to apply`);
        }
        break;
    }
  }

  // What the previous install had and this one does not (an upgrade that dropped a file).
  const kept = new Set(x.entries.map(entryKey));
  for (const e of [...(prev?.entries ?? [])].reverse()) {
    if (kept.has(entryKey(e))) continue;
    if (e.kind === 'file' || e.kind === 'symlink') {
      if (lexists(l.at(e.path))) unlinkSync(l.at(e.path));
    } else if (e.kind === 'dir') {
      if (isDir(l.at(e.path)) && readdirSync(l.at(e.path)).length === 0) rmdirSync(l.at(e.path));
      else if (isDir(l.at(e.path))) x.record(e);
    } else x.record(e);
  }

  const record: InstallRecord = {
    version: 1,
    installedAt: new Date().toISOString(),
    prefix: l.prefix,
    unitDir: l.unitDir,
    user: p.user?.name ?? null,
    entries: x.entries,
  };
  const recordAt = l.at(l.record);
  writeFileSync(`${recordAt}.tunlock-new`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
  chmodSync(`${recordAt}.tunlock-new`, 0o644);
  renameSync(`${recordAt}.tunlock-new`, recordAt);
  log(`installed tunlock in ${l.at(l.libDir)} (${x.entries.length} items recorded in ${recordAt})`);

  const live = opts.live ?? l.isRealRoot;
  if (live) {
    const gid = findGroup(l, SOCKET_GROUP_NAME)?.gid;
    if (l.isRealRoot && systemdRunning()) {
      systemctl(['daemon-reload']);
      spawnSync('systemd-tmpfiles', ['--create', l.tmpfilesFile], { stdio: 'ignore' });
      systemctl(['restart', DAEMON_UNIT]);
      log(`started ${DAEMON_UNIT}`);
    } else {
      const run = l.at(l.runDir);
      if (!isDir(run)) {
        mkdirSync(run, { recursive: true, mode: 0o750 });
        chmodSync(run, 0o750);
        if (gid !== undefined && process.getuid?.() === 0) chownSync(run, 0, gid);
      }
      // No systemd (a container, WSL, OpenRC, the lab): the installer starts the daemon itself, so the
      // machine is protected when setup ends, and says what will start it after a reboot.
      const startCmd = `sudo ${l.installWrapper} start${l.isRealRoot ? '' : ` --root ${l.root}`}`;
      if (opts.start !== false) {
        const pid = await startDaemon(l);
        log(`started tunlockd (pid ${pid}) with the installer's own command: systemd is not running here`);
        if (l.isRealRoot) p.notes.push(`after a reboot: ${bootAdvice(detectInit())}`);
      } else {
        p.notes.push(`systemd is not running here and --no-start was given: start the daemon with: ${startCmd}`);
      }
    }
  }
  for (const n of p.notes) log(`note: ${n}`);
  return { layout: l, record, notes: p.notes };
}

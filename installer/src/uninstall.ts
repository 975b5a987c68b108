// Uninstall: stop the daemon, remove our firewall table, then undo the install record in reverse: files,
// links, directories we created (only when empty), what our programs made at run time, the membership and the
// group we added. Nothing that is not in the record is touched.
import { lstatSync, readdirSync, realpathSync, rmSync, rmdirSync, unlinkSync } from 'node:fs';
import { deleteGroup, findGroup, removeMember } from './accounts.js';
import { removeFirewallTable, stopDaemon, systemctl, systemdRunning } from './control.js';
import { Layout } from './layout.js';
import type { LayoutOptions } from './layout.js';
import { readRecord } from './record.js';

export interface UninstallOptions extends LayoutOptions {
  /** act on the running system: stop the daemon, remove the firewall table (default: only when --root is /) */
  live?: boolean;
  log?: (line: string) => void;
}

function kind(p: string): 'file' | 'dir' | 'symlink' | 'other' | null {
  try {
    const st = lstatSync(p);
    return st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return null;
  }
}

export async function uninstall(opts: UninstallOptions): Promise<{ removed: number; kept: string[] }> {
  const log = opts.log ?? ((s: string) => process.stdout.write(`${s}\n`));
  const probe = new Layout(opts);
  const record = readRecord(probe);
  if (!record) throw new Error(`tunlock is not installed here (no ${probe.at(probe.record)})`);
  const l = new Layout({ ...opts, prefix: record.prefix, unitDir: record.unitDir });
  const live = opts.live ?? l.isRealRoot;
  const kept: string[] = [];
  let removed = 0;

  if (live) {
    if (l.isRealRoot && systemdRunning()) {
      systemctl(['stop', 'tunlockd.service', 'tunlock-boot.service'], true);
      log('stopped tunlockd.service');
    }
    if (await stopDaemon(l)) log('stopped tunlockd');
    // The daemon is gone; the rules it left must go too, or the machine stays locked out.
    log(removeFirewallTable());
  }

  for (const e of [...record.entries].reverse()) {
    if (e.kind === 'group' || e.kind === 'member') continue;
    const at = l.at(e.path);
    const k = kind(at);
    if (k === null) continue;
    if (e.kind === 'file' || e.kind === 'symlink') {
      if (k === 'dir') {
        kept.push(`${at} (now a directory, not ours)`);
        continue;
      }
      unlinkSync(at);
      removed++;
    } else if (e.kind === 'dir') {
      if (k !== 'dir') continue;
      if (readdirSync(at).length) kept.push(`${at} (holds files tunlock did not install)`);
      else {
        rmdirSync(at);
        removed++;
      }
    } else if (e.kind === 'runtime') {
      // Never follow a link out of the place we expect (a user's home is theirs to rearrange).
      if (k === 'symlink' || realpathSync(at) !== at) {
        kept.push(`${at} (a symlink or under one: left alone)`);
        continue;
      }
      rmSync(at, { recursive: true, force: true });
      removed++;
    }
  }
  // Memberships, then groups, only those we added.
  for (const e of [...record.entries].reverse()) {
    if (e.kind === 'member' && findGroup(l, e.group)?.members.includes(e.user)) {
      removeMember(l, e.user, e.group);
      log(`removed ${e.user} from group ${e.group}`);
    }
  }
  for (const e of [...record.entries].reverse()) {
    if (e.kind === 'group' && findGroup(l, e.name)) {
      deleteGroup(l, e.name);
      log(`removed group ${e.name}`);
    }
  }
  // The record last, then the directories that only held it.
  unlinkSync(l.at(l.record));
  for (const e of [...record.entries].reverse()) {
    if (e.kind !== 'dir') continue;
    const at = l.at(e.path);
    if (kind(at) === 'dir' && readdirSync(at).length === 0) {
      rmdirSync(at);
      removed++;
      const i = kept.findIndex((k) => k.startsWith(`${at} `));
      if (i >= 0) kept.splice(i, 1);
    }
  }
  if (live && l.isRealRoot && systemdRunning()) systemctl(['daemon-reload'], true);
  log(`uninstalled tunlock (${removed} paths removed)`);
  for (const k of kept) log(`kept: ${k}`);
  return { removed, kept };
}

// Uninstall: stop the daemon, remove our firewall table, then undo the install record in reverse: files,
// links, directories we created (only when empty), what our programs made at run time, the membership and the
// group we added. Nothing that is not in the record is touched. Every removal goes through safe-remove.ts
// (no symlink can redirect it, even in a user's home), and a file whose content is no longer what we
// installed (the admin edited it) is kept and reported.
import { createHash } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { BOOT_UNIT, DAEMON_UNIT } from '../../host/src/common/paths.js';
import { deleteGroup, findGroup, removeMember } from './accounts.js';
import { resetSystemFirewall } from '../../host/src/firewall/system.js';
import { stopDaemon, systemctl, systemdRunning } from './control.js';
import { Layout } from './layout.js';
import type { LayoutOptions } from './layout.js';
import { readRecord } from './record.js';
import type { Removal } from './safe-remove.js';
import { removeEmptyDir, removeFile, removeTree } from './safe-remove.js';

export interface UninstallOptions extends LayoutOptions {
  /** act on the running system: stop the daemon, remove the firewall table (default: only when --root is /) */
  live?: boolean;
  log?: (line: string) => void;
}

const WHY_KEPT: Partial<Record<Removal, string>> = {
  'not-empty': 'holds files tunlock did not install',
  changed: 'changed since install (its sha256 differs from the install record): kept, remove it yourself if you no longer need it',
  'link-in-path': 'a symlink where tunlock made a directory: left alone',
  'is-directory': 'now a directory, not ours',
};

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
      systemctl(['stop', DAEMON_UNIT, BOOT_UNIT], true);
      log(`stopped ${DAEMON_UNIT}`);
    }
    if (await stopDaemon(l)) log('stopped tunlockd');
    // The daemon is gone; the rules it left must go too, or the machine stays locked out.
    log(resetSystemFirewall());
  }

  const note = (at: string, r: Removal): void => {
    if (r === 'removed') removed++;
    else if (WHY_KEPT[r]) kept.push(`${at} (${WHY_KEPT[r]})`);
  };
  for (const e of [...record.entries].reverse()) {
    if (e.kind === 'group' || e.kind === 'member') continue;
    const at = l.at(e.path);
    if (e.kind === 'file') {
      note(at, removeFile(at, (content) => createHash('sha256').update(content).digest('hex') === e.sha256));
    } else if (e.kind === 'symlink') note(at, removeFile(at));
    else if (e.kind === 'dir') note(at, removeEmptyDir(at));
    else if (e.kind === 'runtime') note(at, removeTree(at));
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
    if (removeEmptyDir(at) === 'removed') {
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

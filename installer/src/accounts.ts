// Users and groups, read from <root>/etc/{passwd,group} and changed with the shadow tools (groupadd,
// usermod, groupdel). Under --root the tools get `--prefix ROOT`, so they edit ROOT/etc/group and never the
// machine's own (tests check /etc/group is untouched).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseGroup, parsePasswd } from '../../host/src/common/etc-files.js';
import type { GroupEntry, PasswdEntry } from '../../host/src/common/etc-files.js';
import type { Layout } from './layout.js';

/** The file's text below the layout's root; a file that is not there lists nobody. */
function read(l: Layout, path: string): string {
  try {
    return readFileSync(l.at(path), 'utf8');
  } catch {
    return '';
  }
}

export function readPasswd(l: Layout): PasswdEntry[] {
  return parsePasswd(read(l, '/etc/passwd'));
}

export function readGroups(l: Layout): GroupEntry[] {
  return parseGroup(read(l, '/etc/group'));
}

export function findUser(l: Layout, name: string): PasswdEntry | undefined {
  return readPasswd(l).find((u) => u.name === name);
}
export function findGroup(l: Layout, name: string): GroupEntry | undefined {
  return readGroups(l).find((g) => g.name === name);
}

function shadowTool(l: Layout, tool: string, args: string[]): void {
  const argv = l.isRealRoot ? args : ['--prefix', l.root, ...args];
  const r = spawnSync(tool, argv, { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run ${tool}: ${r.error.message} (install the "passwd" package)`);
  if (r.status !== 0) throw new Error(`${tool} ${argv.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
}

export function createSystemGroup(l: Layout, name: string): void {
  shadowTool(l, 'groupadd', ['--system', name]);
}
export function deleteGroup(l: Layout, name: string): void {
  shadowTool(l, 'groupdel', [name]);
}
export function addMember(l: Layout, user: string, group: string): void {
  shadowTool(l, 'usermod', ['--append', '--groups', group, user]);
}
export function removeMember(l: Layout, user: string, group: string): void {
  shadowTool(l, 'usermod', ['--remove', '--groups', group, user]);
}

/** Who installs: --user, else the account that ran sudo/pkexec; null when root installs for nobody. */
export function installingUser(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  if (explicit !== undefined) return explicit || null;
  if (env.SUDO_USER && env.SUDO_USER !== 'root') return env.SUDO_USER;
  return null;
}

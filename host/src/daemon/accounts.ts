// User and group lookups from /etc/passwd and /etc/group (no NSS module is loaded into the root daemon).
import { readFileSync } from 'node:fs';
import { parseGroup, parsePasswd } from '../common/etc-files.js';

/** The file's text; a file we cannot read lists nobody. */
function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function userId(name: string): number | null {
  return parsePasswd(read('/etc/passwd')).find((e) => e.name === name)?.uid ?? null;
}

export function groupId(name: string): number | null {
  return parseGroup(read('/etc/group')).find((e) => e.name === name)?.gid ?? null;
}

/** True when uid is root or belongs to group `group` (as primary or supplementary group). */
export function isAllowedUid(uid: number, group: string): boolean {
  if (uid === 0) return true;
  const g = parseGroup(read('/etc/group')).find((e) => e.name === group);
  if (!g) return false;
  const user = parsePasswd(read('/etc/passwd')).find((e) => e.uid === uid);
  if (!user) return false;
  return user.gid === g.gid || g.members.includes(user.name);
}

// User and group lookups from /etc/passwd and /etc/group (no NSS module is loaded into the root daemon).
import { readFileSync } from 'node:fs';

interface Entry {
  name: string;
  id: number;
  /** passwd: primary gid; group: member names */
  extra: string;
}

function readDb(path: string): Entry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && /^\d+$/.test(f[2]!))
    .map((f) => ({ name: f[0]!, id: Number(f[2]), extra: f[3]! }));
}

export function userId(name: string): number | null {
  return readDb('/etc/passwd').find((e) => e.name === name)?.id ?? null;
}

export function groupId(name: string): number | null {
  return readDb('/etc/group').find((e) => e.name === name)?.id ?? null;
}

/** True when uid is root or belongs to group `group` (as primary or supplementary group). */
export function isAllowedUid(uid: number, group: string): boolean {
  if (uid === 0) return true;
  const g = readDb('/etc/group').find((e) => e.name === group);
  if (!g) return false;
  const user = readDb('/etc/passwd').find((e) => e.id === uid);
  if (!user) return false;
  return Number(user.extra) === g.id || g.extra.split(',').includes(user.name);
}

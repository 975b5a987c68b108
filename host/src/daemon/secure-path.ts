// The daemon's own directories (state, socket) must be root's alone: anyone who can write one of them — or
// any directory above it — could swap a file or the socket for their own between our check and our use.
// Checked at start, for the path as given and for the path its links resolve to. Above the directory, a
// world-writable directory with the sticky bit (/tmp) is accepted: there only an entry's owner may rename
// or remove it, and the entry below it is checked to be root's.
import { lstatSync, realpathSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

const STICKY = 0o1000;

export class UnsafePathError extends Error {
  override name = 'UnsafePathError';
}

function problem(path: string, st: Stats, isTarget: boolean): string | null {
  if (st.uid !== 0) return `${path} is owned by uid ${st.uid}, not root`;
  if (st.isSymbolicLink()) return null; // root's link; where it leads is checked on the resolved path
  if (!st.isDirectory()) return `${path} is not a directory`;
  const othersWrite = (st.mode & 0o022) !== 0;
  if (othersWrite && (isTarget || (st.mode & STICKY) === 0)) {
    const who = [st.mode & 0o020 ? 'its group' : '', st.mode & 0o002 ? 'other users' : ''].filter(Boolean).join(' and ');
    return `${path} is writable by ${who} (mode ${(st.mode & 0o7777).toString(8)})`;
  }
  return null;
}

function chain(path: string): string[] {
  const out: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    out.push(p);
    if (dirname(p) === p) return out;
  }
}

/** Throws UnsafePathError unless `dir` and every directory above it can be changed by root alone. */
export function checkRootOnlyDir(dir: string, what: string): void {
  const real = realpathSync(dir);
  for (const path of new Set([...chain(dir), ...chain(real)])) {
    const why = problem(path, lstatSync(path), path === resolve(dir) || path === real);
    if (why) {
      throw new UnsafePathError(
        `refusing ${what} ${dir}: ${why}, so another user could swap what tunlockd reads or serves there; ` +
          'use a directory that only root can change, all the way up (chown root, chmod go-w)',
      );
    }
  }
}

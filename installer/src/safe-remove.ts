// Removal that no symlink can redirect. Uninstall runs as root but some of what it removes lives in places a
// user controls (their home: browser manifests, ~/.local/state/tunlock). Resolving such a path by name lets
// the user swap a directory for a link to /etc between our check and our unlink, and root deletes root's
// files. Here every path is walked one component at a time from an open directory descriptor, with
// O_NOFOLLOW|O_DIRECTORY, and every unlink/rmdir/read names an entry of an already-open directory
// (/proc/self/fd/N/NAME: the kernel resolves N to that directory, wherever it has been moved, and the last
// component is never followed). A link where a directory should be stops the walk: the entry is left alone.
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import type { Stats } from 'node:fs';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

export type Removal = 'removed' | 'missing' | 'not-empty' | 'changed' | 'link-in-path' | 'is-directory';

function within(dirFd: number, name: string): string {
  return `/proc/self/fd/${dirFd}/${name}`;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** An fd for the directory holding `path`'s last component, or why there is none. Close it. */
function openParent(path: string): { fd: number; name: string } | 'missing' | 'link-in-path' {
  const parts = path.split('/').filter(Boolean);
  const name = parts.pop();
  if (!name || parts.includes('..') || name === '..') throw new Error(`not a plain absolute path: ${path}`);
  let fd = openSync('/', DIR_FLAGS);
  for (const part of parts) {
    let next: number;
    try {
      next = openSync(within(fd, part), DIR_FLAGS);
    } catch (e) {
      closeSync(fd);
      if (errno(e) === 'ENOENT') return 'missing';
      if (errno(e) === 'ELOOP' || errno(e) === 'ENOTDIR') return 'link-in-path';
      throw e;
    }
    closeSync(fd);
    fd = next;
  }
  return { fd, name };
}

/** lstat that answers null for a path that does not exist (any other error is thrown). */
function lstatOrNull(entry: string): Stats | null {
  try {
    return lstatSync(entry);
  } catch (e) {
    if (errno(e) === 'ENOENT') return null;
    throw e;
  }
}

function withParent(path: string, act: (dirFd: number, name: string) => Removal): Removal {
  const p = openParent(path);
  if (typeof p === 'string') return p;
  try {
    return act(p.fd, p.name);
  } finally {
    closeSync(p.fd);
  }
}

/** Removes a file or symlink; a regular file only if its content still hashes to `keepUnless` (when given). */
export function removeFile(path: string, unchanged?: (content: Buffer) => boolean): Removal {
  return withParent(path, (dirFd, name) => {
    const entry = within(dirFd, name);
    const st = lstatOrNull(entry);
    if (!st) return 'missing';
    if (st.isDirectory()) return 'is-directory';
    if (st.isFile() && unchanged) {
      const fd = openSync(entry, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        if (!fstatSync(fd).isFile() || !unchanged(readFileSync(fd))) return 'changed';
      } finally {
        closeSync(fd);
      }
    }
    unlinkSync(entry);
    return 'removed';
  });
}

/** Removes an empty directory. */
export function removeEmptyDir(path: string): Removal {
  return withParent(path, (dirFd, name) => {
    try {
      rmdirSync(within(dirFd, name));
      return 'removed';
    } catch (e) {
      if (errno(e) === 'ENOENT') return 'missing';
      if (errno(e) === 'ENOTEMPTY' || errno(e) === 'EEXIST') return 'not-empty';
      if (errno(e) === 'ENOTDIR') return 'link-in-path';
      throw e;
    }
  });
}

/** Removes a directory and everything in it, never leaving it through a link. */
export function removeTree(path: string): Removal {
  return withParent(path, (dirFd, name) => {
    const entry = within(dirFd, name);
    const st = lstatOrNull(entry);
    if (!st) return 'missing';
    if (!st.isDirectory()) {
      unlinkSync(entry);
      return 'removed';
    }
    emptyDir(dirFd, name);
    rmdirSync(entry);
    return 'removed';
  });
}

function emptyDir(parentFd: number, name: string): void {
  const fd = openSync(within(parentFd, name), DIR_FLAGS);
  try {
    for (const child of readdirSync(within(fd, '.'))) {
      const entry = within(fd, child);
      if (lstatSync(entry).isDirectory()) {
        emptyDir(fd, child);
        rmdirSync(entry);
      } else unlinkSync(entry);
    }
  } finally {
    closeSync(fd);
  }
}

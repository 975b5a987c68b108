// The install record (PREFIX/lib/tunlock/installed.json): every path, group and membership the installer
// created, in creation order. Uninstall undoes exactly these, in reverse, and nothing else.
import { readFileSync } from 'node:fs';
import type { Layout } from './layout.js';

export type Entry =
  | { kind: 'dir'; path: string; mode: number; uid: number; gid: number }
  | { kind: 'file'; path: string; mode: number; uid: number; gid: number; sha256: string }
  | { kind: 'symlink'; path: string; target: string }
  /** made by our programs at run time (state, socket directory, last-contact); removed whole if present */
  | { kind: 'runtime'; path: string }
  | { kind: 'group'; name: string }
  | { kind: 'member'; user: string; group: string };

export interface InstallRecord {
  version: 1;
  installedAt: string;
  prefix: string;
  unitDir: string;
  user: string | null;
  entries: Entry[];
}

export function entryKey(e: Entry): string {
  if (e.kind === 'group') return `group:${e.name}`;
  if (e.kind === 'member') return `member:${e.user}:${e.group}`;
  return `path:${e.path}`;
}

export function readRecord(l: Layout): InstallRecord | null {
  let text: string;
  try {
    text = readFileSync(l.at(l.record), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const r = JSON.parse(text) as InstallRecord;
  if (r.version !== 1 || !Array.isArray(r.entries)) throw new Error(`${l.at(l.record)}: not a tunlock install record`);
  for (const e of r.entries) {
    if ('path' in e && (typeof e.path !== 'string' || !e.path.startsWith('/') || e.path.split('/').includes('..'))) {
      throw new Error(`${l.at(l.record)}: bad path ${JSON.stringify(e.path)}`);
    }
  }
  return r;
}

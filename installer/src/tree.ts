// A snapshot of a directory tree (type, mode, owner, content hash or link target per path), for the tests'
// "uninstall leaves the root exactly as before" diff.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export type Snapshot = Map<string, string>;

export function snapshot(root: string, ignore: (rel: string) => boolean = () => false): Snapshot {
  const out: Snapshot = new Map();
  const walk = (rel: string) => {
    const abs = join(root, rel);
    const st = lstatSync(abs);
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    const who = `${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out.set(rel || '/', `link ${who} -> ${readlinkSync(abs)}`);
    else if (st.isFile()) out.set(rel || '/', `file ${mode} ${who} ${createHash('sha256').update(readFileSync(abs)).digest('hex').slice(0, 16)}`);
    else if (st.isDirectory()) {
      out.set(rel || '/', `dir ${mode} ${who}`);
      for (const name of readdirSync(abs).sort()) {
        const child = rel ? `${rel}/${name}` : name;
        if (!ignore(child)) walk(child);
      }
    } else out.set(rel || '/', `other ${mode} ${who}`);
  };
  walk('');
  return out;
}

/** Lines "+ path", "- path", "~ path: before → after"; empty when equal. */
export function diff(before: Snapshot, after: Snapshot): string[] {
  const lines: string[] = [];
  for (const [p, v] of before) {
    const w = after.get(p);
    if (w === undefined) lines.push(`- ${p} (${v})`);
    else if (w !== v) lines.push(`~ ${p}: ${v} → ${w}`);
  }
  for (const [p, v] of after) if (!before.has(p)) lines.push(`+ ${p} (${v})`);
  return lines;
}

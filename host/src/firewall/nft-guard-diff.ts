// The self-test's deep check of the nft backend: our table, line by line, against its guard copy, which only
// tunlockd's own nft session can change (the kernel refuses anyone else an owned table). Full listings with
// elements: slower than the periodic check, run only on request.
import { execFile } from 'node:child_process';
import { TABLE_FAMILY, guardCarries } from './nft-rules.js';

/** `nft list table inet NAME` as text; null when it is absent or unreadable. */
export function listTable(nft: string, name: string): Promise<string | null> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`invalid table name ${JSON.stringify(name)}`);
  return new Promise((resolve) => {
    execFile(nft, ['list', 'table', TABLE_FAMILY, name], { timeout: 3000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => resolve(err ? null : stdout));
  });
}

/**
 * A table listing without what legitimately differs between our main table and its guard copy: the table
 * line, the guard's `flags owner`, handles, counter values and the seconds left on expiring elements.
 */
export function normalizeListing(text: string): string[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) =>
      l
        .replace(/\s*# handle \d+/, '')
        .replace(/packets \d+ bytes \d+/g, '')
        .replace(/ expires [0-9dhms.]+/g, '')
        .trimEnd(),
    )
    .filter((l) => l.trim() !== '' && l.trim() !== 'flags owner');
}

/**
 * A table listing's lines (`nft list table`: one object per block at one tab, its lines deeper) without the
 * chains the table's guard does not carry (guardCarries): what the guard copy of that table holds.
 */
export function guardShare(lines: string[]): string[] {
  const chains: { name: string; base: string | null; start: number; end: number }[] = [];
  lines.forEach((line, i) => {
    const head = /^\tchain (\S+) \{/.exec(line);
    if (!head) return;
    const close = lines.findIndex((l, j) => j > i && l === '\t}');
    const base = /^\t\ttype \S+ hook \S+ /.test(lines[i + 1] ?? '') ? lines[i + 1]!.trim() : null;
    chains.push({ name: head[1]!, base, start: i, end: close < 0 ? lines.length - 1 : close });
  });
  const carried = guardCarries(chains);
  const dropped = chains.filter((c) => !carried.has(c.name));
  return lines.filter((_, i) => !dropped.some((c) => i >= c.start && i <= c.end));
}

/**
 * Content, not counts: every line of our table that the guard carries must equal the guard's, which only
 * tunlockd's own nft session can change (the kernel refuses anyone else an owned table). The chains the guard
 * leaves out (input, and output or forward where postrouting covers them) are checked by the structure and
 * content comparison of the periodic check alone. Returns the first difference, or null.
 */
export function guardDifference(main: string, guard: string): string | null {
  const a = guardShare(normalizeListing(main));
  const b = normalizeListing(guard);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `kernel has "${(a[i] ?? '(nothing)').trim()}" where tunlockd's guard copy has "${(b[i] ?? '(nothing)').trim()}"`;
  }
  return null;
}

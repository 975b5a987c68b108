// The self-test's deep check of the nft backend: our table, line by line, against its guard copy, which only
// tunlockd's own nft session can change (the kernel refuses anyone else an owned table). Full listings with
// elements: slower than the periodic check, run only on request.
import { execFile } from 'node:child_process';
import { TABLE_FAMILY } from './nft-rules.js';

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

function withoutChain(lines: string[], name: string): string[] {
  const start = lines.findIndex((l) => l.trim() === `chain ${name} {`);
  if (start < 0) return lines;
  const indent = lines[start]!.length - lines[start]!.trimStart().length;
  const end = lines.findIndex((l, i) => i > start && l.trim() === '}' && l.length - l.trimStart().length === indent);
  return end < 0 ? lines : [...lines.slice(0, start), ...lines.slice(end + 1)];
}

/**
 * Content, not counts: every line of our table must equal the guard's, which only tunlockd's own nft session
 * can change (the kernel refuses anyone else an owned table). Returns the first difference, or null.
 */
export function guardDifference(main: string, guard: string): string | null {
  const b = normalizeListing(guard);
  // The guard carries no input chain (only what lets a packet leave needs a second copy): that chain of ours
  // is checked by structure alone.
  const a = b.some((l) => l.trim() === 'chain input {') ? normalizeListing(main) : withoutChain(normalizeListing(main), 'input');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `kernel has "${(a[i] ?? '(nothing)').trim()}" where tunlockd's guard copy has "${(b[i] ?? '(nothing)').trim()}"`;
  }
  return null;
}

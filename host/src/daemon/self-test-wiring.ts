// The self-test's real dependencies: who the probes run as, and the probe functions themselves. Kept apart
// from self-test.ts (pure orchestration, unit-tested with fakes) and from daemon.ts (which only passes in its
// kernel check and counters).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Client } from './daemon.js';
import type { ProbeUser } from './self-test-probes.js';
import { interfaceAddresses, pingProbe, routeDevice, socketProbes } from './self-test-probes.js';
import type { SelfTestDeps } from './self-test.js';

const NOBODY = 65534;

function idFromDb(path: string, name: string): number | null {
  try {
    const line = readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    const id = line?.split(':')[2];
    return id && /^\d+$/.test(id) ? Number(id) : null;
  } catch {
    return null;
  }
}

/** The requesting user (probes "from you"), and an unprivileged account (the endpoint must be closed to it). */
export function probeUsers(client: Client): { user: ProbeUser; nobody: ProbeUser } {
  return {
    // uid and gid from the connection's SO_PEERCRED
    user: { uid: client.uid, gid: client.gid },
    nobody: { uid: idFromDb('/etc/passwd', 'nobody') ?? NOBODY, gid: idFromDb('/etc/group', 'nogroup') ?? NOBODY },
  };
}

/** The kernel's boot id: tells a reboot (rules gone as expected) from rules removed while we were stopped. */
export function kernelBootId(): string | null {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return /^[0-9a-f-]{36}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

export function selfTestDeps(from: Pick<SelfTestDeps, 'kernel' | 'blockedOut' | 'now'>): SelfTestDeps {
  return { ...from, sockets: socketProbes, ping: pingProbe, routeDevice, addresses: interfaceAddresses };
}

/** `nft list table inet NAME` as text; null when it is absent or unreadable. */
export function listTable(name: string): Promise<string | null> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`invalid table name ${JSON.stringify(name)}`);
  return new Promise((resolve) => {
    execFile('nft', ['list', 'table', 'inet', name], { timeout: 3000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => resolve(err ? null : stdout));
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
export function tableDifference(main: string, guard: string): string | null {
  const b = normalizeListing(guard);
  // The guard carries no input chain (only what lets a packet leave needs a second copy): that chain of ours
  // is checked by structure alone.
  const a = b.some((l) => l.trim() === 'chain input {') ? normalizeListing(main) : withoutChain(normalizeListing(main), 'input');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `kernel has "${(a[i] ?? '(nothing)').trim()}" where tunlockd's guard copy has "${(b[i] ?? '(nothing)').trim()}"`;
  }
  return null;
}

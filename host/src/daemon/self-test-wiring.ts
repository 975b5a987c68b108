// The self-test's real dependencies: who the probes run as, and the probe functions themselves. Kept apart
// from self-test.ts (pure orchestration, unit-tested with fakes) and from daemon.ts (which only passes in its
// kernel check — the firewall's deep verify — and counters).
import { readFileSync } from 'node:fs';
import { groupId, userId } from './accounts.js';
import type { Client } from './daemon.js';
import type { ProbeUser } from './self-test-probes.js';
import { interfaceAddresses, pingProbe, routeDevice, socketProbes } from './self-test-probes.js';
import type { SelfTestDeps } from './self-test.js';

const NOBODY = 65534;

/** The requesting user (probes "from you"), and an unprivileged account (the endpoint must be closed to it). */
export function probeUsers(client: Client): { user: ProbeUser; nobody: ProbeUser } {
  return {
    // uid and gid from the connection's SO_PEERCRED
    user: { uid: client.uid, gid: client.gid },
    nobody: { uid: userId('nobody') ?? NOBODY, gid: groupId('nogroup') ?? NOBODY },
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

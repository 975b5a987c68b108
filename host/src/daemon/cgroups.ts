// cgroups for `tunlock run`: each run gets its own cgroup v2 below /sys/fs/cgroup/tunlock/, which the
// firewall matches with `socket cgroupv2`. nft resolves those paths under /sys/fs/cgroup, so cgroup v2 must
// be mounted there (the unified layout every current systemd distribution uses).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pidfdAlive } from '../process/linux-syscalls.js';
import { ProtocolError } from '../protocol/schema.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';
const SUBTREE = 'tunlock';

export function cgroupDir(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name === '.' || name === '..') throw new Error(`invalid cgroup name ${JSON.stringify(name)}`);
  return join(CGROUP_ROOT, SUBTREE, name);
}

export function cgroupExists(name: string): boolean {
  return existsSync(cgroupDir(name));
}

/**
 * Creates tunlock/NAME and moves the requesting `tunlock run` process into it (its children follow).
 * cgroup.procs takes a pid, so the process is pinned by `pidfd`: alive before the write means the pid is
 * still its own; alive after it means the process we moved was that one (a pidfd keeps its pid from being
 * reused while the process lives). A process that exited meanwhile is refused.
 */
export function enterCgroup(name: string, pid: number, pidfd: number): void {
  if (!existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) {
    throw new ProtocolError(
      'not_found',
      `cgroup v2 is not mounted at ${CGROUP_ROOT}, so programs cannot be bound by cgroup here`,
      'bind the program\'s user instead: tunlock bind user NAME',
    );
  }
  const gone = () => new ProtocolError('not_found', `process ${pid} exited before it could be moved into its cgroup`, 'run the command again');
  if (!pidfdAlive(pidfd)) throw gone();
  const dir = cgroupDir(name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cgroup.procs'), `${pid}\n`);
  if (!pidfdAlive(pidfd)) {
    rmdirQuietly(dir);
    throw gone();
  }
}

function rmdirQuietly(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // a process is in it after all: removeIdleCgroups takes it once empty
  }
}

/** True while any process is in the cgroup. */
export function cgroupPopulated(name: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(join(cgroupDir(name), 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

/** Removes tunlock cgroups that are empty and no longer bound (best effort: a busy one stays). */
export function removeIdleCgroups(bound: ReadonlySet<string>): void {
  let names: string[];
  try {
    names = readdirSync(join(CGROUP_ROOT, SUBTREE), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return;
  }
  for (const name of names) {
    if (bound.has(name) || cgroupPopulated(name)) continue;
    try {
      rmdirSync(cgroupDir(name));
    } catch {
      // still in use: it is removed on a later pass
    }
  }
}

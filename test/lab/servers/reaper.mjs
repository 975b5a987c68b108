// Lab reaper: a detached watchdog started by every Lab. If the process that owns the lab dies without
// tearing it down (SIGKILL, crash, vitest worker killed), the reaper cleans up from the lab's manifest:
// kills the processes the lab started (by PID, checked against their recorded start time), deletes the
// lab's namespaces, removes WireGuard control sockets and the lab's temp dir.
// The lab deletes the manifest on a normal teardown; the reaper then just exits.
// Usage: node reaper.mjs <manifest.json> <owner-pid>
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

const [manifestPath, ownerArg] = process.argv.slice(2);
const owner = Number(ownerArg);

function procStat(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const ownerStart = procStat(owner)?.[19];

/** The owner is alive if its PID still names the same process (same start time) and it is not a zombie. */
function ownerAlive() {
  const st = procStat(owner);
  return !!st && st[19] === ownerStart && st[0] !== 'Z';
}

function startTime(pid) {
  return procStat(pid)?.[19];
}

function cleanup() {
  let m;
  try {
    m = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  } catch {
    return; // normal teardown removed it
  }
  for (const p of m.pids ?? []) {
    if (p.start && startTime(p.pid) === p.start) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
  }
  // Anything else still running inside the lab's own namespaces was started by the lab (daemon children…).
  for (const ns of m.namespaces ?? []) {
    let pids = [];
    try {
      pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
    } catch {}
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
  for (const ns of m.namespaces ?? []) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {}
  }
  for (const f of m.files ?? []) fs.rmSync(f, { force: true });
  for (const d of m.dirs ?? []) fs.rmSync(d, { recursive: true, force: true });
  fs.rmSync(manifestPath, { force: true });
}

const timer = setInterval(() => {
  if (!fs.existsSync(manifestPath)) {
    clearInterval(timer);
    process.exit(0);
  }
  if (!ownerAlive()) {
    clearInterval(timer);
    cleanup();
    process.exit(0);
  }
}, 250);

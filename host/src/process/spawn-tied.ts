// Long-running helpers (`nft monitor`, `ip monitor`) that must die with the daemon. Node cannot set
// PR_SET_PDEATHSIG, and these programs never read stdin, so a SIGKILLed daemon would leave them running. The
// wrapper shell holds the daemon's pipe on stdin: when the daemon dies (or closes it), `cat` sees EOF and the
// shell kills the helper. The helper's stdout/stderr are the wrapper's, i.e. our pipes.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

const WRAPPER = '"$@" </dev/null & helper=$!; cat >/dev/null; kill "$helper" 2>/dev/null; wait "$helper"';

export function spawnTied(command: string, args: string[]): ChildProcess {
  const child = spawn('sh', ['-c', WRAPPER, 'sh', command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.on('error', () => undefined);
  return child;
}

/** Stops a tied helper: closing its stdin makes the wrapper kill the helper and exit. */
export function stopTied(child: ChildProcess): void {
  child.stdin?.end();
}

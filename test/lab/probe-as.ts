// A probe from the client namespace as a given uid (or through a wrapper such as `tunlock run --`): what the
// client itself saw, for tests where *who* sends matters (captive hole, bound apps). lab.probe() runs as root.
import path from 'node:path';
import { LAB_DIR } from './fixture/processes';
import type { Lab } from './fixture/lab';

export interface RawProbe {
  /** the far end answered */
  ok: boolean;
  /** the source address the far end saw */
  seen?: string;
  error?: string;
}

export interface ProbeTarget {
  proto: 'tcp' | 'udp' | 'dns';
  host: string;
  port: number;
}

let seq = 0;

/** argv that runs one probe of `target`; `uid` 0 runs it as root, others through setpriv. */
function probeArgv(uid: number, target: ProbeTarget): string[] {
  const n = ++seq;
  const spec = { id: 'p', token: `as-${process.pid}-${n}`, timeoutMs: 800, qname: `as${n}.probe.test`, qtype: 1, ...target };
  const node = [process.execPath, path.join(LAB_DIR, 'servers/probe.mjs'), JSON.stringify([spec])];
  return uid === 0 ? node : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...node];
}

/** Runs `prefix... <probe>` in the client namespace and returns what the client saw. */
export async function probeAs(lab: Lab, uid: number, target: ProbeTarget, prefix: string[] = []): Promise<RawProbe> {
  const argv = [...prefix, ...probeArgv(uid, target)];
  const r = await lab.exec('client', argv[0]!, argv.slice(1));
  return (JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as RawProbe[])[0]!;
}

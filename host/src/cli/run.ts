// `tunlock run [--] CMD ARGS...`: asks the daemon to move this process into a fresh cgroup bound to the
// tunnel, then starts CMD (children inherit the cgroup) and exits with its status. Node cannot exec(2), so
// this process stays as CMD's parent, forwarding signals. When CMD ends the binding is released; if this
// process is killed instead, CMD stays in its cgroup and stays bound (the daemon releases the binding only
// once the cgroup is empty).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { DaemonClient } from '../client/daemon-client.js';

export async function runBound(argv: string[], socketPath: string): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd) throw new Error('runBound needs a command');
  const name = `run-${process.pid}-${randomBytes(3).toString('hex')}`;
  const target = { kind: 'cgroup' as const, name };
  // One short connection to bind and another to unbind: the daemon closes connections that sit idle, and
  // CMD may run for hours.
  const client = new DaemonClient(socketPath, 'cli');
  await client.connect();
  await client.request({ type: 'bindAdd', target });
  client.close();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(cmd, rest, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, forward);
    child.on('error', (e) => {
      process.stderr.write(`tunlock run: cannot start ${cmd}: ${e.message}\n`);
      resolve(127);
    });
    child.on('exit', (status, signal) => resolve(status ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
  const unbind = new DaemonClient(socketPath, 'cli');
  await unbind
    .connect()
    .then(() => unbind.request({ type: 'bindRemove', target }))
    .catch((e: Error) => process.stderr.write(`tunlock run: ${e.message} (the daemon unbinds the program's cgroup by itself once it is empty)\n`));
  unbind.close();
  return code;
}

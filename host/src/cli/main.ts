// tunlock: the command line (entry point). All the logic is in cli.ts; this file wires in the real daemon
// connection, doctor's checks, `run` and the terminal.
import { createInterface } from 'node:readline';
import { DaemonClient } from '../client/daemon-client.js';
import type { CliIo } from './cli.js';
import { main } from './cli.js';
import { defaultContext, runChecks } from './doctor.js';
import { runBound } from './run.js';

const io: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  connect: async (socket) => {
    const client = new DaemonClient(socket, 'cli');
    await client.connect();
    return client;
  },
  doctor: (socket) => runChecks(defaultContext(socket)),
  run: runBound,
  ask: async (question) => {
    if (!process.stdin.isTTY) return null;
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
    rl.close();
    return answer;
  },
};

main(process.argv.slice(2), io).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`tunlock: unexpected error: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);

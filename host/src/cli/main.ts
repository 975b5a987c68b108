// tunlock: the command line (entry point). All the logic is in cli.ts; this file wires in the real daemon
// connection, doctor's checks, `run` and the terminal. Every command pays the CLI's start, so what only some
// commands use (doctor's checks, `run`'s child process, the terminal prompt) is loaded when it is used.
import { DaemonClient } from '../client/daemon-client.js';
import type { CliIo } from './cli.js';
import { main } from './cli.js';

const io: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  connect: async (socket) => {
    const client = new DaemonClient(socket, 'cli');
    await client.connect();
    return client;
  },
  doctor: async (socket) => {
    const { defaultContext, runChecks } = await import('./doctor.js');
    return runChecks(defaultContext(socket));
  },
  run: async (argv, socket) => (await import('./run.js')).runBound(argv, socket),
  ask: async (question) => {
    if (!process.stdin.isTTY) return null;
    const { createInterface } = await import('node:readline');
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

// tunlock: the command line. Parses and validates every argument locally (clear message, exit 2) before
// anything reaches the daemon; the daemon validates again. Exit codes: 0 ok, 1 the daemon refused or failed,
// 2 invalid usage or value, 3 the daemon is unreachable.
import { createInterface } from 'node:readline';
import { DEFAULT_SOCKET, DaemonClient } from '../protocol/daemon-client.js';
import { ValueError } from '../net/values.js';
import type { Status } from '../protocol/schema.js';
import { ProtocolError } from '../protocol/schema.js';
import { toRequest, UsageError } from './commands.js';
import { formatStatus } from './format.js';
import { runBound } from './run.js';

export const USAGE = `usage: tunlock [--socket PATH] [--json] COMMAND
  status                                  show the lock state
  lock on|off|always                      on: engaged while a VPN is in use, kept when it drops;
                                          always: blocked unless a tunnel is up, across reboots
  lan allow|block                         local network access (DNS to the LAN stays blocked)
  tunnel add IF --endpoint ADDR:PORT/udp  a VPN interface and its server(s) (repeat --endpoint); only the VPN's
             [--endpoint-user NAME]     own packets reach them (its fwmark, else root's sockets, or (root only)
                                          NAME's sockets for a VPN client that runs as NAME)
  tunnel remove IF
  tunnel up IF                            (VPN hooks) the tunnel is up
  tunnel down IF [--intentional]          (VPN hooks) --intentional releases an "on" lock
  captive open [--seconds N] | extend [--seconds N] | close
                                          a short, kernel-timed hole to log in to a Wi-Fi portal
  bind user|group NAME / unbind user|group NAME
                                          keep an account's traffic in the tunnel, even with the lock off
  run [--] CMD ARGS...                    run a program bound to the tunnel
  reset [--yes]                           remove tunlock's firewall table and settings (recovery)
  doctor                                  check the installation and say what to fix
  watch                                   print status events as they happen`;

interface Options {
  socket: string;
  json: boolean;
  rest: string[];
}

function parseGlobal(argv: string[]): Options {
  const opts: Options = { socket: process.env.TUNLOCK_SOCKET || DEFAULT_SOCKET, json: false, rest: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') opts.json = true;
    else if (a === '--socket') {
      const v = argv[++i];
      if (!v) throw new UsageError('--socket needs a path');
      opts.socket = v;
    } else if (a.startsWith('--socket=')) opts.socket = a.slice('--socket='.length);
    else if (a === '-h' || a === '--help') throw new UsageError('');
    else break;
  }
  opts.rest = argv.slice(i);
  return opts;
}

async function confirmReset(rest: string[]): Promise<boolean> {
  if (rest.includes('--yes')) return true;
  if (!process.stdin.isTTY) {
    process.stderr.write('tunlock reset: pass --yes to confirm (no terminal to ask on)\n');
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((r) => rl.question('Remove the tunlock firewall table and all settings? Type "yes": ', r));
  rl.close();
  return answer.trim() === 'yes';
}

function print(opts: Options, value: unknown): void {
  if (opts.json) process.stdout.write(`${JSON.stringify(value)}\n`);
  else if (value && typeof value === 'object' && 'state' in value) process.stdout.write(`${formatStatus(value as Status)}\n`);
}

function printError(opts: Options, e: ProtocolError): void {
  if (opts.json) process.stdout.write(`${JSON.stringify({ error: e.toBody() })}\n`);
  process.stderr.write(`tunlock: ${e.message}\n${e.hint ? `  → ${e.hint}\n` : ''}`);
}

async function main(argv: string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parseGlobal(argv);
    if (opts.rest[0] === 'run') return await runBound(opts.rest.slice(1), opts.socket);
    if (opts.rest[0] === 'doctor') return await (await import('./doctor.js')).doctor(opts.socket, opts.json);
    const watch = opts.rest[0] === 'watch';
    const req = watch ? ({ type: 'subscribe' } as const) : toRequest(opts.rest);
    if (req.type === 'reset' && !(await confirmReset(opts.rest))) return 2;
    const client = new DaemonClient(opts.socket, 'cli');
    await client.connect();
    if (watch) {
      client.onEvent((e) => print({ ...opts, json: true }, e));
      print(opts, await client.request(req));
      return await new Promise<number>((resolve) => client.onClose(() => resolve(3)));
    }
    print(opts, await client.request(req));
    client.close();
    return 0;
  } catch (e) {
    const json = argv.includes('--json');
    if (e instanceof UsageError) {
      if (e.message) process.stderr.write(`tunlock: ${e.message}\n`);
      process.stderr.write(`${USAGE}\n`);
      return e.message ? 2 : 0;
    }
    if (e instanceof ValueError) {
      printError({ socket: '', json, rest: [] }, new ProtocolError('invalid_value', e.message));
      return 2;
    }
    if (e instanceof ProtocolError) {
      printError({ socket: '', json, rest: [] }, e);
      return e.code === 'daemon_unavailable' || e.code === 'not_permitted' ? 3 : 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`tunlock: unexpected error: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);

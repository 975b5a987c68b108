// tunlock's command line as one function: main(argv, io) → exit code. Everything it touches outside itself
// (the daemon connection, doctor's checks, `run`, the terminal) comes in through `io`, so unit tests drive the
// whole CLI — every verb and every error path — and main.ts only wires in the real ones.
//
// Output: results on stdout (text, or one JSON object per line under --json); errors on stderr as
// "tunlock: MESSAGE" + "  → what to do", and under --json also as {"error":{code,message,hint?}} on stdout.
// Exit codes: exit-codes.ts (the table in docs/cli.md).
// What only one command uses (doctor's output, the self-test and history formatters) is imported by that
// command: every other command starts without it (main.ts says why).
import { DEFAULT_SOCKET_PATH } from '../common/paths.js';
import type { OkResult, RequestBody } from '../protocol/schema.js';
import { ValueError } from '../net/values.js';
import type { Event, HistoryResult, SelfTestResult, Status } from '../protocol/schema.js';
import { PROTOCOL_VERSION, ProtocolError } from '../protocol/schema.js';
import { parseCommandLine, usage, usageLine, verbHelp } from './args.js';
import type { Check } from './doctor.js';
import { EXIT, exitFor } from './exit-codes.js';
import { formatEvent, formatStatus } from './format.js';
import type { Verb } from './verbs.js';
import { UsageError, findVerb } from './verbs.js';
import { version as VERSION } from '../../../package.json';

/** The part of DaemonClient the CLI uses. */
export interface CliClient {
  request(body: RequestBody): Promise<OkResult>;
  onEvent(listener: (e: Event) => void): void;
  onClose(listener: (why: ProtocolError) => void): void;
  close(): void;
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** connected and greeted (hello done); throws ProtocolError */
  connect(socket: string): Promise<CliClient>;
  /** doctor's checks against this socket */
  doctor(socket: string): Promise<Check[]>;
  /** `tunlock run`: the program's exit status */
  run(argv: string[], socket: string): Promise<number>;
  /** asks on the terminal; null when there is none */
  ask(question: string): Promise<string | null>;
}

/** A CLI-side error in the same shape as the protocol's (`usage` is the CLI's own code). */
interface ErrorOut {
  code: string;
  message: string;
  hint?: string;
}

function fail(io: CliIo, json: boolean, e: ErrorOut): void {
  if (json) io.out(`${JSON.stringify({ error: e })}\n`);
  // A usage error's hint is the usage line itself, shown as such.
  const hint = e.hint ? (e.hint.startsWith('usage: ') ? `${e.hint}\n` : `  → ${e.hint}\n`) : '';
  io.err(`tunlock: ${e.message}\n${hint}`);
}

function usageFailure(io: CliIo, json: boolean, e: UsageError, verb: Verb | null): number {
  fail(io, json, { code: 'usage', message: e.message, hint: usageLine(verb) });
  return EXIT.usage;
}

function printResult(io: CliIo, json: boolean, result: OkResult): void {
  if (json) io.out(`${JSON.stringify(result)}\n`);
  else if ('state' in result) io.out(`${formatStatus(result as Status)}\n`);
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (e) {
    if (e instanceof UsageError) return usageFailure(io, json, e, e.verb ? findVerb(e.verb) ?? null : null);
    if (e instanceof ValueError) {
      fail(io, json, { code: 'invalid_value', message: e.message });
      return EXIT.usage;
    }
    throw e;
  }
  const { verb, action } = parsed;
  if (!action) {
    io.out(`${verb ? verbHelp(verb) : usage()}\n`);
    return EXIT.ok;
  }
  const socket = parsed.socket ?? (io.env.TUNLOCK_SOCKET || DEFAULT_SOCKET_PATH);

  try {
    switch (action.kind) {
      case 'doctor': {
        const checks = await io.doctor(socket);
        const ok = !checks.some((c) => c.status === 'fail');
        const { formatChecks } = await import('./doctor.js');
        io.out(parsed.json ? `${JSON.stringify({ ok, checks })}\n` : `${formatChecks(checks)}\n`);
        return ok ? EXIT.ok : EXIT.failed;
      }
      case 'run':
        return await io.run(action.argv, socket);
      case 'reset':
        if (!action.yes) {
          const answer = await io.ask('Remove the tunlock firewall table and all settings? Type "yes": ');
          if (answer === null) {
            fail(io, parsed.json, { code: 'usage', message: 'reset: not confirmed (no terminal to ask on)', hint: 'pass --yes to confirm' });
            return EXIT.usage;
          }
          if (answer.trim() !== 'yes') {
            fail(io, parsed.json, { code: 'usage', message: 'reset: not confirmed; nothing was changed' });
            return EXIT.usage;
          }
        }
        return await oneRequest(io, parsed.json, socket, { type: 'reset', confirm: true });
      case 'version':
        io.out(parsed.json ? `${JSON.stringify({ version: VERSION, protocol: PROTOCOL_VERSION })}\n` : `tunlock ${VERSION} (protocol ${PROTOCOL_VERSION})\n`);
        return EXIT.ok;
      case 'watch':
        return await watch(io, parsed.json, socket);
      case 'test':
        return await selfTest(io, parsed.json, socket);
      case 'history':
        return await history(io, parsed.json, socket);
      case 'request':
        return await oneRequest(io, parsed.json, socket, action.body);
      case 'lock':
        return await lock(io, parsed.json, socket, action.mode, action.blockAll);
    }
  } catch (e) {
    if (e instanceof ProtocolError) {
      fail(io, parsed.json, e.toBody());
      return exitFor(e.code);
    }
    if (e instanceof UsageError) return usageFailure(io, parsed.json, e, verb);
    throw e;
  }
}

async function oneRequest(io: CliIo, json: boolean, socket: string, body: RequestBody): Promise<number> {
  const client = await io.connect(socket);
  try {
    printResult(io, json, await client.request(body));
    return EXIT.ok;
  } finally {
    client.close();
  }
}

/** `lock on|always`: says so when the daemon locked to a tunnel it detected (none was configured). */
async function lock(io: CliIo, json: boolean, socket: string, mode: 'on' | 'always', blockAll: boolean): Promise<number> {
  const client = await io.connect(socket);
  try {
    const before = (await client.request({ type: 'status' })) as Status;
    const after = (await client.request({ type: 'setMode', mode, ...(blockAll ? { blockAll } : {}) })) as Status;
    const adopted = after.tunnels.filter((t) => !before.tunnels.some((b) => b.iface === t.iface));
    for (const t of adopted) {
      const servers = t.learned.length ? `, server ${t.learned.join(', ')}` : ', no server found (add one: tunlock tunnel add IF --endpoint ADDR:PORT/udp)';
      io.err(`tunlock: no tunnel was configured: locked to the tunnel that is up, ${t.iface}${servers}\n`);
    }
    printResult(io, json, after);
    return EXIT.ok;
  } finally {
    client.close();
  }
}

/** `tunlock test`: the verdict is the exit code (0 every check passed, 1 one failed, 3 no daemon). */
async function selfTest(io: CliIo, json: boolean, socket: string): Promise<number> {
  const { daemonDownResult, formatSelfTest } = await import('./self-test-output.js');
  let client: CliClient;
  try {
    client = await io.connect(socket);
  } catch (e) {
    if (!(e instanceof ProtocolError) || e.code !== 'daemon_unavailable') throw e;
    // No daemon is a result too: nothing re-asserts the lock. Said as a failed check, exit 3 as for any command.
    const r = daemonDownResult(e.message, e.hint, 0);
    io.out(json ? `${JSON.stringify(r)}\n` : `${formatSelfTest(r)}\n`);
    return EXIT.unreachable;
  }
  try {
    const r = (await client.request({ type: 'selfTest' })) as SelfTestResult;
    io.out(json ? `${JSON.stringify(r)}\n` : `${formatSelfTest(r)}\n`);
    return r.ok ? EXIT.ok : EXIT.failed;
  } finally {
    client.close();
  }
}

/** `tunlock history`: oldest first; --json prints the events as one array. */
async function history(io: CliIo, json: boolean, socket: string): Promise<number> {
  const { formatHistory } = await import('./self-test-output.js');
  const client = await io.connect(socket);
  try {
    const r = (await client.request({ type: 'history' })) as HistoryResult;
    io.out(json ? `${JSON.stringify(r.events)}\n` : `${formatHistory(r.events)}\n`);
    return EXIT.ok;
  } finally {
    client.close();
  }
}

/** Prints the current status, then every event, until the daemon goes away (exit 3). */
async function watch(io: CliIo, json: boolean, socket: string): Promise<number> {
  const client = await io.connect(socket);
  const closed = new Promise<ProtocolError>((resolve) => client.onClose(resolve));
  client.onEvent((e) => io.out(json ? `${JSON.stringify(e)}\n` : `${formatEvent(e)}\n`));
  printResult(io, json, await client.request({ type: 'subscribe' }));
  const why = await closed;
  fail(io, json, why.toBody());
  return EXIT.unreachable;
}

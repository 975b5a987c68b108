// tunlock-host: the native messaging host the browser starts for the tunlock extension. A thin, strict relay
// between the browser (stdin/stdout: 4-byte little-endian length + UTF-8 JSON) and tunlockd (unix socket).
// stdout carries protocol frames and nothing else; every log line goes to stderr (the browser's log).
//
// Configuration: browsers start the host with fixed arguments (the caller), so the daemon socket comes from
// the environment: TUNLOCK_SOCKET (default /run/tunlock/tunlockd.sock). Tests use it to point the host at a
// daemon in a lab namespace.
import { DaemonClient } from '../client/daemon-client.js';
import { ProtocolError } from '../protocol/schema.js';
import { BrowserInput } from './browser-input.js';
import type { FrameSink } from './browser-input.js';
import { BrowserOutput } from './browser-output.js';
import type { Caller } from './caller.js';
import { DEFAULT_SOCKET_PATH, lastContactPathFromEnv } from '../common/paths.js';
import { touchLastContact } from './last-contact.js';
import { checkCaller } from './caller.js';
import { Relay } from './relay.js';

/** After the browser closes stdin, answers still in flight get this long before the host exits. */
const DRAIN_MS = 2000;

function log(message: string): void {
  process.stderr.write(`tunlock-host[${process.pid}]: ${message}\n`);
}

function describeCaller(c: Caller): string {
  return c.browser === 'chromium' ? `Chromium, ${c.origin}` : `Firefox, ${c.addonId} (manifest ${c.manifest})`;
}

/** Exits once everything written to stdout has been handed to the browser (or after 1 s regardless). */
function exitAfterFlush(code: number): void {
  process.exitCode = code; // also the status if the loop simply runs dry first
  setTimeout(() => process.exit(code), 1000).unref();
  process.stdout.write('', () => process.exit(code));
}

function main(): void {
  const output = new BrowserOutput((frame) => process.stdout.write(frame), log);
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    log(`cannot write to the browser (${e.code ?? e.message}); exiting`);
    process.exit(0);
  });

  let caller: Caller;
  try {
    caller = checkCaller(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    log(e.message);
    output.send({ id: null, ok: false, error: e.toBody() });
    exitAfterFlush(1);
    return;
  }

  const socketPath = process.env.TUNLOCK_SOCKET || DEFAULT_SOCKET_PATH;
  log(`started by ${describeCaller(caller)}; daemon socket ${socketPath}`);
  const relay = new Relay({
    send: (m) => output.send(m),
    link: () => new DaemonClient(socketPath, 'host'),
    socketPath,
    log,
  });
  // `tunlock doctor` reports when the extension last reached us: recorded once the extension has really sent
  // a message (not merely because something started this program), in the home the browser passed us.
  let contacted = false;
  const lastContact = lastContactPathFromEnv(process.env);
  const sink: FrameSink = {
    handleFrame: (raw) => {
      if (!contacted && lastContact) touchLastContact(lastContact);
      contacted = true;
      return relay.handleFrame(raw);
    },
    frameError: (e) => relay.frameError(e),
  };
  const input = new BrowserInput(sink, { pause: () => process.stdin.pause(), resume: () => process.stdin.resume() }, log);

  let stopping = false;
  const stop = (why: string, drain: boolean): void => {
    if (stopping) return;
    stopping = true;
    log(`${why}; exiting`);
    const quit = () => {
      relay.close();
      exitAfterFlush(0);
    };
    if (!drain) return quit();
    input.end();
    const timer = setTimeout(quit, DRAIN_MS);
    void input.idle().then(() => {
      clearTimeout(timer);
      quit();
    });
  };

  process.stdin.on('data', (chunk: Buffer) => input.push(chunk));
  process.stdin.on('end', () => stop('the browser closed the connection', true));
  process.stdin.on('error', (e: NodeJS.ErrnoException) => stop(`cannot read from the browser (${e.code ?? e.message})`, false));
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => stop(signal, false));
  relay.start();
}

main();

// The real tunlock-host program (bundled from source with esbuild, as host/build.mjs does) as a child
// process speaking native-messaging framing on its stdin/stdout. Needs no root: the daemon here is absent,
// or (as root) a fake one on a root-owned socket. The lab test (test/lab/native-host.test.ts) runs the same
// program against the real tunlockd.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ORIGIN } from '../../host/src/common/extension-ids';
import { FrameDecoder, encodeFrame } from '../../host/src/protocol/framing';
import type { ServerMessage } from '../../host/src/protocol/schema';
import { MAX_MESSAGE_TO_BROWSER_BYTES, MAX_REQUEST_BYTES, PROTOCOL_VERSION, ServerMessage as ServerMessageSchema } from '../../host/src/protocol/schema';
import { sampleStatus } from './native-host-fakes';
import { bundlePrograms } from '../../host/bundle.mjs';
import { requireRootOrSkip } from '../helpers/root.js';

const isRoot = requireRootOrSkip('native-host-process (root-owned fake daemon socket)');
const HELLO = { id: 1, type: 'hello', version: PROTOCOL_VERSION, client: 'extension' };
let dir: string;
let hostJs: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tunlock-hostproc-'));
  hostJs = join(dir, 'tunlock-host.js');
  await bundlePrograms(dir, { 'tunlock-host': fileURLToPath(new URL('../../host/src/native-host/main.ts', import.meta.url)) });
}, 30_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  messages: ServerMessage[];
  problems: string[];
  stderr: () => string;
  exit: Promise<number | null>;
  waitFor: (n: number, timeoutMs?: number) => Promise<void>;
}

function run(args: string[], socket: string, extraEnv: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [hostJs, ...args], { env: { PATH: process.env.PATH ?? '', TUNLOCK_SOCKET: socket, ...extraEnv }, stdio: 'pipe' });
  const messages: ServerMessage[] = [];
  const problems: string[] = [];
  let stderr = '';
  const decoder = new FrameDecoder(MAX_MESSAGE_TO_BROWSER_BYTES);
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (c: Buffer) => {
    const { frames, error } = decoder.push(c);
    for (const f of frames) {
      const p = ServerMessageSchema.safeParse(f);
      if (p.success) messages.push(p.data);
      else problems.push(JSON.stringify(f));
    }
    if (error) problems.push(error.message);
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  child.stdin!.on('error', () => undefined);
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const waitFor = (n: number, timeoutMs = 5000) =>
    new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`waited for ${n} messages, got ${JSON.stringify(messages)}\n${stderr}`)), timeoutMs);
      const check = () => {
        if (messages.length >= n) {
          clearTimeout(t);
          res();
        }
      };
      waiters.push(check);
      check();
    });
  return { child, messages, problems, stderr: () => stderr, exit, waitFor };
}

const send = (r: Run, ...values: unknown[]) => r.child.stdin!.write(Buffer.concat(values.map((v) => encodeFrame(v, 1 << 24))));
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
};

describe('tunlock-host as a process', () => {
  it('records the last contact only once the extension sent a message, only in the HOME the browser passed', async () => {
    const home = join(dir, 'home-contact');
    const contact = join(home, '.local/state/tunlock/last-contact');
    const r = run([CHROMIUM_ORIGIN], join(dir, 'none.sock'), { HOME: home });
    // Started (it logs its caller once set up), nothing sent yet: nothing recorded.
    await new Promise<void>((ok) => r.child.stderr!.on('data', () => r.stderr().includes('started by') && ok()));
    expect(existsSync(contact)).toBe(false);
    send(r, HELLO);
    await r.waitFor(1);
    expect(existsSync(contact)).toBe(true);
    r.child.stdin!.end();
    expect(await r.exit).toBe(0);
    // No HOME (a stripped environment, as in the other tests here): nothing is written anywhere.
    const bare = run([CHROMIUM_ORIGIN], join(dir, 'none.sock'));
    send(bare, HELLO);
    await bare.waitFor(1);
    bare.child.stdin!.end();
    expect(await bare.exit).toBe(0);
    expect(bare.stderr()).not.toMatch(/last-contact/);
  });

  it('refuses a foreign caller with one not_permitted frame and exit code 1', async () => {
    const r = run(['chrome-extension://abcdefghijklmnopabcdefghijklmnop/'], join(dir, 'none.sock'));
    expect(await r.exit).toBe(1);
    expect(r.messages).toEqual([
      { id: null, ok: false, error: { code: 'not_permitted', message: expect.stringMatching(/refuses extension origin/), hint: expect.any(String) } },
    ]);
    expect(r.problems).toEqual([]);
    expect(r.stderr()).toMatch(/refuses extension origin/);
  });

  it('without a daemon: hello works, the reason is pushed, requests get daemon_unavailable; stdin closed → exit 0', async () => {
    const socket = join(dir, 'none.sock');
    const r = run([CHROMIUM_ORIGIN], socket);
    send(r, HELLO, { id: 2, type: 'status' });
    await r.waitFor(3);
    expect(r.messages).toContainEqual({ id: 1, ok: true, result: { version: PROTOCOL_VERSION, server: 'tunlock-host' } });
    expect(r.messages).toContainEqual({ event: 'daemon', available: false, error: { code: 'daemon_unavailable', message: `tunlockd is not running (no socket at ${socket})`, hint: `start tunlockd with --socket ${socket}` } });
    expect(r.messages).toContainEqual({ id: 2, ok: false, error: expect.objectContaining({ code: 'daemon_unavailable' }) });
    // Waits for the exit itself (no time bound: a host that hangs fails on the test's timeout).
    r.child.stdin!.end();
    expect(await r.exit).toBe(0);
    expect(r.problems).toEqual([]);
  });

  it('survives a barrage of bad frames, answering each, and exits 0 on SIGTERM', async () => {
    const r = run([CHROMIUM_ORIGIN], join(dir, 'none.sock'));
    send(r, HELLO);
    await r.waitFor(2);
    const n0 = r.messages.length;
    r.child.stdin!.write(Buffer.concat([u32(MAX_REQUEST_BYTES + 1), Buffer.alloc(MAX_REQUEST_BYTES + 1, 0x41)])); // too large
    r.child.stdin!.write(Buffer.concat([u32(3), Buffer.from([0xff, 0xfe, 0xfd])])); // not UTF-8
    r.child.stdin!.write(Buffer.concat([u32(1), Buffer.from('{')])); // not JSON
    send(r, { id: 5, type: 'nope' }, { id: 6, type: 'status', extra: 1 }, 'x', [], { id: 7, type: 'hello', version: 'one', client: 'extension' });
    await r.waitFor(n0 + 8);
    const answers = r.messages.slice(n0);
    expect(answers.map((m) => ('ok' in m && !m.ok ? `${m.id}:${m.error.code}` : 'other'))).toEqual([
      'null:bad_frame',
      'null:bad_frame',
      'null:bad_frame',
      '5:bad_request',
      '6:bad_request',
      'null:bad_request',
      'null:bad_request',
      '7:bad_request',
    ]);
    send(r, { id: 8, type: 'status' });
    await r.waitFor(n0 + 9);
    expect(r.messages.at(-1)).toMatchObject({ id: 8, ok: false, error: { code: 'daemon_unavailable' } });
    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(0);
    expect(r.problems).toEqual([]);
  });

  describe.skipIf(!isRoot)('(root) with a fake daemon on a root-owned socket', () => {
    let server: Server;
    const received: unknown[] = [];
    const sockets: Socket[] = [];
    const socket = () => join(dir, 'fake.sock');
    beforeAll(async () => {
      server = createServer((s) => {
        sockets.push(s);
        const d = new FrameDecoder(MAX_REQUEST_BYTES);
        s.on('error', () => undefined);
        s.on('data', (c: Buffer) => {
          for (const raw of d.push(c).frames) {
            received.push(raw);
            const req = raw as { id: number; type: string };
            const result = req.type === 'hello' ? { version: PROTOCOL_VERSION, server: 'tunlockd' } : sampleStatus();
            s.write(encodeFrame({ id: req.id, ok: true, result }, 1 << 20));
          }
        });
      });
      await new Promise<void>((r) => server.listen(socket(), () => r()));
    });
    afterAll(() => {
      server.close();
    });

    it('forwards only valid requests, re-numbered, with the browser ids echoed back; bad frames never reach it', async () => {
      const r = run([CHROMIUM_ORIGIN], socket());
      send(r, HELLO);
      await r.waitFor(2);
      expect(r.messages[1]).toEqual({ event: 'daemon', available: true });
      r.child.stdin!.write(Buffer.concat([u32(2), Buffer.from('{]')]));
      send(r, { id: 100, type: 'setMode', mode: 'on' }, { id: 101, type: 'setMode', mode: 'on', sneaky: true }, { id: 102, type: 'tunnelUp', iface: 'wg0' });
      await r.waitFor(6);
      expect(r.messages.find((m) => 'id' in m && m.id === 100)).toEqual({ id: 100, ok: true, result: sampleStatus() });
      expect(r.messages.find((m) => 'id' in m && m.id === 102)).toEqual({ id: 102, ok: true, result: sampleStatus() });
      expect(received).toEqual([
        { type: 'hello', version: PROTOCOL_VERSION, client: 'host', id: 1 },
        { type: 'setMode', mode: 'on', id: 2 },
        { type: 'tunnelUp', iface: 'wg0', id: 3 },
      ]);
      r.child.stdin!.end();
      expect(await r.exit).toBe(0);
      expect(r.problems).toEqual([]);
    });
  });
});

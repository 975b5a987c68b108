// The daemon's own boundary against a hostile group member, with a real tunlockd in a throwaway namespace
// (test/helpers/netns-daemon.ts). The member is `nobody` (uid 65534), made a member by running the daemon
// with `--group nogroup` (nobody's primary group) so no account is created on the machine.
//   • identity is bound to the connection: a socket a member connected and root now holds is still the
//     member's (the old `ss` lookup after accept named root and opened the captive hole for root);
//   • availability: 200 idle connections of one member do not keep root from `lock off`;
//   • a half-sent frame does not hold a connection forever.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeFd, pidfdGetfd, pidfdOpen } from '../../host/src/process/linux-syscalls';
import { DaemonClient } from '../../host/src/client/daemon-client';
import { FrameDecoder, encodeFrame } from '../../host/src/protocol/framing';
import type { ServerMessage, Status } from '../../host/src/protocol/schema';
import { MAX_REQUEST_BYTES, PROTOCOL_VERSION } from '../../host/src/protocol/schema';
import { MAX_PER_UID } from '../../host/src/daemon/server';
import { DIST, startNetnsDaemon } from '../helpers/netns-daemon';
import type { NetnsDaemon } from '../helpers/netns-daemon';
import { requireRootOrSkip } from '../helpers/root.js';

const run = requireRootOrSkip('lab: daemon boundary', ['ip', 'nft', 'setpriv']);
const NOBODY = 65534;

/** What a member runs: `one` connects once and reports its fd; `many N` opens N connections and holds them. */
const MEMBER = (MAX: number) => `
import { connect } from 'node:net';
const [mode, socketPath, n] = process.argv.slice(2);
if (mode === 'one') {
  const s = connect(socketPath, () => console.log(JSON.stringify({ fd: s._handle.fd })));
  s.on('error', (e) => console.log(JSON.stringify({ error: e.message })));
} else {
  // Reports once every connection was made and the daemon has closed all it will (or after 10 s).
  let connected = 0, closed = 0;
  const started = Date.now();
  const poll = setInterval(() => {
    const open = connected - closed;
    if ((connected === Number(n) && open <= ${MAX}) || Date.now() - started > 10000) {
      clearInterval(poll);
      console.log(JSON.stringify({ open, closed }));
    }
  }, 100);
  for (let i = 0; i < Number(n); i++) {
    const s = connect(socketPath);
    s.on('connect', () => connected++);
    s.resume(); // read (and discard) what the daemon sends, so its hang-up is seen
    s.on('close', () => closed++);
    s.on('error', () => undefined);
  }
}
setInterval(() => {}, 1000);
`;

function firstLine(child: ChildProcess): Promise<Record<string, number | string>> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => {
      out += t;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve(JSON.parse(line) as Record<string, number | string>);
    });
    child.once('exit', (code) => reject(new Error(`member exited (${code}) before reporting: ${out}`)));
  });
}

/** A framed conversation over a socket the test holds. */
function converse(socket: Socket) {
  const decoder = new FrameDecoder(1 << 20);
  const waiting: ((m: ServerMessage) => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const m of decoder.push(chunk).frames) waiting.shift()?.(m as ServerMessage);
  });
  let id = 0;
  return (body: Record<string, unknown>): Promise<ServerMessage> =>
    new Promise((resolve) => {
      waiting.push(resolve);
      socket.write(encodeFrame({ id: ++id, ...body }, MAX_REQUEST_BYTES));
    });
}

describe.runIf(run)('daemon boundary (hostile group member)', () => {
  let d: NetnsDaemon;
  let member: string;
  const cli = async (...args: string[]) => {
    const r = await d.exec(process.execPath, [join(DIST, 'tunlock.js'), '--socket', d.socket, '--json', ...args]);
    if (r.code !== 0) throw new Error(`tunlock ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Status;
  };
  const spawnMember = (...args: string[]) =>
    d.spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, member, ...args]);

  beforeAll(async () => {
    d = await startNetnsDaemon({ daemonArgs: ['--group', 'nogroup'] });
    member = join(d.dir, 'member.mjs');
    writeFileSync(member, MEMBER(MAX_PER_UID), { mode: 0o644 });
    // A physical uplink with a default route, so a captive hole can be opened.
    for (const args of [
      ['link', 'add', 'tlbup0', 'type', 'veth', 'peer', 'name', 'tlbup1'],
      ['addr', 'add', '192.0.2.2/24', 'dev', 'tlbup0'],
      ['link', 'set', 'tlbup0', 'up'],
      ['link', 'set', 'tlbup1', 'up'],
      ['route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'tlbup0'],
    ]) {
      const r = await d.exec('ip', args);
      if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    }
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('a connection a member made and root now holds is still the member\'s: the captive hole it opens is for the member, and root-only requests are refused', async () => {
    await cli('lock', 'always');
    const daemonPid = d.pid()!;
    // Freeze the daemon so it accepts only after the hand-over (the old `ss` lookup ran after accept).
    process.kill(daemonPid, 'SIGSTOP');
    let held: Socket | null = null;
    try {
      const m = spawnMember('one', d.socket);
      const { fd } = await firstLine(m);
      expect(typeof fd).toBe('number');
      const pidfd = pidfdOpen(m.pid!);
      const mine = pidfdGetfd(pidfd, fd as number);
      closeFd(pidfd);
      m.kill('SIGKILL');
      await new Promise((r) => m.once('exit', r));
      held = new Socket({ fd: mine, readable: true, writable: true });
    } finally {
      process.kill(daemonPid, 'SIGCONT');
    }
    const ask = converse(held);
    expect(await ask({ type: 'hello', version: PROTOCOL_VERSION, client: 'test' })).toMatchObject({ ok: true });
    const refused = await ask({ type: 'tunnelAdd', iface: 'tlbup0', endpoints: [] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'not_permitted', message: expect.stringMatching(/root only; uid 65534/) } });
    const opened = await ask({ type: 'captiveOpen', seconds: 30 });
    expect(opened).toMatchObject({ ok: true, result: { state: 'exception', captive: { uid: NOBODY, iface: 'tlbup0' } } });
    expect(d.log()).toMatch(new RegExp(`client connected: uid=${NOBODY} `));
    held.destroy();
    expect((await cli('captive', 'close')).captive).toBeNull();
    await cli('lock', 'off');
  });

  it('a member may not close or extend a captive hole opened for another uid; root may', async () => {
    await cli('lock', 'always');
    expect((await cli('captive', 'open', '--seconds', '30')).captive?.uid).toBe(0);
    const asMember = (...args: string[]) =>
      d.exec('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, join(DIST, 'tunlock.js'), '--socket', d.socket, ...args]);
    for (const args of [['captive', 'close'], ['captive', 'extend', '--seconds', '30']]) {
      const r = await asMember(...args);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toMatch(/open for uid 0, not for uid 65534/);
    }
    expect((await cli('status')).captive?.uid).toBe(0);
    expect((await cli('captive', 'close')).captive).toBeNull();
    await cli('lock', 'off');
  });

  it('200 idle connections of one member do not keep root out: lock off is answered', async () => {
    await cli('lock', 'always');
    const m = spawnMember('many', d.socket, '200');
    try {
      const { open, closed } = await firstLine(m);
      console.info(`member: ${open} of 200 connections held open, ${closed} refused by the daemon`);
      expect(open).toBeLessThanOrEqual(MAX_PER_UID);
      expect(d.log()).toMatch(new RegExp(`refused uid=${NOBODY} pid=\\d+: uid ${NOBODY} already holds ${MAX_PER_UID} connections`));
      // Root, while they are held: measured from connect to the answer of the change.
      const t0 = performance.now();
      const root = new DaemonClient(d.socket, 'test');
      await root.connect(5000);
      const s = await root.requestStatus({ type: 'setMode', mode: 'off' });
      const ms = performance.now() - t0;
      root.close();
      // Answered at all is the claim; how fast is a measurement (the bench judges timing goals).
      console.info(`root's lock off answered in ${ms.toFixed(0)} ms with ${open} member connections held`);
      expect(s.mode).toBe('off');
    } finally {
      m.kill('SIGKILL');
    }
  });

  it('a member that sends half a frame after hello is cut off (frame timer), freeing its slot', async () => {
    const m = d.spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '-e', `
      const s = require('net').connect(${JSON.stringify(d.socket)}, () => {
        const hello = Buffer.from(JSON.stringify({ id: 1, type: 'hello', version: ${PROTOCOL_VERSION}, client: 'test' }));
        const len = Buffer.alloc(4); len.writeUInt32LE(hello.length);
        s.write(Buffer.concat([len, hello]));
        s.once('data', () => { const half = Buffer.alloc(4); half.writeUInt32LE(100); s.write(half); s.write('{"id"'); });
      });
      s.on('close', () => { console.log('closed by the daemon'); process.exit(0); });
      setTimeout(() => { console.log('still open'); process.exit(1); }, 30000);
    `]);
    const out = await new Promise<string>((resolve) => {
      let text = '';
      m.stdout!.setEncoding('utf8').on('data', (t: string) => (text += t));
      m.once('exit', () => resolve(text));
    });
    expect(out).toMatch(/closed by the daemon/);
    expect(d.log()).toMatch(/disconnected uid=65534 pid=\d+: a frame stayed incomplete/);
  });
});

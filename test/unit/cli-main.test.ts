// The whole CLI, driven through main(argv, io): every verb, --help, --json, and every error path with its
// exit code. The daemon is a fake that validates every request it gets against the protocol schema (what the
// real daemon would accept); the real CLI against the real daemon runs in the lab tests.
import { describe, expect, it } from 'vitest';
import type { CliClient, CliIo } from '../../host/src/cli/cli';
import { main } from '../../host/src/cli/cli';
import type { Check } from '../../host/src/cli/doctor';
import { VERBS } from '../../host/src/cli/verbs';
import type { OkResult, RequestBody } from '../../host/src/protocol/schema';
import { daemonUnavailable, notInGroup } from '../../host/src/client/daemon-client';
import type { Event } from '../../host/src/protocol/schema';
import { PROTOCOL_VERSION, ProtocolError, Request } from '../../host/src/protocol/schema';
import pkg from '../../package.json';
import { sampleStatus } from './native-host-fakes';

interface Run {
  code: number;
  out: string;
  err: string;
  sent: RequestBody[];
  sockets: string[];
  ran: string[][];
}

interface Fake {
  answer?: (body: RequestBody) => OkResult;
  connectError?: ProtocolError;
  answerTty?: string | null;
  checks?: Check[];
  events?: Event[];
  env?: NodeJS.ProcessEnv;
}

async function cli(line: string | string[], fake: Fake = {}): Promise<Run> {
  const argv = typeof line === 'string' ? line.split(' ').filter(Boolean) : line;
  const r: Run = { code: -1, out: '', err: '', sent: [], sockets: [], ran: [] };
  const io: CliIo = {
    out: (t) => void (r.out += t),
    err: (t) => void (r.err += t),
    env: fake.env ?? {},
    connect: async (socket) => {
      r.sockets.push(socket);
      if (fake.connectError) throw fake.connectError;
      let closeListener: ((why: ProtocolError) => void) | null = null;
      let eventListener: ((e: Event) => void) | null = null;
      const client: CliClient = {
        request: async (body) => {
          // Whatever the CLI sends must be a request the daemon accepts.
          expect(Request.safeParse({ ...body, id: 1 }).success, JSON.stringify(body)).toBe(true);
          r.sent.push(body);
          const result = (fake.answer ?? (() => sampleStatus()))(body);
          if (body.type === 'subscribe') {
            // After the answer, as the daemon does.
            setTimeout(() => {
              for (const e of fake.events ?? []) eventListener?.(e);
              closeListener?.(daemonUnavailable('connection to tunlockd closed', socket));
            }, 0);
          }
          return result;
        },
        onEvent: (l) => void (eventListener = l),
        onClose: (l) => void (closeListener = l),
        close: () => undefined,
      };
      return client;
    },
    doctor: async () => fake.checks ?? [{ id: 'nft', status: 'ok', message: 'nftables v1' }],
    run: async (argv2) => {
      r.ran.push(argv2);
      return 7;
    },
    ask: async () => (fake.answerTty === undefined ? null : fake.answerTty),
  };
  r.code = await main(argv, io);
  return r;
}

const refuse = (code: ConstructorParameters<typeof ProtocolError>[0], message: string, hint?: string) => () => {
  throw new ProtocolError(code, message, hint);
};

describe('tunlock main(): every verb sends exactly its request', () => {
  it.each([
    ['status', { type: 'status' }],
    ['lock off', { type: 'setMode', mode: 'off' }],
    ['lan allow', { type: 'setLan', allow: true }],
    ['lan block', { type: 'setLan', allow: false }],
    ['lan add 10.20.1.1/16', { type: 'lanAdd', range: '10.20.0.0/16' }],
    ['lan remove fd00:1::/48', { type: 'lanRemove', range: 'fd00:1::/48' }],
    ['tunnel add wg0 --endpoint 198.51.100.10:51820/udp --endpoint [2001:db8::1]:443/tcp', { type: 'tunnelAdd', iface: 'wg0', endpoints: ['198.51.100.10:51820/udp', '[2001:db8::1]:443/tcp'] }],
    ['tunnel add wg0', { type: 'tunnelAdd', iface: 'wg0', endpoints: [] }],
    ['tunnel add tun0 --endpoint 198.51.100.20:1194/udp --endpoint-user openvpn', { type: 'tunnelAdd', iface: 'tun0', endpoints: ['198.51.100.20:1194/udp'], endpointUser: 'openvpn' }],
    ['tunnel remove wg0', { type: 'tunnelRemove', iface: 'wg0' }],
    ['tunnel adopt wg0', { type: 'tunnelAdopt', iface: 'wg0' }],
    ['tunnel up wg0', { type: 'tunnelUp', iface: 'wg0' }],
    ['tunnel down wg0', { type: 'tunnelDown', iface: 'wg0', intentional: false }],
    ['tunnel down --intentional wg0', { type: 'tunnelDown', iface: 'wg0', intentional: true }],
    ['captive open', { type: 'captiveOpen', seconds: 120 }],
    ['captive open --seconds 600', { type: 'captiveOpen', seconds: 600 }],
    ['captive extend --seconds=60', { type: 'captiveExtend', seconds: 60 }],
    ['captive close', { type: 'captiveClose' }],
    ['bind user debian-transmission', { type: 'bindAdd', target: { kind: 'user', name: 'debian-transmission' } }],
    ['unbind group media', { type: 'bindRemove', target: { kind: 'group', name: 'media' } }],
    ['reset --yes', { type: 'reset', confirm: true }],
  ])('%s', async (line, expected) => {
    const r = await cli(line);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.sent).toEqual([expected]);
    expect(r.out).toMatch(/^State: {4}Off/);
  });

  it('lock on|always: reads the status, then sets the mode (--block-all passed on)', async () => {
    expect((await cli('lock on')).sent).toEqual([{ type: 'status' }, { type: 'setMode', mode: 'on' }]);
    expect((await cli('lock always')).sent).toEqual([{ type: 'status' }, { type: 'setMode', mode: 'always' }]);
    const all = await cli('lock --block-all on');
    expect(all.sent).toEqual([{ type: 'status' }, { type: 'setMode', mode: 'on', blockAll: true }]);
    expect(all.code).toBe(0);
  });

  it('lock on with no tunnel configured says which detected tunnel it locked to (stderr; stdout stays the status)', async () => {
    const wg0 = { iface: 'wg0', up: true, endpoints: [], learned: ['198.51.100.10:51820/udp'] };
    const answer = (b: RequestBody) => (b.type === 'setMode' ? sampleStatus({ mode: 'on', state: 'protected', tunnels: [wg0] }) : sampleStatus({ detected: [{ iface: 'wg0', kind: 'wireguard', endpoints: ['198.51.100.10:51820/udp'] }] }));
    const r = await cli('lock on --json', { answer });
    expect(r.code).toBe(0);
    expect(r.err).toBe('tunlock: no tunnel was configured: locked to the tunnel that is up, wg0, server 198.51.100.10:51820/udp\n');
    expect(JSON.parse(r.out)).toMatchObject({ state: 'protected', tunnels: [wg0] });
  });

  it('lock on that needs a choice (several tunnels up, or none) exits 2 with the list and what to do', async () => {
    const answer = (b: RequestBody) => {
      if (b.type === 'setMode') throw new ProtocolError('needs_choice', 'no tunnel is configured and several are up: wg0 (wireguard), tun0 (tun)', 'choose one: tunlock tunnel adopt wg0, then lock again');
      return sampleStatus();
    };
    const r = await cli('lock on', { answer });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/several are up: wg0 \(wireguard\), tun0 \(tun\)\n  → choose one: tunlock tunnel adopt wg0/);
  });

  it('status shows detected tunnels', async () => {
    const r = await cli('status', { answer: () => sampleStatus({ detected: [{ iface: 'wg0', kind: 'wireguard', endpoints: ['198.51.100.10:51820/udp'] }] }) });
    expect(r.out).toMatch(/Detected: wg0 \(wireguard, up, not configured\) → 198\.51\.100\.10:51820\/udp; lock on locks to it, or: tunlock tunnel adopt wg0/);
  });

  it('flags stand anywhere: `status --json` is JSON, and so is `--json status`', async () => {
    for (const line of ['status --json', '--json status', '--socket /x/s.sock status --json']) {
      const r = await cli(line);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toEqual(sampleStatus());
    }
  });

  it('--socket (either spelling), then $TUNLOCK_SOCKET, then the default', async () => {
    expect((await cli('status --socket /a/d.sock')).sockets).toEqual(['/a/d.sock']);
    expect((await cli('--socket=/b/d.sock status')).sockets).toEqual(['/b/d.sock']);
    expect((await cli('status', { env: { TUNLOCK_SOCKET: '/c/d.sock' } })).sockets).toEqual(['/c/d.sock']);
    expect((await cli('status')).sockets).toEqual(['/run/tunlock/tunlockd.sock']);
  });

  it('run hands every word after it to the program, flags included, and returns its status', async () => {
    const r = await cli('--socket /s/d.sock run -- curl --json -x https://example.test');
    expect(r.ran).toEqual([['curl', '--json', '-x', 'https://example.test']]);
    expect(r.code).toBe(7);
    expect((await cli('run ls -l')).ran).toEqual([['ls', '-l']]);
  });

  it('doctor prints the checks; exit 1 when one failed; --json is {ok, checks}', async () => {
    const ok = await cli('doctor');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/all good/);
    const checks: Check[] = [{ id: 'daemon', status: 'fail', message: 'tunlockd is not running', fix: 'sudo tunlock-install start' }];
    const bad = await cli('doctor --json', { checks });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out)).toEqual({ ok: false, checks });
  });

  it('watch prints the status and then each event until the daemon goes away (exit 3)', async () => {
    const events: Event[] = [{ event: 'tamper', detail: 'table inet tunlock removed', at: 1 }, { event: 'status', status: sampleStatus({ mode: 'on', state: 'blocking' }) }];
    const text = await cli('watch', { events });
    expect(text.sent).toEqual([{ type: 'subscribe' }]);
    expect(text.out).toMatch(/^State: {4}Off[\s\S]*tamper: table inet tunlock removed[\s\S]*blocking \(mode on\)\n$/);
    expect(text.code).toBe(3);
    const json = await cli('watch --json', { events });
    const lines = json.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.slice(0, 3)).toEqual([sampleStatus(), ...events]);
    expect(lines[3]).toMatchObject({ error: { code: 'daemon_unavailable' } });
  });

  it('reset asks on the terminal; without one, or without "yes", nothing is sent (exit 2)', async () => {
    expect(await cli('reset', { answerTty: 'yes' })).toMatchObject({ code: 0, sent: [{ type: 'reset', confirm: true }] });
    const no = await cli('reset', { answerTty: 'no' });
    expect(no).toMatchObject({ code: 2, sent: [] });
    expect(no.err).toMatch(/not confirmed; nothing was changed/);
    const tty = await cli('reset');
    expect(tty).toMatchObject({ code: 2, sent: [] });
    expect(tty.err).toMatch(/pass --yes/);
  });
});

describe('tunlock main(): help', () => {
  it('--help and -h list every verb (exit 0, stdout)', async () => {
    for (const line of ['--help', '-h']) {
      const r = await cli(line);
      expect(r.code).toBe(0);
      for (const v of VERBS) expect(r.out).toContain(v.usage);
    }
  });
  it.each(VERBS.map((v) => v.name))('%s --help shows that verb alone and sends nothing', async (name) => {
    const r = await cli(`${name} --help`);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(`usage: tunlock ${VERBS.find((v) => v.name === name)!.usage}`);
    expect(r.sent).toEqual([]);
    expect(r.ran).toEqual([]);
  });
});

describe('tunlock main(): version', () => {
  it('--version and version print "tunlock VERSION (protocol N)" without reaching the daemon', async () => {
    for (const line of ['--version', 'version', 'status --version', '--socket /x --version']) {
      const r = await cli(line);
      expect(r.code, line).toBe(0);
      expect(r.out, line).toBe(`tunlock ${pkg.version} (protocol ${PROTOCOL_VERSION})\n`);
      expect(r.err, line).toBe('');
      expect(r.sockets, line).toEqual([]);
    }
  });
  it('--json prints {version, protocol}', async () => {
    for (const line of ['--version --json', 'version --json']) {
      const r = await cli(line);
      expect(r.code, line).toBe(0);
      expect(JSON.parse(r.out), line).toEqual({ version: pkg.version, protocol: PROTOCOL_VERSION });
    }
  });
  it('the version is the package\'s, a release version', () => {
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
  });
  it('refuses extra words and unknown verbs as anything else does', async () => {
    expect((await cli('version now')).code).toBe(2);
    expect((await cli('frobnicate --version')).err).toMatch(/unknown command "frobnicate"/);
  });
});

describe('tunlock main(): mistakes are refused before anything is sent (exit 2 + usage line)', () => {
  it.each([
    ['', /no command given/, /tunlock --help lists the commands/],
    ['frobnicate', /unknown command "frobnicate"/, /tunlock --help/],
    ['lock on off', /unexpected "off"/, /usage: tunlock lock on\|off\|always/],
    ['lock off --block-all', /--block-all belongs to lock on and lock always/, /usage: tunlock lock/],
    ['lock maybe', /expected on\|off\|always, not "maybe"/, /usage: tunlock lock/],
    ['lock', /lock: expected on\|off\|always/, /usage: tunlock lock/],
    ['status --bogus', /unknown option --bogus for status/, /usage: tunlock status/],
    ['status extra', /unexpected "extra"/, /usage: tunlock status/],
    ['--bogus status', /unknown option --bogus/, /usage: tunlock status/],
    ['status --json=yes', /--json takes no value/, /usage: tunlock status/],
    ['status --socket', /--socket needs a value/, /usage: tunlock status/],
    ['lan', /lan: expected allow\|block/, /usage: tunlock lan/],
    ['tunnel add wg0 198.51.100.10:51820', /unexpected "198.51.100.10:51820"/, /usage: tunlock tunnel/],
    ['tunnel add', /tunnel: missing argument/, /usage: tunlock tunnel/],
    ['tunnel down wg0 --now', /unknown option --now for tunnel/, /usage: tunlock tunnel/],
    ['tunnel remove wg0 --endpoint 198.51.100.10:51820/udp', /--endpoint belongs to tunnel add/, /usage: tunlock tunnel/],
    ['tunnel up wg0 --intentional', /--intentional belongs to tunnel down/, /usage: tunlock tunnel/],
    ['tunnel add tun0 --endpoint-user bad;name', /invalid user name "bad;name"/, /usage: tunlock tunnel/],
    ['tunnel add tun0 --endpoint-user a --endpoint-user b', /--endpoint-user may be given once/, /usage: tunlock tunnel/],
    ['tunnel remove tun0 --endpoint-user a', /--endpoint-user belongs to tunnel add/, /usage: tunlock tunnel/],
    ['captive open --seconds 601', /--seconds must be a whole number from 10 to 600/, /usage: tunlock captive/],
    ['captive open --seconds 5', /--seconds must be/, /usage: tunlock captive/],
    ['captive open --seconds 1e2', /--seconds must be/, /usage: tunlock captive/],
    ['captive close --seconds 60', /--seconds belongs to captive open and extend/, /usage: tunlock captive/],
    ['captive open now', /unexpected "now"/, /usage: tunlock captive/],
    ['bind user bad;name', /invalid user name "bad;name"/, /usage: tunlock bind/],
    ['bind everyone x', /expected user\|group/, /usage: tunlock bind/],
    ['bind user', /bind: missing argument/, /usage: tunlock bind/],
    ['unbind user a b', /unexpected "b"/, /usage: tunlock unbind/],
    ['run', /run: no command given/, /usage: tunlock run/],
    ['run --', /run: no command given/, /usage: tunlock run/],
    ['reset now', /unexpected "now"/, /usage: tunlock reset/],
    ['doctor --fix', /unknown option --fix for doctor/, /usage: tunlock doctor/],
    ['watch all', /unexpected "all"/, /usage: tunlock watch/],
  ])('%j', async (line, message, usageLine) => {
    const r = await cli(line);
    expect(r.code).toBe(2);
    expect(r.sent).toEqual([]);
    expect(r.ran).toEqual([]);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(usageLine);
  });

  it.each([
    ['tunnel add wg0 --endpoint 1.2.3.4', /invalid endpoint|ADDR:PORT/],
    ['tunnel add wg0;reboot --endpoint 198.51.100.10:51820/udp', /invalid interface name/],
  ])('an invalid value: %j (exit 2, nothing sent)', async (line, message) => {
    const r = await cli(line);
    expect(r.code).toBe(2);
    expect(r.sent).toEqual([]);
    expect(r.err).toMatch(message);
  });

  it('under --json, a usage error is also one JSON object on stdout', async () => {
    const r = await cli('lock on off --json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toEqual({ error: { code: 'usage', message: 'unexpected "off"', hint: 'usage: tunlock lock on|off|always [--block-all]' } });
    const v = await cli('--json tunnel add wg0 --endpoint nope');
    expect(JSON.parse(v.out).error.code).toBe('invalid_value');
  });
});

describe('tunlock main(): daemon errors map to exit codes and say what to do', () => {
  it('daemon not running → exit 3 with the start hint (JSON under --json)', async () => {
    const connectError = daemonUnavailable('tunlockd is not running (no socket at /run/tunlock/tunlockd.sock)', '/run/tunlock/tunlockd.sock');
    const r = await cli('status --json', { connectError });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out)).toEqual({ error: connectError.toBody() });
    expect(r.err).toMatch(/^tunlock: tunlockd is not running[\s\S]*→ start the daemon: sudo /);
  });

  it('not in group tunlock (EACCES) → exit 4 saying usermod -aG and log in again, never "start the daemon"', async () => {
    const r = await cli('lock on', { connectError: notInGroup('/run/tunlock/tunlockd.sock') });
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/permission denied[\s\S]*usermod -aG tunlock \$USER, then log out and in again/);
    expect(r.err).not.toMatch(/start the daemon/);
  });

  it.each([
    ['firewall_failed', 1],
    ['conflict', 1],
    ['not_found', 1],
    ['state_unreadable', 1],
    ['internal', 1],
    ['not_permitted', 4],
    ['invalid_value', 1],
    ['bad_request', 1],
    ['needs_choice', 2],
  ] as const)('the daemon answers %s → exit %i, message and hint on stderr', async (code, exit) => {
    const r = await cli('tunnel remove wg0', { answer: refuse(code, `refused: ${code}`, 'do this instead') });
    expect(r.code).toBe(exit);
    expect(r.err).toBe(`tunlock: refused: ${code}\n  → do this instead\n`);
    expect(r.out).toBe('');
    const j = await cli('tunnel remove wg0 --json', { answer: refuse(code, `refused: ${code}`) });
    expect(JSON.parse(j.out)).toEqual({ error: { code, message: `refused: ${code}` } });
  });
});

describe('tunlock test / tunlock history', () => {
  const passed = { ok: true, checks: [{ name: 'lock', ok: true, evidence: 'engaged (state protected)' }], notes: [], tunnelAddresses: [], ms: 800 };
  const failedTest = { ...passed, ok: false, checks: [{ name: 'lock', ok: false, evidence: 'Not protected: the lock is off', fix: 'turn the lock on: `tunlock lock on`' }] };

  it('test: every check passed → exit 0, the verdict and the evidence', async () => {
    const r = await cli('test', { answer: () => passed });
    expect(r.sent).toEqual([{ type: 'selfTest' }]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Locked — 1 of 1 checks passed\n\n✔ lock: engaged/);
  });

  it('test: a failed check → exit 1; --json prints the result as the last line', async () => {
    const r = await cli('test --json', { answer: () => failedTest });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out.trim().split('\n').pop()!)).toEqual(failedTest);
  });

  it('test without a daemon → exit 3, the failed `daemon` check with the fix', async () => {
    const r = await cli('test --json', { connectError: daemonUnavailable('tunlockd is not running (no socket at /run/x.sock)', '/run/x.sock') });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, checks: [{ name: 'daemon', ok: false, fix: expect.any(String) }] });
  });

  it('history: oldest first; --json is the event array', async () => {
    const events = [{ at: 1, type: 'off', cause: 'start' }, { at: 2, type: 'blocking', cause: 'request', previous: { state: 'off', ms: 1 } }];
    const r = await cli('history --json', { answer: () => ({ events }) as OkResult });
    expect(r.sent).toEqual([{ type: 'history' }]);
    expect(JSON.parse(r.out)).toEqual(events);
    expect((await cli('history', { answer: () => ({ events }) as OkResult })).out).toMatch(/blocking {3}\(request\) after 0 s off/);
  });

  it('refuse extra words', async () => {
    expect((await cli('test now')).code).toBe(2);
    expect((await cli('history all')).code).toBe(2);
  });
});

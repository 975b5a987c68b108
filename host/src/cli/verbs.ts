// The CLI's verbs: one table that gives each its usage line, its own flags (for node:util parseArgs) and
// the function that turns its words into one action. The parser (args.ts), `--help`, the usage text and the
// completion test all read this table, so a verb exists in one place. Every value is parsed here (a clear
// message, exit 2) before anything is sent; the daemon validates again.
import { parseCidr, parseEndpoint, parseIfname } from '../net/values.js';
import type { RequestBody } from '../protocol/schema.js';
import type { BindTarget } from '../protocol/schema.js';
import { CAPTIVE_DEFAULT_SECONDS, CAPTIVE_MAX_SECONDS, CAPTIVE_MIN_SECONDS } from '../protocol/captive.js';

/** A mistake in the command line: exit 2 with the verb's usage line. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly verb: string | null = null,
  ) {
    super(message);
  }
}

export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  help: string;
}

/** What main() does once the words are understood. */
export type Action =
  | { kind: 'request'; body: RequestBody }
  | { kind: 'lock'; mode: 'on' | 'always'; blockAll: boolean }
  | { kind: 'doctor' }
  | { kind: 'watch' }
  | { kind: 'reset'; yes: boolean }
  | { kind: 'test' }
  | { kind: 'history' }
  | { kind: 'run'; argv: string[] }
  | { kind: 'version' };

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface Verb {
  name: string;
  /** the words after `tunlock` (the usage line) */
  usage: string;
  help: string;
  flags: Record<string, FlagSpec>;
  build: (words: string[], flags: FlagValues) => Action;
}

export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  socket: { type: 'string', help: 'the daemon socket (default /run/tunlock/tunlockd.sock, or $TUNLOCK_SOCKET)' },
  json: { type: 'boolean', help: 'print results and errors as one JSON object per line on stdout' },
  help: { type: 'boolean', short: 'h', help: 'show help (for a verb: tunlock VERB --help)' },
  version: { type: 'boolean', help: 'print the version of tunlock and of its protocol, then exit' },
};

function arity(verb: string, words: string[], n: number): void {
  if (words.length > n) throw new UsageError(`unexpected ${JSON.stringify(words[n])}`, verb);
  if (words.length < n) throw new UsageError(`${verb}: missing argument`, verb);
}

function one<T extends string>(verb: string, value: string | undefined, choices: readonly T[]): T {
  if (value === undefined) throw new UsageError(`${verb}: expected ${choices.join('|')}`, verb);
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`${verb}: expected ${choices.join('|')}, not ${JSON.stringify(value)}`, verb);
  return value as T;
}

function seconds(verb: string, value: FlagValues[string]): number {
  if (value === undefined) return CAPTIVE_DEFAULT_SECONDS;
  const v = String(value);
  if (!/^\d+$/.test(v) || Number(v) < CAPTIVE_MIN_SECONDS || Number(v) > CAPTIVE_MAX_SECONDS) {
    throw new UsageError(`--seconds must be a whole number from ${CAPTIVE_MIN_SECONDS} to ${CAPTIVE_MAX_SECONDS}`, verb);
  }
  return Number(v);
}

const ACCOUNT = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;
function bindTarget(verb: string, words: string[]): BindTarget {
  arity(verb, words, 2);
  const kind = one(verb, words[0], ['user', 'group'] as const);
  const name = words[1]!;
  if (!ACCOUNT.test(name)) throw new UsageError(`invalid ${kind} name ${JSON.stringify(name)}`, verb);
  return { kind, name };
}

const request = (body: RequestBody): Action => ({ kind: 'request', body });

export const VERBS: readonly Verb[] = [
  {
    name: 'status',
    usage: 'status',
    help: 'show the lock state (exit 0 whatever the state; --json for scripts)',
    flags: {},
    build: (w) => (arity('status', w, 0), request({ type: 'status' })),
  },
  {
    name: 'lock',
    usage: 'lock on|off|always [--block-all]',
    help: 'on: engaged while a VPN is in use, kept when it drops; always: blocked unless a tunnel is up, across reboots. With no tunnel configured, locks to the one that is up',
    flags: { 'block-all': { type: 'boolean', help: 'lock on even when no tunnel is configured or up: block all traffic' } },
    build: (w, f) => {
      const mode = one('lock', w[0], ['on', 'off', 'always'] as const);
      arity('lock', w, 1);
      if (mode === 'off') {
        if (f['block-all']) throw new UsageError('--block-all belongs to lock on and lock always', 'lock');
        return request({ type: 'setMode', mode });
      }
      return { kind: 'lock', mode, blockAll: f['block-all'] === true };
    },
  },
  {
    name: 'lan',
    usage: 'lan allow|block | add RANGE | remove RANGE',
    help: 'local network access (DNS to the LAN stays blocked): the directly connected private subnets, link-local and local multicast; add/remove (root only): also a range such as a routed office LAN 10.20.0.0/16',
    flags: {},
    build: (w) => {
      const v = one('lan', w[0], ['allow', 'block', 'add', 'remove'] as const);
      if (v === 'allow' || v === 'block') {
        arity('lan', w, 1);
        return request({ type: 'setLan', allow: v === 'allow' });
      }
      arity('lan', w, 2);
      return request({ type: v === 'add' ? 'lanAdd' : 'lanRemove', range: parseCidr(w[1] ?? '').text });
    },
  },
  {
    name: 'tunnel',
    usage: 'tunnel add IF --endpoint ADDR:PORT/udp [--endpoint-user NAME] | adopt IF | remove IF | up IF | down IF [--intentional]',
    help: 'a VPN interface and its server(s) (repeat --endpoint); adopt: a detected tunnel, with the servers found for it; up/down are for VPN hooks, --intentional releases an "on" lock',
    flags: {
      endpoint: { type: 'string', multiple: true, help: 'the VPN server, ADDR:PORT/udp|tcp (tunnel add; repeatable)' },
      'endpoint-user': {
        type: 'string',
        multiple: true,
        help: "(tunnel add, root only) the servers are reached by NAME's sockets: a VPN client that runs as NAME (default: its fwmark, else root's sockets)",
      },
      intentional: { type: 'boolean', help: 'a deliberate disconnect (tunnel down)' },
    },
    build: (w, f) => {
      const action = one('tunnel', w[0], ['add', 'adopt', 'remove', 'up', 'down'] as const);
      arity('tunnel', w, 2);
      const iface = parseIfname(w[1]!);
      const endpoints = (f.endpoint as string[] | undefined) ?? [];
      if (action !== 'add' && endpoints.length) throw new UsageError(`--endpoint belongs to tunnel add, not tunnel ${action}`, 'tunnel');
      if (action !== 'down' && f.intentional) throw new UsageError(`--intentional belongs to tunnel down, not tunnel ${action}`, 'tunnel');
      const users = (f['endpoint-user'] as string[] | undefined) ?? [];
      if (action !== 'add' && users.length) throw new UsageError(`--endpoint-user belongs to tunnel add, not tunnel ${action}`, 'tunnel');
      if (action === 'add') {
        endpoints.forEach(parseEndpoint);
        if (users.length > 1) throw new UsageError('--endpoint-user may be given once', 'tunnel');
        const endpointUser = users[0];
        if (endpointUser !== undefined && !ACCOUNT.test(endpointUser)) throw new UsageError(`invalid user name ${JSON.stringify(endpointUser)}`, 'tunnel');
        return request(endpointUser === undefined ? { type: 'tunnelAdd', iface, endpoints } : { type: 'tunnelAdd', iface, endpoints, endpointUser });
      }
      if (action === 'adopt') return request({ type: 'tunnelAdopt', iface });
      if (action === 'remove') return request({ type: 'tunnelRemove', iface });
      if (action === 'up') return request({ type: 'tunnelUp', iface });
      return request({ type: 'tunnelDown', iface, intentional: f.intentional === true });
    },
  },
  {
    name: 'captive',
    usage: 'captive open|extend [--seconds N] | close',
    help: 'a short, kernel-timed hole to log in to a Wi-Fi portal',
    flags: { seconds: { type: 'string', help: `how long the hole stays open, ${CAPTIVE_MIN_SECONDS} to ${CAPTIVE_MAX_SECONDS} (default ${CAPTIVE_DEFAULT_SECONDS})` } },
    build: (w, f) => {
      const action = one('captive', w[0], ['open', 'extend', 'close'] as const);
      arity('captive', w, 1);
      if (action === 'close') {
        if (f.seconds !== undefined) throw new UsageError('--seconds belongs to captive open and extend', 'captive');
        return request({ type: 'captiveClose' });
      }
      return request({ type: action === 'open' ? 'captiveOpen' : 'captiveExtend', seconds: seconds('captive', f.seconds) });
    },
  },
  {
    name: 'bind',
    usage: 'bind user|group NAME',
    help: "keep an account's traffic in the tunnel, even with the lock off",
    flags: {},
    build: (w) => request({ type: 'bindAdd', target: bindTarget('bind', w) }),
  },
  {
    name: 'unbind',
    usage: 'unbind user|group NAME',
    help: 'undo bind',
    flags: {},
    build: (w) => request({ type: 'bindRemove', target: bindTarget('unbind', w) }),
  },
  {
    name: 'run',
    usage: 'run [--] CMD ARGS...',
    help: "run a program bound to the tunnel (every word after run is the program's)",
    flags: {},
    build: (w) => {
      const argv = w[0] === '--' ? w.slice(1) : w;
      if (!argv.length) throw new UsageError('run: no command given', 'run');
      return { kind: 'run', argv };
    },
  },
  {
    name: 'reset',
    usage: 'reset [--yes]',
    help: "remove tunlock's firewall table and settings (recovery); asks unless --yes",
    flags: { yes: { type: 'boolean', help: 'do not ask' } },
    build: (w, f) => (arity('reset', w, 0), { kind: 'reset', yes: f.yes === true }),
  },
  {
    name: 'test',
    usage: 'test',
    help: 'test the lock now, with kernel evidence: probes as you, TTL 1, nothing on the wire (exit 1 if a check fails)',
    flags: {},
    build: (w) => (arity('test', w, 0), { kind: 'test' }),
  },
  {
    name: 'history',
    usage: 'history',
    help: 'what the lock did, oldest first: states, tunnel drops and how long they blocked, portal holes, tamper, tests',
    flags: {},
    build: (w) => (arity('history', w, 0), { kind: 'history' }),
  },
  {
    name: 'doctor',
    usage: 'doctor',
    help: 'check the installation and say what to fix (exit 1 when something is wrong)',
    flags: {},
    build: (w) => (arity('doctor', w, 0), { kind: 'doctor' }),
  },
  {
    name: 'version',
    usage: 'version',
    help: 'print the version of tunlock and of its protocol (also: tunlock --version)',
    flags: {},
    build: (w) => (arity('version', w, 0), { kind: 'version' }),
  },
  {
    name: 'watch',
    usage: 'watch',
    help: 'print status changes as they happen, until the daemon goes away',
    flags: {},
    build: (w) => (arity('watch', w, 0), { kind: 'watch' }),
  },
];

export function findVerb(name: string): Verb | undefined {
  return VERBS.find((v) => v.name === name);
}

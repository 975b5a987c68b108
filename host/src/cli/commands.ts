// The CLI's words → one protocol request. Every argument is parsed here (a clear message, exit 2) before
// anything is sent; the daemon validates again.
import { parseEndpoint, parseIfname } from '../net/values.js';
import type { RequestBody } from '../protocol/daemon-client.js';
import type { BindTarget } from '../protocol/schema.js';
import { CAPTIVE_DEFAULT_SECONDS, CAPTIVE_MAX_SECONDS } from '../protocol/schema.js';

export class UsageError extends Error {}

function seconds(args: string[]): number {
  const i = args.indexOf('--seconds');
  if (i < 0) return CAPTIVE_DEFAULT_SECONDS;
  const v = args[i + 1] ?? '';
  if (!/^\d+$/.test(v) || Number(v) < 10 || Number(v) > CAPTIVE_MAX_SECONDS) {
    throw new UsageError(`--seconds must be a whole number from 10 to ${CAPTIVE_MAX_SECONDS}`);
  }
  return Number(v);
}

function one<T extends string>(value: string | undefined, choices: readonly T[], what: string): T {
  if (!value || !(choices as readonly string[]).includes(value)) throw new UsageError(`${what}: expected ${choices.join('|')}`);
  return value as T;
}

function accountName(kind: 'user' | 'group', name: string | undefined): string {
  if (!name || !/^[a-z_][a-z0-9_.-]{0,31}\$?$/i.test(name)) throw new UsageError(`invalid ${kind} name ${JSON.stringify(name ?? '')}`);
  return name;
}

function bindTarget(args: string[]): BindTarget {
  const kind = one(args[0], ['user', 'group'] as const, 'bind');
  return { kind, name: accountName(kind, args[1]) };
}

/** Turns the command words into one protocol request. */
export function toRequest(rest: string[]): RequestBody {
  const [cmd, sub, ...args] = rest;
  switch (cmd) {
    case 'status':
      return { type: 'status' };
    case 'lock':
      return { type: 'setMode', mode: one(sub, ['on', 'off', 'always'] as const, 'lock') };
    case 'lan':
      return { type: 'setLan', allow: one(sub, ['allow', 'block'] as const, 'lan') === 'allow' };
    case 'tunnel': {
      const action = one(sub, ['add', 'remove', 'up', 'down'] as const, 'tunnel');
      const iface = parseIfname(args[0] ?? '');
      if (action === 'add') {
        const endpoints: string[] = [];
        let endpointUser: string | undefined;
        for (let i = 1; i < args.length; i++) {
          if (args[i] === '--endpoint') endpoints.push(args[++i] ?? '');
          else if (args[i] === '--endpoint-user' && endpointUser === undefined) endpointUser = accountName('user', args[++i]);
          else throw new UsageError(`unexpected ${JSON.stringify(args[i])}`);
        }
        endpoints.forEach(parseEndpoint);
        return endpointUser === undefined ? { type: 'tunnelAdd', iface, endpoints } : { type: 'tunnelAdd', iface, endpoints, endpointUser };
      }
      if (action === 'remove') return { type: 'tunnelRemove', iface };
      if (action === 'up') return { type: 'tunnelUp', iface };
      const extra = args.slice(1).filter((a) => a !== '--intentional');
      if (extra.length) throw new UsageError(`unexpected ${JSON.stringify(extra[0])}`);
      return { type: 'tunnelDown', iface, intentional: args.includes('--intentional') };
    }
    case 'captive': {
      const action = one(sub, ['open', 'extend', 'close'] as const, 'captive');
      if (action === 'close') return { type: 'captiveClose' };
      return { type: action === 'open' ? 'captiveOpen' : 'captiveExtend', seconds: seconds(args) };
    }
    case 'bind':
      return { type: 'bindAdd', target: bindTarget([sub ?? '', ...args]) };
    case 'unbind':
      return { type: 'bindRemove', target: bindTarget([sub ?? '', ...args]) };
    case 'reset':
      return { type: 'reset', confirm: true };
    default:
      throw new UsageError(cmd ? `unknown command ${JSON.stringify(cmd)}` : 'no command given');
  }
}


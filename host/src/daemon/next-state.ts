// What each request does to the saved settings, decided in one pure function: next(saved, request, facts).
// The daemon gathers the facts a request needs first (which tunnels are detected, what a WireGuard interface
// reports, the default route, who an account is — all I/O), then asks next() for the new state, then applies
// it to the kernel and saves it (daemon.ts). Invalid input is refused here with a ProtocolError that says what
// to do; nothing here touches the system, so every rule below is unit-tested directly (daemon-next.test.ts).
import type { BoundAccount, CaptiveHole } from '../firewall/policy.js';
import type { Address, Cidr, Endpoint } from '../net/values.js';
import { parseCidr, parseEndpoint, sameEndpoint } from '../net/values.js';
import type { BindTarget, DetectedTunnel, ErrorBody, LockState, Request } from '../protocol/schema.js';
import { CAPTIVE_MAX_SECONDS } from '../protocol/captive.js';
import { ProtocolError } from '../protocol/schema.js';
import { isLocked } from './lock-machine.js';
import type { SavedState } from './state-store.js';
import { defaultState } from './state-store.js';
import type { WireGuardFacts } from './wireguard.js';

export const MAX_TUNNELS = 64;
const MAX_ENDPOINTS_PER_TUNNEL = 64;
const MAX_LAN_RANGES = 1000;

/** The requests that change settings (reset is the daemon's own: it removes rules and settings outright). */
export type Mutation = Exclude<Request, { type: 'hello' | 'status' | 'subscribe' | 'selfTest' | 'history' | 'reset' }>;

/** Who asked, from the connection's SO_PEERCRED (peer-cred.ts). */
export interface Requester {
  uid: number;
  /** 0 when the peer is in a pid namespace where it has no number */
  pid: number;
  /** a handle on the connecting process itself (null: none could be taken) */
  pidfd: number | null;
}

/** What the daemon knew when the request arrived; each request reads only the facts it needs. */
export interface Facts {
  now: number;
  client: Requester;
  /** the saved settings could not be read: only a new mode (or reset) starts from a clean state */
  stateError: ErrorBody | null;
  /** the lock state right now (lock-machine.ts) */
  state: LockState;
  /** tunnels that are up but not configured (setMode with none configured, tunnelAdopt) */
  detected: DetectedTunnel[];
  /** what WireGuard interfaces report (tunnelAdd, tunnelUp, adoption); absent or null: nothing learned */
  wireGuard: ReadonlyMap<string, WireGuardFacts | null>;
  /** captiveOpen: the default route outside the tunnels, and the resolvers this network handed us */
  route: { iface: string; gateway: Address | null } | null;
  resolvers: Address[];
  /** tunnelAdd --endpoint-user: that account's uid (null: no such user) */
  endpointUid: number | null;
  /** bindAdd: the account the target names now (null: none; a cgroup target may not exist yet) */
  account: BoundAccount | null;
  /** bindRemove: which uid bound the cgroup with `tunlock run` (undefined: not recorded) */
  runOwner: number | undefined;
}

/** What to do: nothing, or apply and save `state`. */
export type Change =
  | { kind: 'none' }
  | {
      kind: 'save';
      state: SavedState;
      /** for the log line of the apply */
      why: string;
      /** worth a log line of its own (a choice the daemon made for the user) */
      note?: string;
      /** bindAdd of a cgroup: move the requesting process into tunlock/NAME first (`tunlock run`) */
      enterCgroup?: string;
    };

const NONE: Change = { kind: 'none' };
const save = (state: SavedState, why: string, extra: { note?: string; enterCgroup?: string } = {}): Change => ({ kind: 'save', state, why, ...extra });

export function next(s: SavedState, req: Mutation, facts: Facts): Change {
  const c = s.config;
  if (facts.stateError && req.type !== 'setMode') throw new ProtocolError('state_unreadable', facts.stateError.message, facts.stateError.hint);
  switch (req.type) {
    case 'setMode': {
      const base = facts.stateError ? defaultState() : s;
      const captive = req.mode === 'off' ? null : base.captive;
      const chosen: SavedState = { ...base, captive, config: { ...base.config, mode: req.mode, deliberateDisconnect: false } };
      if (req.mode === 'off') return save(chosen, 'lock off');
      const locked = lockToDetected(chosen, req.mode, req.blockAll === true, facts);
      return save(locked.state, `lock ${req.mode}`, locked.note ? { note: locked.note } : {});
    }
    case 'setLan':
      return save({ ...s, config: { ...c, allowLan: req.allow } }, `lan ${req.allow ? 'allow' : 'block'}`);
    case 'lanAdd': {
      const range = lanRangeToAdd(req.range);
      if (c.lanRanges.some((r) => r.text === range.text)) return NONE;
      if (c.lanRanges.length >= MAX_LAN_RANGES) throw new ProtocolError('invalid_value', `at most ${MAX_LAN_RANGES} added LAN ranges`);
      return save({ ...s, config: { ...c, lanRanges: [...c.lanRanges, range] } }, `lan add ${range.text}`);
    }
    case 'lanRemove': {
      const range = parseCidr(req.range);
      if (!c.lanRanges.some((r) => r.text === range.text)) {
        throw new ProtocolError('not_found', `${range.text} was not added`, 'see the added ranges: tunlock status');
      }
      return save({ ...s, config: { ...c, lanRanges: c.lanRanges.filter((r) => r.text !== range.text) } }, `lan remove ${range.text}`);
    }
    case 'tunnelAdd': {
      const endpoints = req.endpoints.map(parseEndpoint);
      const existing = c.tunnels.find((t) => t.iface === req.iface);
      if (!existing && c.tunnels.length >= MAX_TUNNELS) throw new ProtocolError('invalid_value', `at most ${MAX_TUNNELS} tunnels`);
      const merged = mergeEndpoints(existing?.endpoints ?? [], endpoints);
      if (merged.length > MAX_ENDPOINTS_PER_TUNNEL) throw new ProtocolError('invalid_value', `at most ${MAX_ENDPOINTS_PER_TUNNEL} endpoints per tunnel`);
      let endpointUid = existing?.endpointUid ?? 0;
      if (req.endpointUser !== undefined) {
        if (facts.endpointUid === null) throw new ProtocolError('not_found', `no user named ${JSON.stringify(req.endpointUser)}`, 'check the name: getent passwd NAME');
        endpointUid = facts.endpointUid;
      }
      const tunnel = { iface: req.iface, endpoints: merged, learned: existing?.learned ?? [], fwmark: existing?.fwmark ?? null, endpointUid };
      const tunnels = existing ? c.tunnels.map((t) => (t.iface === req.iface ? tunnel : t)) : [...c.tunnels, tunnel];
      return save(withLearned({ ...s, config: { ...c, tunnels } }, req.iface, facts), `tunnel add ${req.iface}`);
    }
    case 'tunnelAdopt': {
      if (c.tunnels.some((t) => t.iface === req.iface)) return NONE;
      const d = facts.detected.find((x) => x.iface === req.iface);
      if (!d) {
        throw new ProtocolError(
          'not_found',
          `${req.iface} is not a detected tunnel (it must be up, and the kernel must report it as a tunnel: WireGuard, tun, ppp…)`,
          'connect the VPN first; tunlock status lists the detected tunnels',
        );
      }
      return save(adopt(s, d, facts), `tunnel adopt ${req.iface}`);
    }
    case 'tunnelRemove': {
      if (!c.tunnels.some((t) => t.iface === req.iface)) throw notFound(req.iface);
      return save({ ...s, config: { ...c, tunnels: c.tunnels.filter((t) => t.iface !== req.iface) } }, `tunnel remove ${req.iface}`);
    }
    case 'tunnelUp': {
      // VPN hooks know only the interface name: an unknown tunnel is added, its endpoints learned. (A hook
      // reporting the physical device — a VPN without its own interface — was refused before: link-kind.ts.)
      const known = c.tunnels.some((t) => t.iface === req.iface);
      if (!known && c.tunnels.length >= MAX_TUNNELS) throw new ProtocolError('invalid_value', `at most ${MAX_TUNNELS} tunnels`);
      const tunnels = known ? c.tunnels : [...c.tunnels, { iface: req.iface, endpoints: [], learned: [], fwmark: null, endpointUid: 0 }];
      return save(withLearned({ ...s, captive: null, config: { ...c, tunnels, deliberateDisconnect: false } }, req.iface, facts), `tunnel up ${req.iface}`);
    }
    case 'tunnelDown': {
      if (!c.tunnels.some((t) => t.iface === req.iface)) throw notFound(req.iface);
      // Only a deliberate disconnect releases an `on` lock; `always` ignores it (lockState decides).
      if (!req.intentional) return NONE;
      return save({ ...s, config: { ...c, deliberateDisconnect: true } }, `tunnel down ${req.iface} (intentional)`);
    }
    case 'captiveOpen':
    case 'captiveExtend':
      return openCaptive(s, req.seconds, req.type === 'captiveExtend', facts);
    case 'captiveClose':
      if (!s.captive) return NONE;
      checkHoleOwner(s.captive, facts.client);
      return save({ ...s, captive: null }, 'captive close');
    case 'bindAdd': {
      if (s.bindings.some((b) => sameTarget(b, req.target))) return NONE;
      const account = facts.account;
      if (req.target.kind !== 'cgroup' && !account) {
        throw new ProtocolError('not_found', `no ${req.target.kind} named ${JSON.stringify(req.target.name)}`, 'check the name (getent passwd / getent group)');
      }
      // Root's own sockets are the VPN's (kernel WireGuard, root VPN daemons): bound to the tunnel, the
      // tunnel could never come up again.
      if ((account?.kind === 'user' && account.uid === 0) || (account?.kind === 'group' && account.gid === 0)) {
        throw new ProtocolError('not_permitted', `${req.target.kind} ${req.target.name} is root: nobody may bind root`, 'bind the account the program runs as instead');
      }
      const state = { ...s, bindings: [...s.bindings, req.target] };
      const why = `bind ${req.target.kind} ${req.target.name}`;
      if (req.target.kind !== 'cgroup') return save(state, why);
      // `tunlock run`: the requesting process moves into its own cgroup, and its children with it.
      if (facts.client.pidfd === null) throw new ProtocolError('not_permitted', 'tunlockd cannot identify the process to move (it has no pid in this namespace)', 'run `tunlock run` in the same pid namespace as tunlockd');
      return save(state, why, { enterCgroup: req.target.name });
    }
    case 'bindRemove': {
      if (!s.bindings.some((b) => sameTarget(b, req.target))) throw new ProtocolError('not_found', `${req.target.kind} ${req.target.name} is not bound`);
      if (facts.client.uid !== 0 && facts.runOwner !== facts.client.uid) {
        throw new ProtocolError('not_permitted', `cgroup ${req.target.name} was not bound by uid ${facts.client.uid}`, 'only root, or the user whose `tunlock run` bound it, may unbind it');
      }
      return save({ ...s, bindings: s.bindings.filter((b) => !sameTarget(b, req.target)) }, `unbind ${req.target.name}`);
    }
  }
}

/**
 * `lock on|always` with no tunnel configured: lock to the one tunnel that is up; with several, the user
 * chooses; with none, `on` would silently block everything, so it refuses unless told to block all
 * (`always` is the lockdown: blocking until a tunnel is up is what it means).
 */
function lockToDetected(s: SavedState, mode: 'on' | 'always', blockAll: boolean, facts: Facts): { state: SavedState; note?: string } {
  if (s.config.tunnels.length > 0) return { state: s };
  const [only, ...more] = facts.detected;
  if (only && more.length === 0) {
    return { state: adopt(s, only, facts), note: `lock ${mode}: no tunnel configured; locking to the detected tunnel ${only.iface} (${only.kind})` };
  }
  if (only) {
    throw new ProtocolError(
      'needs_choice',
      `no tunnel is configured and several are up: ${facts.detected.map((d) => `${d.iface} (${d.kind})`).join(', ')}`,
      `choose one: tunlock tunnel adopt ${only.iface}, then lock again`,
    );
  }
  if (mode === 'on' && !blockAll) {
    throw new ProtocolError(
      'needs_choice',
      'no VPN tunnel is configured or up: locking now would block all traffic',
      'connect your VPN first (tunlock then locks to it), or add it: tunlock tunnel add IF --endpoint ADDR:PORT/udp; to block everything anyway: tunlock lock on --block-all',
    );
  }
  return { state: s };
}

/**
 * Configures a detected tunnel, with the servers detection found for it as learned endpoints, reachable by
 * root's sockets (as `tunnel add` without --endpoint-user), or by WireGuard's own fwmark once learned.
 */
function adopt(s: SavedState, d: DetectedTunnel, facts: Facts): SavedState {
  if (s.config.tunnels.length >= MAX_TUNNELS) throw new ProtocolError('invalid_value', `at most ${MAX_TUNNELS} tunnels`);
  const tunnel = { iface: d.iface, endpoints: [], learned: d.endpoints.map(parseEndpoint), fwmark: null, endpointUid: 0 };
  return withLearned({ ...s, config: { ...s.config, tunnels: [...s.config.tunnels, tunnel] } }, d.iface, facts);
}

function openCaptive(s: SavedState, seconds: number, extend: boolean, facts: Facts): Change {
  const state = facts.state;
  if (extend) {
    if (!s.captive || state !== 'exception') throw new ProtocolError('conflict', 'no captive exception is open', 'open one with `tunlock captive open`');
    checkHoleOwner(s.captive, facts.client);
    // Never open longer than the longest exception from now, however often it is extended.
    const expiresAt = Math.min(s.captive.expiresAt + seconds * 1000, facts.now + CAPTIVE_MAX_SECONDS * 1000);
    return save({ ...s, captive: { ...s.captive, expiresAt } }, `captive extend ${seconds}s`);
  }
  if (!isLocked(state)) throw new ProtocolError('conflict', 'the lock is off: nothing blocks the portal', 'open the portal page directly');
  if (state === 'protected') throw new ProtocolError('conflict', 'the tunnel is up: a captive exception is not needed');
  if (s.captive && state === 'exception') checkHoleOwner(s.captive, facts.client);
  const route = facts.route;
  if (!route) throw new ProtocolError('not_found', 'no default route outside the tunnel: not connected to a network', 'connect to the Wi-Fi or cable first');
  const resolvers = [...facts.resolvers];
  if (resolvers.length === 0 && route.gateway) resolvers.push(route.gateway);
  const uid = facts.client.uid;
  const hole: CaptiveHole = { iface: route.iface, uid, resolvers: resolvers.slice(0, 8), expiresAt: facts.now + seconds * 1000 };
  return save({ ...s, captive: hole }, `captive open ${seconds}s on ${route.iface} for uid ${uid}`);
}

/** A member may extend, replace or close only the hole opened for their own uid; root any. */
function checkHoleOwner(hole: CaptiveHole, client: Requester): void {
  if (client.uid === 0 || client.uid === hole.uid) return;
  throw new ProtocolError('not_permitted', `the captive exception is open for uid ${hole.uid}, not for uid ${client.uid}`, 'wait until it closes (tunlock status shows when), or ask that user or root to close it');
}

function notFound(iface: string): ProtocolError {
  return new ProtocolError('not_found', `no tunnel ${iface}`, `add it first: tunlock tunnel add ${iface} --endpoint ADDR:PORT/udp`);
}

/** A range LAN access may open besides the on-link ones (root only, roles.ts): never much of the internet. */
function lanRangeToAdd(text: string): Cidr {
  const range = parseCidr(text);
  const len = Number(range.text.split('/')[1]);
  if (len < (range.family === 4 ? 8 : 16)) {
    throw new ProtocolError('invalid_value', `${range.text} covers much of the internet, not a LAN`, `add the LAN's own subnet (at least /${range.family === 4 ? 8 : 16})`);
  }
  return range;
}

function mergeEndpoints(existing: Endpoint[], added: Endpoint[]): Endpoint[] {
  const out = [...existing];
  for (const e of added) if (!out.some((o) => sameEndpoint(o, e))) out.push(e);
  return out;
}

/** Adopts what a WireGuard interface told us (facts.wireGuard): new peer endpoints, and its current fwmark. */
export function withLearned(state: SavedState, iface: string, facts: Pick<Facts, 'wireGuard'>): SavedState {
  const learned = facts.wireGuard.get(iface);
  if (!learned) return state;
  const tunnels = state.config.tunnels.map((t) =>
    t.iface === iface ? { ...t, learned: mergeEndpoints(t.learned, learned.endpoints), fwmark: learned.fwmark } : t,
  );
  return { ...state, config: { ...state.config, tunnels } };
}

export function sameTarget(a: BindTarget, b: BindTarget): boolean {
  return a.kind === b.kind && a.name === b.name;
}

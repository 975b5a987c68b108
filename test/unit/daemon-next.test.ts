// The pure decision of what each settings request changes (next-state.ts): the new saved state, or nothing,
// or a refusal that says what to do. No I/O: the facts a request needs are handed in.
import { describe, expect, it } from 'vitest';
import type { Change, Facts, Mutation } from '../../host/src/daemon/next-state.js';
import { next } from '../../host/src/daemon/next-state.js';
import type { SavedState } from '../../host/src/daemon/state-store.js';
import { defaultState } from '../../host/src/daemon/state-store.js';
import { parseAddress, parseEndpoint } from '../../host/src/net/values.js';
import { ProtocolError } from '../../host/src/protocol/schema.js';

const NOW = 1_700_000_000_000;
const root = { uid: 0, pid: 10, pidfd: 7 };
const member = { uid: 1000, pid: 11, pidfd: 8 };

function facts(over: Partial<Facts> = {}): Facts {
  return {
    now: NOW,
    client: root,
    stateError: null,
    state: 'blocking',
    detected: [],
    wireGuard: new Map(),
    route: null,
    resolvers: [],
    endpointUid: null,
    account: null,
    runOwner: undefined,
    ...over,
  };
}

const wg0 = { iface: 'wg0', endpoints: [parseEndpoint('198.51.100.10:51820/udp')], learned: [], fwmark: null, endpointUid: 0 };
const locked = (over: Partial<SavedState['config']> = {}): SavedState => ({ ...defaultState(), config: { ...defaultState().config, mode: 'on', tunnels: [wg0], ...over } });
const hole = { iface: 'eth0', uid: 1000, resolvers: [parseAddress('192.168.77.1')], expiresAt: NOW + 60_000 };

/** A request without its id (the wire needs one; next() ignores it). */
type Body<M = Mutation> = M extends unknown ? Omit<M, 'id'> : never;
function req(r: Body): Mutation {
  return { id: 1, ...r } as Mutation;
}

function saved(change: Change): SavedState {
  if (change.kind !== 'save') throw new Error('expected a change to save');
  return change.state;
}

function refusal(f: () => unknown): { code: string; message: string; hint?: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof ProtocolError) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('next: settings', () => {
  it('lan block changes exactly allowLan', () => {
    const before = locked();
    const after = saved(next(before, req({ type: 'setLan', allow: false }), facts()));
    expect(after).toEqual({ ...before, config: { ...before.config, allowLan: false } });
  });

  it('a LAN range is added once; a second add changes nothing; most of the internet is refused with a hint', () => {
    const one = saved(next(locked(), req({ type: 'lanAdd', range: '100.64.5.0/24' }), facts()));
    expect(one.config.lanRanges.map((r) => r.text)).toEqual(['100.64.5.0/24']);
    expect(next(one, req({ type: 'lanAdd', range: '100.64.5.0/24' }), facts())).toEqual({ kind: 'none' });
    const wide = refusal(() => next(locked(), req({ type: 'lanAdd', range: '0.0.0.0/1' }), facts()));
    expect(wide.code).toBe('invalid_value');
    expect(wide.hint).toMatch(/at least \/8/);
  });

  it('removing a range that was not added is not_found', () => {
    expect(refusal(() => next(locked(), req({ type: 'lanRemove', range: '10.1.0.0/16' }), facts())).code).toBe('not_found');
  });

  it('an unintentional tunnel down changes nothing; an intentional one releases `on` (deliberateDisconnect)', () => {
    expect(next(locked(), req({ type: 'tunnelDown', iface: 'wg0', intentional: false }), facts())).toEqual({ kind: 'none' });
    expect(saved(next(locked(), req({ type: 'tunnelDown', iface: 'wg0', intentional: true }), facts())).config.deliberateDisconnect).toBe(true);
    expect(refusal(() => next(locked(), req({ type: 'tunnelDown', iface: 'wg9', intentional: true }), facts())).code).toBe('not_found');
  });

  it('tunnel up adds an unknown tunnel with what WireGuard reports, closes the hole and ends a deliberate disconnect', () => {
    const before = { ...locked({ deliberateDisconnect: true }), captive: hole };
    const learned = { endpoints: [parseEndpoint('203.0.113.9:51820/udp')], fwmark: 0xca6c };
    const after = saved(next(before, req({ type: 'tunnelUp', iface: 'wg1' }), facts({ wireGuard: new Map([['wg1', learned]]) })));
    expect(after.captive).toBeNull();
    expect(after.config.deliberateDisconnect).toBe(false);
    expect(after.config.tunnels.find((t) => t.iface === 'wg1')).toEqual({ iface: 'wg1', endpoints: [], learned: learned.endpoints, fwmark: 0xca6c, endpointUid: 0 });
  });

  it('tunnel add merges endpoints; --endpoint-user names an existing account', () => {
    const add = (f: Partial<Facts>, endpointUser?: string) =>
      next(locked(), req({ type: 'tunnelAdd', iface: 'wg0', endpoints: ['198.51.100.10:51820/udp', '198.51.100.11:51820/udp'], ...(endpointUser ? { endpointUser } : {}) }), facts(f));
    expect(saved(add({})).config.tunnels[0]!.endpoints.map((e) => e.port)).toEqual([51820, 51820]);
    expect(saved(add({ endpointUid: 998 }, 'vpn')).config.tunnels[0]!.endpointUid).toBe(998);
    expect(refusal(() => add({ endpointUid: null }, 'nobody-here')).code).toBe('not_found');
  });
});

describe('next: lock on with no tunnel configured', () => {
  const detected = (iface: string) => ({ iface, kind: 'wireguard', endpoints: ['198.51.100.10:51820/udp'] });
  const none = defaultState();

  it('locks to the one tunnel that is up, and says so', () => {
    const change = next(none, req({ type: 'setMode', mode: 'on' }), facts({ detected: [detected('wg0')] }));
    expect(saved(change).config.tunnels.map((t) => t.iface)).toEqual(['wg0']);
    expect(saved(change).config.tunnels[0]!.learned.map((e) => e.address.text)).toEqual(['198.51.100.10']);
    expect(change).toMatchObject({ note: expect.stringMatching(/locking to the detected tunnel wg0/) });
  });

  it('with several up, the user chooses; with none, `on` refuses unless told to block all; `always` blocks', () => {
    expect(refusal(() => next(none, req({ type: 'setMode', mode: 'on' }), facts({ detected: [detected('wg0'), detected('tun0')] }))).code).toBe('needs_choice');
    expect(refusal(() => next(none, req({ type: 'setMode', mode: 'on' }), facts())).hint).toMatch(/--block-all/);
    expect(saved(next(none, req({ type: 'setMode', mode: 'on', blockAll: true }), facts())).config.mode).toBe('on');
    expect(saved(next(none, req({ type: 'setMode', mode: 'always' }), facts())).config).toMatchObject({ mode: 'always', tunnels: [] });
  });

  it('lock off closes the captive hole', () => {
    expect(saved(next({ ...locked(), captive: hole }, req({ type: 'setMode', mode: 'off' }), facts())).captive).toBeNull();
  });
});

describe('next: the captive exception', () => {
  const route = { iface: 'eth0', gateway: parseAddress('192.168.77.1') };

  it('opens only while blocking, for the requester, on the physical route, with the gateway as resolver if none is known', () => {
    const after = saved(next(locked(), req({ type: 'captiveOpen', seconds: 120 }), facts({ client: member, route })));
    expect(after.captive).toEqual({ iface: 'eth0', uid: 1000, resolvers: [route.gateway], expiresAt: NOW + 120_000 });
    expect(refusal(() => next(locked({ mode: 'off' }), req({ type: 'captiveOpen', seconds: 120 }), facts({ state: 'off', route }))).code).toBe('conflict');
    expect(refusal(() => next(locked(), req({ type: 'captiveOpen', seconds: 120 }), facts({ state: 'protected', route }))).code).toBe('conflict');
    expect(refusal(() => next(locked(), req({ type: 'captiveOpen', seconds: 120 }), facts({ route: null }))).code).toBe('not_found');
  });

  it('another member may not extend or close the hole; root may; the extension is capped at ten minutes from now', () => {
    const open = { ...locked(), captive: hole };
    const other = { uid: 1001, pid: 12, pidfd: 9 };
    expect(refusal(() => next(open, req({ type: 'captiveClose' }), facts({ client: other, state: 'exception' }))).code).toBe('not_permitted');
    expect(refusal(() => next(open, req({ type: 'captiveExtend', seconds: 120 }), facts({ client: other, state: 'exception' }))).code).toBe('not_permitted');
    expect(saved(next(open, req({ type: 'captiveClose' }), facts({ state: 'exception' }))).captive).toBeNull();
    const extended = saved(next(open, req({ type: 'captiveExtend', seconds: 600 }), facts({ client: member, state: 'exception' })));
    expect(extended.captive!.expiresAt).toBe(NOW + 600_000);
  });
});

describe('next: bindings', () => {
  it('an unknown user is not_found; root may never be bound', () => {
    const bind = (name: string, account: Facts['account']) => next(locked(), req({ type: 'bindAdd', target: { kind: 'user', name } }), facts({ account }));
    expect(refusal(() => bind('ghost', null)).code).toBe('not_found');
    expect(refusal(() => bind('root', { kind: 'user', uid: 0 })).code).toBe('not_permitted');
    expect(saved(bind('debian-transmission', { kind: 'user', uid: 109 })).bindings).toEqual([{ kind: 'user', name: 'debian-transmission' }]);
  });

  it('`tunlock run` moves the requester into the cgroup (effect for the daemon), and needs its process handle', () => {
    const run = (client: Facts['client']) => next(locked(), req({ type: 'bindAdd', target: { kind: 'cgroup', name: 'run-42' } }), facts({ client }));
    expect(run(member)).toMatchObject({ kind: 'save', enterCgroup: 'run-42' });
    expect(refusal(() => run({ ...member, pidfd: null })).code).toBe('not_permitted');
  });

  it('only root or the user whose run bound a cgroup may unbind it', () => {
    const bound = { ...locked(), bindings: [{ kind: 'cgroup' as const, name: 'run-42' }] };
    const unbind = (client: Facts['client'], runOwner: number | undefined) => next(bound, req({ type: 'bindRemove', target: { kind: 'cgroup', name: 'run-42' } }), facts({ client, runOwner }));
    expect(refusal(() => unbind(member, 1001)).code).toBe('not_permitted');
    expect(saved(unbind(member, 1000)).bindings).toEqual([]);
    expect(saved(unbind(root, undefined)).bindings).toEqual([]);
  });
});

describe('next: with the saved state unreadable', () => {
  const error = { code: 'state_unreadable' as const, message: 'state.json is not valid JSON; the network stays blocked', hint: 'choose a setting' };

  it('every request but a new mode is refused with the state error', () => {
    const r = refusal(() => next(locked(), req({ type: 'setLan', allow: true }), facts({ stateError: error })));
    expect(r).toEqual({ code: 'state_unreadable', message: error.message, hint: error.hint });
  });

  it('a new mode starts from the defaults, not from the fail-closed settings', () => {
    const failClosed = locked({ mode: 'always', allowLan: false });
    const after = saved(next(failClosed, req({ type: 'setMode', mode: 'off' }), facts({ stateError: error })));
    expect(after).toEqual({ ...defaultState(), config: { ...defaultState().config, mode: 'off' } });
  });
});

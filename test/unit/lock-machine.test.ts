import { describe, expect, it } from 'vitest';
import type { LockConfig, Observations } from '../../host/src/daemon/lock-machine.js';
import { lockState, policyFor, shownState } from '../../host/src/daemon/lock-machine.js';
import { DEFAULT_LAN_RANGES } from '../../host/src/firewall/policy.js';
import type { LockedPolicy, Policy } from '../../host/src/firewall/policy.js';
import { parseAddress, parseEndpoint } from '../../host/src/net/values.js';

const NOW = 1_700_000_000_000;
const config = (over: Partial<LockConfig> = {}): LockConfig => ({
  mode: 'on',
  allowLan: true,
  lanRanges: [...DEFAULT_LAN_RANGES],
  tunnels: [{ iface: 'wg0', endpoints: [parseEndpoint('198.51.100.10:51820/udp')], learned: [], fwmark: null, endpointUid: 0 }],
  deliberateDisconnect: false,
  ...over,
});
const obs = (up: string[] = [], captiveFor = 0): Observations => ({
  tunnelsUp: new Set(up),
  refused: new Map(),
  onLink: [],
  captive: captiveFor ? { iface: 'eth0', uid: 1000, resolvers: [parseAddress('192.168.77.1')], expiresAt: NOW + captiveFor } : null,
  now: NOW,
});

describe('lockState', () => {
  it('off ignores everything else', () => {
    expect(lockState(config({ mode: 'off' }), obs(['wg0']))).toBe('off');
    expect(lockState(config({ mode: 'off' }), obs([], 60_000))).toBe('off');
  });
  it('on: protected with a tunnel up, blocking when it drops without intent', () => {
    expect(lockState(config(), obs(['wg0']))).toBe('protected');
    expect(lockState(config(), obs([]))).toBe('blocking');
  });
  it('on: a deliberate disconnect releases the lock (standby), but not while a tunnel is still up', () => {
    expect(lockState(config({ deliberateDisconnect: true }), obs([]))).toBe('standby');
    expect(lockState(config({ deliberateDisconnect: true }), obs(['wg0']))).toBe('protected');
  });
  it('always: ignores deliberate disconnects', () => {
    expect(lockState(config({ mode: 'always', deliberateDisconnect: true }), obs([]))).toBe('blocking');
  });
  it('exception only while locked, tunnel down and the hole has time left', () => {
    expect(lockState(config(), obs([], 60_000))).toBe('exception');
    expect(lockState(config(), obs([], -1))).toBe('blocking');
    expect(lockState(config(), obs(['wg0'], 60_000))).toBe('protected');
    expect(lockState(config({ deliberateDisconnect: true }), obs([], 60_000))).toBe('standby');
  });
  it('only configured tunnels count', () => {
    expect(lockState(config(), obs(['wg9']))).toBe('blocking');
  });
});

describe('shownState: the one place the state a client sees is derived', () => {
  it('is the state machine\'s while the saved state is readable', () => {
    expect(shownState(config(), obs(['wg0']), null)).toBe('protected');
    expect(shownState(config({ mode: 'off' }), obs([]), null)).toBe('off');
  });
  it('with the saved state unreadable: blocking while the block (or a kept lock) is in force, else off', () => {
    expect(shownState(config({ mode: 'off' }), obs(['wg0']), { enforced: true })).toBe('blocking');
    expect(shownState(config(), obs(['wg0']), { enforced: false })).toBe('off');
  });
});

function lockOf(p: Policy): LockedPolicy {
  if (p.kind !== 'locked') throw new Error('expected a locked policy');
  return p;
}

describe('policyFor', () => {
  it('protected and blocking enforce the same rules, so a drop needs no daemon action', () => {
    const up = policyFor(config(), obs(['wg0']), []);
    const down = policyFor(config(), obs([]), []);
    expect(up).toEqual(down);
    expect(up.kind).toBe('locked');
    expect(up.tunnels).toEqual(['wg0']);
    expect(lockOf(up).endpoints.map((e) => e.endpoint.address.text)).toEqual(['198.51.100.10']);
  });
  it('standby and off have no lock; bindings stay', () => {
    const bindings = [{ kind: 'user' as const, uid: 1001 }];
    expect(policyFor(config({ mode: 'off' }), obs([]), bindings)).toMatchObject({ kind: 'open', bindings });
    expect(policyFor(config({ deliberateDisconnect: true }), obs([]), bindings).kind).toBe('open');
  });
  it('the captive hole is part of the policy only in the exception state', () => {
    expect(lockOf(policyFor(config(), obs([], 60_000), [])).captive?.uid).toBe(1000);
    expect(lockOf(policyFor(config(), obs(['wg0'], 60_000), [])).captive).toBeNull();
  });
  it('a configured name that exists as a physical link is no tunnel: not allowed out, not protected, no servers', () => {
    const refused: Observations = { ...obs(['wg0']), refused: new Map([['wg0', 'wg0 is not a VPN tunnel: veth']]) };
    expect(lockState(config(), refused)).toBe('blocking');
    const p = policyFor(config(), refused, [{ kind: 'user', uid: 109 }]);
    expect(p.tunnels).toEqual([]);
    expect(lockOf(p).endpoints).toEqual([]);
  });
  it('endpoints are for the tunnel\'s own packets: its fwmark, else the configured socket owner (root by default)', () => {
    const tunnel = config().tunnels[0]!;
    const owners = (t: Partial<typeof tunnel>) => lockOf(policyFor(config({ tunnels: [{ ...tunnel, ...t }] }), obs([]), [])).endpoints.map((e) => e.owner);
    expect(owners({})).toEqual([{ kind: 'uid', uid: 0 }]);
    expect(owners({ endpointUid: 998 })).toEqual([{ kind: 'uid', uid: 998 }]);
    expect(owners({ fwmark: 0xca6c, endpointUid: 998 })).toEqual([{ kind: 'mark', mark: 0xca6c }]);
  });
  it('learned endpoints are allowed too', () => {
    const c = config({ tunnels: [{ iface: 'wg0', endpoints: [], learned: [parseEndpoint('203.0.113.9:4500/udp')], fwmark: null, endpointUid: 0 }] });
    expect(lockOf(policyFor(c, obs([]), [])).endpoints.map((e) => e.endpoint.port)).toEqual([4500]);
  });
});

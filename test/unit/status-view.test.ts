// The status projection (status-view.ts): what every client is shown, from what the daemon holds.
import { describe, expect, it } from 'vitest';
import { projectStatus } from '../../host/src/daemon/status-view.js';
import type { StatusInput } from '../../host/src/daemon/status-view.js';
import { defaultState } from '../../host/src/daemon/state-store.js';
import { parseAddress, parseEndpoint } from '../../host/src/net/values.js';

const NOW = 1_700_000_000_000;
const wg0 = { iface: 'wg0', endpoints: [parseEndpoint('198.51.100.10:51820/udp')], learned: [], fwmark: 0xca6c, endpointUid: 0 };

function input(over: Partial<StatusInput> = {}): StatusInput {
  const saved = { ...defaultState(), config: { ...defaultState().config, mode: 'always' as const, tunnels: [wg0] } };
  return {
    saved,
    obs: { tunnelsUp: new Set(), refused: new Map(), onLink: [], captive: null, now: NOW },
    stateError: null,
    applyError: null,
    enforced: true,
    detected: [],
    accounts: [],
    counts: { blocked: 0, blockedOutgoing: 0, perBinding: new Map() },
    tamper: { count: 0, last: null },
    verifiedAt: NOW,
    ...over,
  };
}

describe('projectStatus', () => {
  it('the captive countdown rounds up from the daemon\'s expiresAt (the kernel timeout\'s rule)', () => {
    const hole = { iface: 'eth0', uid: 1000, resolvers: [parseAddress('192.168.77.1')], expiresAt: NOW + 89_001 };
    const base = input();
    const s = projectStatus({ ...base, saved: { ...base.saved, captive: hole }, obs: { ...base.obs, captive: hole } });
    expect(s.state).toBe('exception');
    expect(s.captive).toEqual({ uid: 1000, iface: 'eth0', resolvers: ['192.168.77.1'], expiresAt: hole.expiresAt, secondsLeft: 90 });
  });

  it('a hole that is not in force is not shown (the tunnel is up)', () => {
    const hole = { iface: 'eth0', uid: 1000, resolvers: [], expiresAt: NOW + 60_000 };
    const base = input();
    const s = projectStatus({ ...base, saved: { ...base.saved, captive: hole }, obs: { ...base.obs, captive: hole, tunnelsUp: new Set(['wg0']) } });
    expect(s.state).toBe('protected');
    expect(s.captive).toBeNull();
  });

  it('counts come from the firewall, per bound account by its key; a refused tunnel carries its problem', () => {
    const base = input();
    const s = projectStatus({
      ...base,
      saved: { ...base.saved, bindings: [{ kind: 'user', name: 'debian-transmission' }, { kind: 'group', name: 'gone' }] },
      accounts: [{ kind: 'user', uid: 109 }, undefined],
      counts: { blocked: 12, blockedOutgoing: 10, perBinding: new Map([['u109', 3]]) },
      obs: { ...base.obs, refused: new Map([['wg0', 'wg0 is not a VPN tunnel: veth']]) },
    });
    expect(s.blockedPackets).toBe(12);
    expect(s.bindings.map((b) => [b.id, b.blockedPackets])).toEqual([[109, 3], [null, 0]]);
    expect(s.tunnels[0]).toMatchObject({ iface: 'wg0', up: false, endpointOwner: 'fwmark 0xca6c', problem: 'wg0 is not a VPN tunnel: veth' });
  });

  it('an unreadable state shows its error and blocking, or off when nothing could be put in force', () => {
    const stateError = { code: 'state_unreadable' as const, message: 'bad', hint: 'choose a setting' };
    expect(projectStatus(input({ stateError, applyError: { code: 'firewall_failed', message: 'x' } }))).toMatchObject({ state: 'blocking', error: stateError });
    expect(projectStatus(input({ stateError, enforced: false })).state).toBe('off');
  });
});

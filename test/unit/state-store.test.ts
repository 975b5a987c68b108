import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateError, StateStore, defaultState } from '../../host/src/daemon/state-store.js';
import { parseAddress, parseCidr, parseEndpoint } from '../../host/src/net/values.js';
import { DEFAULT_LAN_RANGES } from '../../host/src/firewall/policy.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tunlock-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('StateStore', () => {
  it('has no state on first start', () => {
    expect(new StateStore(dir).load()).toBeNull();
  });

  it('round-trips every setting', () => {
    const store = new StateStore(dir);
    const s = defaultState();
    s.config.mode = 'always';
    s.config.allowLan = false;
    s.config.deliberateDisconnect = true;
    s.config.lanRanges = [parseCidr('10.20.0.0/16')];
    s.config.tunnels = [{ iface: 'wg0', endpoints: [parseEndpoint('198.51.100.10:51820/udp')], learned: [parseEndpoint('[2001:db8::1]:51820/udp')], fwmark: 0xca6c, endpointUid: 0 }];
    s.bindings = [{ kind: 'user', name: 'debian-transmission' }];
    s.captive = { iface: 'eth0', uid: 1000, resolvers: [parseAddress('192.168.77.1')], expiresAt: 123 };
    store.save(s);
    expect(store.load()).toEqual(s);
  });

  it('a file from before `lan add` keeps only ranges a user added (the built-in private ranges now need to be on-link)', () => {
    const store = new StateStore(dir);
    const old = { version: 1, mode: 'on', allowLan: true, lanRanges: [...DEFAULT_LAN_RANGES.map((r) => r.text), '10.20.0.0/16'], tunnels: [{ iface: 'wg0', endpoints: [], learned: [] }], deliberateDisconnect: false, bindings: [], captive: null };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(old));
    const s = store.load()!;
    expect(s.config.lanRanges.map((r) => r.text)).toEqual(['10.20.0.0/16']);
    expect(s.config.tunnels[0]).toMatchObject({ fwmark: null, endpointUid: 0 });
  });

  it('writes atomically: no temp files are left and the file is private', () => {
    const store = new StateStore(dir);
    store.save(defaultState());
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it.each([
    ['not JSON', '{"version":1,'],
    ['wrong version', '{"version":2}'],
    ['an unknown mode', 'MODE'],
    ['an interface name that would be pasted into rules', 'IFNAME'],
    ['an extra field', 'EXTRA'],
  ])('refuses %s with a StateError (the daemon then keeps the block)', (_name, content) => {
    const store = new StateStore(dir);
    store.save(defaultState());
    const good = JSON.parse(readFileSync(store.file, 'utf8')) as Record<string, unknown>;
    const bad =
      content === 'MODE'
        ? JSON.stringify({ ...good, mode: 'sometimes' })
        : content === 'IFNAME'
          ? JSON.stringify({ ...good, tunnels: [{ iface: 'wg0" accept', endpoints: [], learned: [] }] })
          : content === 'EXTRA'
            ? JSON.stringify({ ...good, unlock: true })
            : content;
    writeFileSync(store.file, bad);
    expect(() => store.load()).toThrow(StateError);
  });
});

describe('StateStore never follows a link', () => {
  it('a state.json that is a symlink is refused (StateError), not read through', () => {
    const store = new StateStore(dir);
    writeFileSync(join(dir, 'elsewhere.json'), JSON.stringify({ version: 1 }));
    symlinkSync(join(dir, 'elsewhere.json'), store.file);
    expect(() => store.load()).toThrow(StateError);
  });

  it('a link planted at the temp file name is not written through', () => {
    const store = new StateStore(dir);
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'root-owned content\n');
    // Planted where a writer without O_NOFOLLOW|O_EXCL would open it: the stale temp name is removed
    // (the link itself, never its target) and the file created fresh.
    symlinkSync(victim, join(dir, `state.json.tmp-${process.pid}`));
    store.save(defaultState());
    expect(readFileSync(victim, 'utf8')).toBe('root-owned content\n');
    expect(lstatSync(store.file).isFile()).toBe(true);
    expect(store.load()).toEqual(defaultState());
  });
});

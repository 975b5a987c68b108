// The VPN hook scripts, run by sh with a fake `tunlock` that records its arguments: each VPN event becomes
// the right CLI call, a deliberate disconnect is --intentional and a crash/restart is not, non-tunnel
// interfaces never reach the daemon (it adds any "up" interface as a tunnel), and a failing tunlock never
// fails the VPN.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const HOOKS = join(process.cwd(), 'installer/src/hooks');
let dir: string;
let fake: string;
let calls: string;
let sysfs: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tunlock-hooks-'));
  calls = join(dir, 'calls');
  fake = join(dir, 'tunlock');
  writeFileSync(fake, `#!/bin/sh\necho "$*" >> ${calls}\n[ -z "$FAKE_FAIL" ] || { echo "tunlockd is not running" >&2; exit 3; }\n`, { mode: 0o755 });
  sysfs = join(dir, 'sys');
  mkdirSync(join(sysfs, 'wg0'), { recursive: true });
  writeFileSync(join(sysfs, 'wg0/uevent'), 'DEVTYPE=wireguard\nINTERFACE=wg0\n');
  mkdirSync(join(sysfs, 'tun0'), { recursive: true });
  writeFileSync(join(sysfs, 'tun0/tun_flags'), '0x1001\n');
  mkdirSync(join(sysfs, 'wlan0'), { recursive: true });
  writeFileSync(join(sysfs, 'wlan0/uevent'), 'DEVTYPE=wlan\nINTERFACE=wlan0\n');
  writeFileSync(join(sysfs, 'wlan0/type'), '1\n');
  mkdirSync(join(sysfs, 'ppp0'), { recursive: true });
  writeFileSync(join(sysfs, 'ppp0/type'), '512\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(hook: string, args: string[], env: Record<string, string> = {}): { code: number | null; calls: string[]; stderr: string } {
  rmSync(calls, { force: true });
  const r = spawnSync('sh', [join(HOOKS, hook), ...args], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', TUNLOCK_BIN: fake, TUNLOCK_SYSFS: sysfs, ...env },
  });
  let recorded: string[] = [];
  try {
    recorded = readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    // no call
  }
  return { code: r.status, calls: recorded, stderr: r.stderr };
}

describe('wg-quick hook', () => {
  it('PostUp reports the tunnel up, PreDown (only run by `wg-quick down`) a deliberate disconnect', () => {
    expect(run('wg-quick.sh', ['up', 'wg0'])).toMatchObject({ code: 0, calls: ['tunnel up wg0'] });
    expect(run('wg-quick.sh', ['down', 'wg0'])).toMatchObject({ code: 0, calls: ['tunnel down wg0 --intentional'] });
  });
  it('refuses odd interface names and never fails wg-quick', () => {
    expect(run('wg-quick.sh', ['up', '--json'])).toMatchObject({ code: 0, calls: [] });
    expect(run('wg-quick.sh', ['up', 'wg0;reboot'])).toMatchObject({ code: 0, calls: [] });
    const failed = run('wg-quick.sh', ['up', 'wg0'], { FAKE_FAIL: '1' });
    expect(failed.code).toBe(0);
    expect(failed.stderr).toMatch(/tunlock tunnel up wg0 failed: tunlockd is not running/);
  });
});

describe('OpenVPN hook', () => {
  it('up → tunnel up $dev', () => {
    expect(run('openvpn-updown.sh', ['tun0', '1500', '1553', '10.8.0.2', '', 'init'], { script_type: 'up', dev: 'tun0' })).toMatchObject({ code: 0, calls: ['tunnel up tun0'] });
  });
  it.each([
    ['sigterm', true],
    ['sigint', true],
    ['inactive', true],
    ['ping-restart', false],
    ['ping-exit', false],
    ['sigusr1', false],
    ['sighup', false],
    ['connection-reset', false],
    ['error', false],
    ['', false],
  ])('down with signal=%j is intentional: %s', (signal, intentional) => {
    const r = run('openvpn-updown.sh', ['tun0'], { script_type: 'down', dev: 'tun0', signal });
    expect(r).toMatchObject({ code: 0, calls: [`tunnel down tun0${intentional ? ' --intentional' : ''}`] });
  });
  it('does nothing for other script types, and never fails OpenVPN', () => {
    expect(run('openvpn-updown.sh', ['tun0'], { script_type: 'route-up', dev: 'tun0' })).toMatchObject({ code: 0, calls: [] });
    expect(run('openvpn-updown.sh', [], { script_type: 'up', dev: 'tun0', FAKE_FAIL: '1' }).code).toBe(0);
  });
});

describe('NetworkManager dispatcher hook', () => {
  it.each([
    [['wg0', 'up'], ['tunnel up wg0']],
    [['tun0', 'up'], ['tunnel up tun0']],
    [['wg0', 'pre-down'], ['tunnel down wg0 --intentional']],
    [['tun0', 'vpn-up'], ['tunnel up tun0']],
    [['tun0', 'vpn-pre-down'], ['tunnel down tun0 --intentional']],
    // a lost link or crashed VPN: the daemon sees it; the lock must stay
    [['wg0', 'down'], []],
    [['tun0', 'vpn-down'], []],
    // never a physical interface: tunlockd would take it for a tunnel
    [['wlan0', 'up'], []],
    [['eth0', 'up'], []],
    [['wlan0', 'pre-down'], []],
    [['ppp0', 'vpn-up'], ['tunnel up ppp0']],
    // a VPN without its own interface reports the physical device on vpn-up: never a "tunnel"
    [['wlan0', 'vpn-up'], []],
    [['eth0', 'vpn-up'], []],
    [['wlan0', 'vpn-pre-down'], []],
    [['', 'connectivity-change'], []],
    [['none', 'hostname'], []],
  ])('%j → %j', (args, expected) => {
    expect(run('networkmanager-dispatcher.sh', args)).toMatchObject({ code: 0, calls: expected });
  });
  it('never fails NetworkManager', () => {
    expect(run('networkmanager-dispatcher.sh', ['wg0', 'up'], { FAKE_FAIL: '1' }).code).toBe(0);
  });
});

describe('hook scripts', () => {
  it.each(['wg-quick.sh', 'openvpn-updown.sh', 'networkmanager-dispatcher.sh'])('%s is valid POSIX sh with the install-time placeholder', (h) => {
    expect(spawnSync('sh', ['-n', join(HOOKS, h)]).status).toBe(0);
    expect(readFileSync(join(HOOKS, h), 'utf8')).toContain('TUNLOCK=${TUNLOCK_BIN:-@TUNLOCK@}');
  });
});

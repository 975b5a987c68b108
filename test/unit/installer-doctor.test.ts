// `tunlock doctor` against fixture roots: every check says what is wrong and how to fix it.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Check, DoctorContext } from '../../host/src/cli/doctor';
import { formatChecks, runChecks } from '../../host/src/cli/doctor';
import { ProtocolError } from '../../host/src/protocol/schema';
import type { Status } from '../../host/src/protocol/schema';
import { renderHostManifest } from '../../host/src/common/manifest-locations';

let root: string;
const NOW = Date.parse('2030-01-01T12:00:00Z');

function put(rel: string, text: string, mode = 0o644): void {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), text, { mode });
}

const STATUS = { mode: 'on', state: 'protected', lan: 'allow', tunnels: [{ iface: 'wg0', up: true, endpoints: [], learned: [] }] } as unknown as Status;

function ctx(over: Partial<DoctorContext> = {}): DoctorContext {
  return {
    socketPath: '/run/tunlock/tunlockd.sock',
    root,
    env: {},
    user: { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
    processGroups: [1000, 990],
    which: (p) => (p === 'chromium' ? '/usr/bin/chromium' : null),
    status: async () => STATUS,
    nftVersion: () => 'nftables v1.0.6 (Lester Gooch #5)',
    systemdActive: () => true,
    init: 'systemd',
    now: NOW,
    ...over,
  };
}
const byId = (checks: Check[], id: string) => checks.find((c) => c.id === id);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tunlock-doctor-'));
  put('etc/group', 'root:x:0:\nalice:x:1000:\ntunlock:x:990:alice\n');
  put('usr/local/lib/tunlock/tunlockd.js', '');
  put('etc/systemd/system/tunlockd.service', '[Unit]\n');
  put('usr/local/lib/tunlock/bin/tunlock-host', '#!/bin/sh\n', 0o755);
  put('etc/chromium/native-messaging-hosts/dev.tunlock.host.json', renderHostManifest('chromium', '/usr/local/lib/tunlock/bin/tunlock-host'));
  put('home/alice/.local/state/tunlock/last-contact', '');
  const t = new Date(NOW - 120_000);
  utimesSync(join(root, 'home/alice/.local/state/tunlock/last-contact'), t, t);
  put('proc/net/if_inet6', '00000000000000000000000000000001 01 80 10 80       lo\nfe800000000000000000000000000001 02 40 20 80     eth0\n');
  put('etc/resolv.conf', 'nameserver 1.1.1.1\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('tunlock doctor', () => {
  it('reports a healthy machine as ok (socket absent in the fixture is only info)', async () => {
    const checks = await runChecks(ctx());
    expect(checks.filter((c) => c.status === 'fail' || c.status === 'warn')).toEqual([]);
    expect(byId(checks, 'daemon')?.message).toMatch(/mode on, protected; wg0 up/);
    expect(byId(checks, 'manifest:chromium')).toMatchObject({ status: 'ok' });
    expect(byId(checks, 'extension')?.message).toMatch(/2 min ago/);
    expect(formatChecks(checks)).toMatch(/all good$/);
  });

  it('says how to fix a missing nft, a dead daemon, a missing group membership', async () => {
    put('etc/group', 'root:x:0:\nalice:x:1000:\ntunlock:x:990:\n');
    const checks = await runChecks(
      ctx({
        nftVersion: () => null,
        status: async () => {
          throw new ProtocolError('daemon_unavailable', 'tunlockd is not running (no socket at /run/tunlock/tunlockd.sock)', 'start the daemon: sudo systemctl start tunlockd');
        },
      }),
    );
    expect(byId(checks, 'nft')).toMatchObject({ status: 'fail', fix: 'sudo apt-get install nftables' });
    expect(byId(checks, 'daemon')).toMatchObject({ status: 'fail', fix: 'start the daemon: sudo systemctl start tunlockd' });
    expect(byId(checks, 'group')).toMatchObject({ status: 'fail', fix: expect.stringContaining('usermod -aG tunlock alice') });
    expect(formatChecks(checks)).toMatch(/→ sudo apt-get install nftables/);
  });

  it('notices a membership that has not reached this session yet, and a missing group', async () => {
    expect(byId(await runChecks(ctx({ processGroups: [1000] })), 'group')).toMatchObject({ status: 'warn', fix: expect.stringMatching(/newgrp tunlock/) });
    put('etc/group', 'root:x:0:\n');
    expect(byId(await runChecks(ctx()), 'group')).toMatchObject({ status: 'fail', fix: expect.stringMatching(/groupadd --system tunlock/) });
  });

  it('checks the manifest of every detected browser: missing, stale, wrong ID, host not executable', async () => {
    mkdirSync(join(root, 'home/alice/.mozilla/firefox'), { recursive: true });
    put('home/alice/.config/opera/x', '');
    let checks = await runChecks(ctx());
    expect(byId(checks, 'manifest:firefox')).toMatchObject({ status: 'fail', fix: expect.stringMatching(/npm run setup/) });
    expect(byId(checks, 'manifest:opera')?.message).toMatch(/\.config\/opera\/NativeMessagingHosts/);
    // A user manifest wins over the system one: a stale one is reported.
    put('home/alice/.config/chromium/NativeMessagingHosts/dev.tunlock.host.json', renderHostManifest('firefox', '/usr/local/lib/tunlock/bin/tunlock-host'));
    checks = await runChecks(ctx());
    expect(byId(checks, 'manifest:chromium')).toMatchObject({ status: 'fail', message: expect.stringMatching(/allowed_origins lacks chrome-extension:\/\//) });
    rmSync(join(root, 'home/alice/.config/chromium'), { recursive: true });
    rmSync(join(root, 'usr/local/lib/tunlock/bin/tunlock-host'));
    checks = await runChecks(ctx());
    expect(byId(checks, 'manifest:chromium')?.message).toMatch(/tunlock-host is missing or not executable/);
  });

  it('reports the extension never connecting', async () => {
    rmSync(join(root, 'home/alice/.local/state/tunlock'), { recursive: true });
    expect(byId(await runChecks(ctx()), 'extension')).toMatchObject({ status: 'warn', fix: expect.stringMatching(/install the tunlock extension/) });
  });

  it('warns about public IPv6 beside a v4-only tunnel while unlocked, and explains it while locked', async () => {
    put('proc/net/if_inet6', '20010db8000000000000000000000001 02 40 00 80     eth0\n');
    const off = { ...STATUS, mode: 'off' } as Status;
    expect(byId(await runChecks(ctx({ status: async () => off })), 'ipv6')).toMatchObject({ status: 'warn', fix: expect.stringMatching(/disable_ipv6/) });
    expect(byId(await runChecks(ctx()), 'ipv6')).toMatchObject({ status: 'info', message: expect.stringMatching(/blocks IPv6 outside the tunnel/) });
    put('proc/net/if_inet6', '20010db8000000000000000000000001 02 40 00 80     eth0\nfd000000000000000000000000000002 05 40 00 80      wg0\n20010db8000100000000000000000002 05 40 00 80      wg0\n');
    expect(byId(await runChecks(ctx({ status: async () => off })), 'ipv6')).toMatchObject({ status: 'ok' });
  });

  it('warns about DNS to the LAN router and explains a local stub resolver', async () => {
    put('etc/resolv.conf', '# from DHCP\nnameserver 192.168.1.1\n');
    expect(byId(await runChecks(ctx()), 'dns')).toMatchObject({ status: 'warn', fix: expect.stringMatching(/DNS = /) });
    put('etc/resolv.conf', 'nameserver 127.0.0.53\noptions edns0\n');
    expect(byId(await runChecks(ctx()), 'dns')).toMatchObject({ status: 'info', fix: expect.stringMatching(/resolvectl/) });
  });
});

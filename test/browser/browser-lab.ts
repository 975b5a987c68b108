// A throwaway lab for the browser tests: a client namespace (browser, tunlock-host, tunlockd, test page) and
// an "internet" namespace with a STUN server and a captive portal's login page, linked by a veth pair with documentation addresses. Nothing
// here touches the machine's own network namespace. The namespaces, every process started in them and the
// temp dir belong to the shared namespace fixture (host/src/process/netns-fixture.ts): torn down by PID and
// by name on every exit path (closeSync(), exceptions, signals, process exit, the reaper).
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { NetnsFixture } from '../../host/src/process/netns-fixture.js';
import { requireRootOrSkip } from '../helpers/root.js';
import { BROWSERS } from '../../host/src/common/manifest-locations.js';

/** Every directory where a Linux browser looks for host manifests system-wide (host/src/common/manifest-locations.ts). */
export function systemManifestDirs(): string[] {
  return [...new Set(BROWSERS.flatMap((b) => b.linux.system))];
}

/**
 * The script a test starts as "the browser": the program runs in the lab namespace and in a private mount
 * namespace where each of `masked` that exists is an empty read-only tmpfs, so the browser sees only the host
 * manifests the test registers, never the ones an installed tunlock (`npm run setup`, the package) put in
 * /etc or /usr. HOME comes from the test run (test/setup/isolated-home.ts).
 */
export function browserWrapperScript(ns: string, program: string, masked: string[]): string {
  const mounts = masked
    .filter((d) => existsSync(d))
    .map((d) => `mount -t tmpfs -o ro,mode=755 tunlock-mask ${d} && `)
    .join('');
  return `#!/bin/sh\nexec ip netns exec ${ns} unshare --mount --propagation private sh -c '${mounts}exec ${program} "$@"' browser "$@"\n`;
}

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLIENT_V4 = '203.0.113.2';
export const CLIENT_V6 = '2001:db8:1::2';
export const STUN_V4 = '192.0.2.1';
export const STUN_V6 = '2001:db8:2::1';
export const STUN_PORT = 3478;
export const TUN = 'tlt0';
/** The lab's captive portal, on the "internet" side: blocked while locked, reachable through a captive hole. */
export const PORTAL_V4 = '203.0.113.1';
/** What screenshots show instead of the random temp dir (so a PNG only changes when the UI does). */
export const STABLE_DIR = '/tmp/tunlock-browser-XXXXXX';

/** Root-only tier (see test/helpers/root.ts). Returns whether the tests can run. */
export function canRunRootTier(what: string): boolean {
  return requireRootOrSkip(what, ['wireguard-go']);
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class BrowserLab {
  /** the client namespace (browser, host, daemon, test page) */
  readonly ns: string;
  /** the "internet" namespace (STUN server, captive portal) */
  readonly inet: string;
  readonly dir: string;
  readonly socket: string;
  readonly pagePort = 8088;
  private daemon: ChildProcess | null = null;
  readonly stunLog: { from: string; at: number }[] = [];
  daemonLog = '';

  private constructor(private readonly fx: NetnsFixture) {
    this.ns = fx.ns('client');
    this.inet = fx.ns('inet');
    this.dir = fx.tmp;
    this.socket = join(this.dir, 'd.sock');
  }

  static async create(): Promise<BrowserLab> {
    const lab = new BrowserLab(NetnsFixture.create({ namespaces: ['client', 'inet'], tag: 'browser' }));
    try {
      await lab.setup();
    } catch (e) {
      lab.closeSync();
      throw e;
    }
    return lab;
  }

  private async setup(): Promise<void> {
    const { ns, inet, fx } = this;
    const ip = (n: string, ...args: string[]) => fx.ipSync(n, args);
    ip(ns, ...fx.vethLine('eth0', { ns: inet, dev: 'eth0' }).split(' '));
    ip(ns, 'addr', 'add', `${CLIENT_V4}/24`, 'dev', 'eth0');
    ip(ns, 'addr', 'add', `${CLIENT_V6}/64`, 'dev', 'eth0', 'nodad');
    ip(inet, 'addr', 'add', '203.0.113.1/24', 'dev', 'eth0');
    ip(inet, 'addr', 'add', '2001:db8:1::1/64', 'dev', 'eth0', 'nodad');
    ip(inet, 'addr', 'add', `${STUN_V4}/32`, 'dev', 'lo');
    ip(inet, 'addr', 'add', `${STUN_V6}/128`, 'dev', 'lo', 'nodad');
    ip(ns, 'link', 'set', 'eth0', 'up');
    ip(inet, 'link', 'set', 'eth0', 'up');
    // The "physical" default routes: without a lock, everything not on-link goes out eth0.
    ip(ns, 'route', 'add', 'default', 'via', '203.0.113.1');
    ip(ns, '-6', 'route', 'add', 'default', 'via', '2001:db8:1::1');
    // The daemon's --resolv-conf: this network's resolver, which a captive hole lets DNS through to.
    writeFileSync(join(this.dir, 'resolv.conf'), `nameserver ${PORTAL_V4}\n`);

    const stun = this.spawnIn(inet, process.execPath, [join(ROOT, 'test/browser/servers/stun.mjs'), STUN_V4, String(STUN_PORT), STUN_V6, String(STUN_PORT)]);
    let listening = 0;
    await new Promise<void>((ok, fail) => {
      stun.once('exit', (c) => fail(new Error(`stun server exited (${c})`)));
      createInterface({ input: stun.stdout! }).on('line', (line) => {
        const m = JSON.parse(line) as { from?: string; listening?: string };
        if (m.from) this.stunLog.push({ from: m.from, at: Date.now() });
        if (m.listening && ++listening === 2) ok();
      });
    });
    const portal = this.spawnIn(inet, process.execPath, [join(ROOT, 'test/browser/servers/portal.mjs'), PORTAL_V4, '80']);
    await new Promise<void>((ok, fail) => {
      portal.once('exit', (c) => fail(new Error(`portal server exited (${c})`)));
      portal.stdout!.once('data', () => ok());
    });
    const page = this.spawnIn(ns, process.execPath, [join(ROOT, 'test/browser/servers/page.mjs'), String(this.pagePort)]);
    await new Promise<void>((ok, fail) => {
      page.once('exit', (c) => fail(new Error(`page server exited (${c})`)));
      page.stdout!.once('data', () => ok());
    });
    await this.startDaemon();

    // What the browser starts: tunlock-host with the lab's daemon socket.
    const host = join(this.dir, 'tunlock-host');
    writeFileSync(host, `#!/bin/sh\nTUNLOCK_SOCKET='${this.socket}' exec '${process.execPath}' '${join(ROOT, 'host/dist/tunlock-host.js')}' "$@"\n`);
    chmodSync(host, 0o755);
    for (const b of ['chromium', 'firefox-esr']) {
      const w = join(this.dir, b);
      writeFileSync(w, browserWrapperScript(this.ns, `/usr/bin/${b}`, systemManifestDirs()));
      chmodSync(w, 0o755);
    }
  }

  get hostPath(): string {
    return join(this.dir, 'tunlock-host');
  }
  /** A script that runs the browser inside the client namespace (for executablePath). */
  browserWrapper(b: 'chromium' | 'firefox-esr'): string {
    return join(this.dir, b);
  }
  get portalUrl(): string {
    return `http://${PORTAL_V4}/`;
  }
  get pageUrl(): string {
    return `http://127.0.0.1:${this.pagePort}/`;
  }

  private spawnIn(ns: string, cmd: string, args: string[]): ChildProcess {
    return this.fx.spawn(ns, cmd, args).child;
  }

  async startDaemon(): Promise<void> {
    mkdirSync(join(this.dir, 'state'), { recursive: true });
    const d = this.spawnIn(this.ns, process.execPath, [
      join(ROOT, 'host/dist/tunlockd.js'),
      '--socket', this.socket,
      '--state-dir', join(this.dir, 'state'),
      '--resolv-conf', join(this.dir, 'resolv.conf'),
    ]);
    this.daemon = d;
    await new Promise<void>((ok, fail) => {
      d.once('exit', (c) => fail(new Error(`tunlockd exited (${c}): ${this.daemonLog}`)));
      d.stderr!.on('data', (b: Buffer) => {
        this.daemonLog += b.toString();
        if (this.daemonLog.includes('listening on')) ok();
      });
    });
  }

  /**
   * The state every browser test starts from, whatever the test before it did (or failed halfway through):
   * the daemon running, the stand-in tunnel down, the lock off, the lab's tunnel configured.
   */
  async reset(): Promise<void> {
    if (!this.daemon) await this.startDaemon();
    if (this.tunIsUp()) this.tunDown();
    this.tunlock('lock', 'off');
    const { tunnels } = JSON.parse(this.tunlock('--json', 'status')) as { tunnels: { iface: string }[] };
    if (!tunnels.some((t) => t.iface === TUN)) this.tunlock('tunnel', 'add', TUN, '--endpoint', '198.51.100.10:51820/udp');
  }

  /** SIGKILL: the daemon dies without any goodbye; the kernel rules stay. */
  async killDaemon(): Promise<void> {
    const d = this.daemon;
    if (!d) return;
    this.daemon = null;
    const gone = new Promise((r) => d.once('exit', r));
    d.kill('SIGKILL');
    await gone;
  }

  tunlock(...args: string[]): string {
    return sh('ip', ['netns', 'exec', this.ns, process.execPath, join(ROOT, 'host/dist/tunlock.js'), '--socket', this.socket, ...args]);
  }
  /** The lock's table as the kernel holds it ('' when there is none). */
  nft(): string {
    try {
      return sh('ip', ['netns', 'exec', this.ns, 'nft', 'list', 'table', 'inet', 'tunlock']);
    } catch {
      return '';
    }
  }
  /**
   * The stand-in tunnel: a real tun device held open by wireguard-go (no peers needed: the daemon trusts only
   * links the kernel reports as tunnels, and a tun nobody holds open has no carrier). Deleting the link is the
   * "tunnel drop"; wireguard-go then exits by itself. Its control socket goes to a private tmpfs (`ip netns
   * exec` runs it in its own mount namespace), so concurrent labs never share /var/run/wireguard/tlt0.sock.
   */
  async tunUp(): Promise<void> {
    const { child } = this.fx.spawn(this.ns, 'sh', ['-c', `mount -t tmpfs tunlock-wg /var/run/wireguard && exec wireguard-go -f ${TUN}`], {
      stdio: 'ignore',
      env: { ...process.env, LOG_LEVEL: 'error' },
      name: 'wireguard-go',
    });
    const end = Date.now() + 5000;
    while (!this.tunIsUp()) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`wireguard-go ${TUN} did not start`);
      await new Promise((r) => setTimeout(r, 5));
    }
    this.fx.ipSync(this.ns, ['link', 'set', TUN, 'up']);
  }
  tunIsUp(): boolean {
    return spawnSync('ip', ['-n', this.ns, 'link', 'show', TUN], { stdio: 'ignore' }).status === 0;
  }
  tunDown(): void {
    this.fx.ipSync(this.ns, ['link', 'del', TUN]);
  }

  /** Kills everything started here (the browsers too: they run in the namespace), deletes it all. Idempotent. */
  closeSync(): void {
    this.fx.destroySync();
  }
}

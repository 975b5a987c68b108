// The network "leak lab": real kernels, real WireGuard (wireguard-go), real packets, all inside throwaway
// network namespaces. See test/lab/README.md for the topology and the API.
//
// Machine safety: nothing here configures the machine's own (root) network namespace. Every `ip`, `nft`,
// `sysctl`, `wg` and server runs inside a lab namespace (`ip -n NS …` / `ip netns exec NS …`); the only
// root-namespace actions are `ip netns add/del`. Lab namespaces are never linked to the real network.
// Namespaces, processes, files and teardown on every exit path (normal, exceptions, signals, and a detached
// reaper if the owner is SIGKILLed) are the shared namespace fixture's (host/src/process/netns-fixture.ts).

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NetnsFixture, runCommand } from '../../host/src/process/netns-fixture.js';
import type { ExecOptions, ExecResult, Tracked } from '../../host/src/process/netns-fixture.js';
import { requireRootOrSkip } from '../helpers/root.js';

export type { ExecOptions, ExecResult } from '../../host/src/process/netns-fixture.js';

// ---------------------------------------------------------------------------------------------------------
// Constants: paths and the lab's address plan.

/** Directory of this file (overridable for bundled copies, e.g. the teardown test's child process). */
export const LAB_DIR = process.env.TUNLOCK_LAB_DIR ?? path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(LAB_DIR, '../..');
const SERVERS = path.join(LAB_DIR, 'servers');
const WG_RUN_DIR = '/var/run/wireguard';

export const ADDR = {
  client: {
    lan4: '192.168.77.10',
    lan6: '2001:db8:77::10',
    mac: '02:00:00:77:00:10',
    tun4: '10.64.0.2',
  },
  router: {
    lan4: '192.168.77.1',
    lan6: '2001:db8:77::1',
    wan4: '192.0.2.2',
    wan6: '2001:db8:2::2',
  },
  printer: { lan4: '192.168.77.20', port: 9100 },
  inet: { toRouter4: '192.0.2.1', toRouter6: '2001:db8:2::1', toVpn4: '198.51.100.1' },
  vpn: { pub4: '198.51.100.10', tun4: '10.64.0.1', port: 51820 },
  sink: { v4: '203.0.113.10', v6: '2001:db8:ffff::10', tcp: [80, 443, 8080], udp: [5000] },
  /** Extra listener on the VPN server's public address, to probe "wrong port to the endpoint IP". */
  endpointSink: { tcp: [51820, 443], udp: [51821] },
  ispDns: { v4: '203.0.113.53', v6: '2001:db8:ffff::53' },
  lanDns: { v4: '192.168.77.1' },
  container: { ip4: '172.17.0.2', gw4: '172.17.0.1', net4: '172.17.0.0/16' },
} as const;

/** Source addresses the sink sees: through the tunnel, or leaked through the home router's NAT. */
export const VIA_TUNNEL = ADDR.vpn.pub4;
export const VIA_LEAK4 = ADDR.router.wan4;
export const VIA_LEAK6 = ADDR.client.lan6;

export type Role = 'client' | 'router' | 'inet' | 'vpn' | 'printer' | 'container';

export interface LabOptions {
  /** Add a Docker-like container namespace behind the client (172.17.0.2/16, NAT in the client). */
  container?: boolean;
  /** Client persistent-keepalive (seconds); also triggers the first handshake at setup. Default 25. */
  keepaliveSeconds?: number;
  /** Print setup timing and server stderr. Default: env TUNLOCK_LAB_VERBOSE === '1'. */
  verbose?: boolean;
}

/** One JSON line from a lab server (sink, resolvers, printer, extra services). */
export interface LabEvent {
  ts: number;
  svc: string;
  ev: string;
  src?: string;
  token?: string;
  proto?: string;
  port?: number;
  [k: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------------
// Probes.

export const PROBE_KINDS = [
  'tcp4:80',
  'tcp4:443',
  'tcp4:8080',
  'tcp6:80',
  'tcp6:443',
  'tcp6:8080',
  'udp4',
  'udp6',
  'icmp4',
  'icmp6',
  'dns-isp',
  'dns-isp-tcp',
  'dns6-isp',
  'dns-lan',
  'dns-lan-tcp',
  'printer-tcp',
  'printer-udp',
  'endpoint-tcp',
  'endpoint-udp',
] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];
export type ProbeFrom = 'client' | 'container';

/** A probe to an arbitrary target (e.g. a service started later with lab.startService). */
export type CustomProbe =
  | { proto: 'tcp' | 'udp'; host: string; port: number; svc?: string; name?: string }
  | { proto: 'dns'; host: string; port?: number; tcp?: boolean; qtype?: 'A' | 'AAAA'; svc?: string; name?: string }
  | { proto: 'icmp'; host: string; name?: string };

export interface ProbeOptions {
  from?: ProbeFrom;
  /** Per-probe timeout (default 1000 ms). */
  timeoutMs?: number;
}

export interface ProbeResult {
  kind: string;
  from: ProbeFrom;
  target: string;
  /** The server (sink / resolver / printer) saw the probe. For ICMP: the echo request arrived at the sink. */
  reached: boolean;
  /** Source address the server saw: VIA_TUNNEL (198.51.100.10), VIA_LEAK4 (192.0.2.2), VIA_LEAK6, a LAN address… */
  via?: string;
  /** The client got an answer (TCP reply / UDP echo / DNS answer / ping reply). */
  answered: boolean;
  error?: string;
  ms: number;
}

interface ProbeSpec {
  kind: string;
  proto: 'tcp' | 'udp' | 'dns' | 'icmp';
  host: string;
  port: number;
  tcp?: boolean;
  qtype?: number;
  /** Server name whose log confirms arrival (undefined: only the client's view counts). */
  svc?: string;
}

const V6_KINDS = new Set<ProbeKind>(['tcp6:80', 'tcp6:443', 'tcp6:8080', 'udp6', 'icmp6', 'dns6-isp']);

function kindSpec(kind: ProbeKind): ProbeSpec {
  const s = ADDR.sink;
  switch (kind) {
    case 'tcp4:80':
    case 'tcp4:443':
    case 'tcp4:8080':
      return { kind, proto: 'tcp', host: s.v4, port: Number(kind.slice(5)), svc: 'sink' };
    case 'tcp6:80':
    case 'tcp6:443':
    case 'tcp6:8080':
      return { kind, proto: 'tcp', host: s.v6, port: Number(kind.slice(5)), svc: 'sink' };
    case 'udp4':
      return { kind, proto: 'udp', host: s.v4, port: 5000, svc: 'sink' };
    case 'udp6':
      return { kind, proto: 'udp', host: s.v6, port: 5000, svc: 'sink' };
    case 'icmp4':
      return { kind, proto: 'icmp', host: s.v4, port: 0 };
    case 'icmp6':
      return { kind, proto: 'icmp', host: s.v6, port: 0 };
    case 'dns-isp':
      return { kind, proto: 'dns', host: ADDR.ispDns.v4, port: 53, qtype: 1, svc: 'isp-dns' };
    case 'dns-isp-tcp':
      return { kind, proto: 'dns', host: ADDR.ispDns.v4, port: 53, tcp: true, qtype: 1, svc: 'isp-dns' };
    case 'dns6-isp':
      return { kind, proto: 'dns', host: ADDR.ispDns.v6, port: 53, qtype: 28, svc: 'isp-dns' };
    case 'dns-lan':
      return { kind, proto: 'dns', host: ADDR.lanDns.v4, port: 53, qtype: 1, svc: 'lan-dns' };
    case 'dns-lan-tcp':
      return { kind, proto: 'dns', host: ADDR.lanDns.v4, port: 53, tcp: true, qtype: 1, svc: 'lan-dns' };
    case 'printer-tcp':
      return { kind, proto: 'tcp', host: ADDR.printer.lan4, port: 9100, svc: 'printer' };
    case 'printer-udp':
      return { kind, proto: 'udp', host: ADDR.printer.lan4, port: 9100, svc: 'printer' };
    case 'endpoint-tcp':
      return { kind, proto: 'tcp', host: ADDR.vpn.pub4, port: 51820, svc: 'endpoint-sink' };
    case 'endpoint-udp':
      return { kind, proto: 'udp', host: ADDR.vpn.pub4, port: 51821, svc: 'endpoint-sink' };
  }
}

function customSpec(p: CustomProbe): ProbeSpec {
  const kind = p.name ?? `${p.proto}:${p.host}${'port' in p && p.port ? `:${p.port}` : ''}`;
  switch (p.proto) {
    case 'tcp':
    case 'udp':
      return { kind, proto: p.proto, host: p.host, port: p.port, svc: p.svc };
    case 'dns':
      return {
        kind,
        proto: 'dns',
        host: p.host,
        port: p.port ?? 53,
        tcp: p.tcp ?? false,
        qtype: p.qtype === 'AAAA' ? 28 : 1,
        svc: p.svc,
      };
    case 'icmp':
      return { kind, proto: 'icmp', host: p.host, port: 0 };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Small utilities.

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitUntil(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>, stepMs = 20) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`lab: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** WireGuard keys via Node's X25519 (same curve and encoding as `wg genkey` / `wg pubkey`). */
function wgKeyPair(): { priv: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const d = privateKey.export({ format: 'jwk' }).d;
  const x = publicKey.export({ format: 'jwk' }).x;
  if (!d || !x) throw new Error('lab: x25519 key export failed');
  return { priv: Buffer.from(d, 'base64url').toString('base64'), pub: Buffer.from(x, 'base64url').toString('base64') };
}

let pingCmd: string[] | undefined;
/** `ping` (iputils) if installed, else busybox's ping. */
function pingArgv(v6: boolean): string[] {
  if (!pingCmd) {
    const has = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0;
    if (has('ping')) pingCmd = ['ping'];
    else if (has('busybox')) pingCmd = ['busybox', 'ping'];
    else pingCmd = [];
  }
  if (pingCmd.length === 0) return [];
  return [...pingCmd, ...(v6 ? ['-6'] : ['-4'])];
}

/** Tools the lab needs; returns the missing ones. */
export function missingLabTools(): string[] {
  const need = ['ip', 'nft', 'wg', 'wireguard-go', 'tcpdump', 'sysctl'];
  const missing = need.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status !== 0);
  if (pingArgv(false).length === 0) missing.push('ping (iputils-ping or busybox)');
  return missing;
}

/**
 * Gate for a lab test tier (see test/helpers/root.ts): true means skip.
 * Usage: `const skip = labSkip('lab-baseline'); describe.skipIf(skip)(…)`.
 */
export function labSkip(tier: string): boolean {
  if (!requireRootOrSkip(`lab tier "${tier}"`)) return true;
  const missing = missingLabTools();
  if (missing.length) throw new Error(`lab tier "${tier}": missing tools: ${missing.join(', ')}`);
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// Capture.

export interface CaptureOptions {
  /**
   * 'leaks' (default): only what the client put on the wire outside the tunnel — everything from the
   * client's MAC except WireGuard UDP to the endpoint, ARP, ICMPv6 ND (133–137) and DHCP.
   * 'all': everything from the client's MAC (e.g. to see the WireGuard packets themselves).
   */
  filter?: 'leaks' | 'all';
}

export interface Capture {
  /** Lines seen so far (raw tcpdump -nn lines). */
  readonly lines: readonly string[];
  /** Let in-flight packets arrive, stop tcpdump, and return every captured line. Throws if the kernel dropped packets. */
  stop(): Promise<string[]>;
}

/** BPF for "the client put this on the wire outside the tunnel". */
export function leakFilter(clientMac: string = ADDR.client.mac): string {
  return [
    `ether src ${clientMac}`,
    'and not arp',
    `and not (udp and dst host ${ADDR.vpn.pub4} and dst port ${ADDR.vpn.port})`,
    'and not (icmp6 and ip6[40] >= 133 and ip6[40] <= 137)',
    'and not (udp and (port 67 or port 68 or port 546 or port 547))',
  ].join(' ');
}

// ---------------------------------------------------------------------------------------------------------
// Daemon (tunlockd) helpers.

export interface DaemonOptions {
  /** Extra daemon arguments. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the control socket (default 10 s). */
  readyTimeoutMs?: number;
  /** Namespace to run in (default client). */
  role?: Role;
  /** Override the scripts (default host/dist/tunlockd.js and host/dist/tunlock.js), e.g. for a stub. */
  daemonJs?: string;
  /** A command the daemon is started through inside the namespace (e.g. to mount cgroup2 first); it must exec "$@". */
  prefix?: string[];
  cliJs?: string;
}

export interface Daemon {
  readonly pid: number;
  readonly socket: string;
  readonly stateDir: string;
  /** Run `tunlock --socket S --json …args` (in the same namespace) and return its parsed JSON output. */
  cli(args: string[], opts?: { timeoutMs?: number }): Promise<unknown>;
  /** Same, without throwing on a non-zero exit: exit code, output and (if it parsed) the JSON. */
  cliRaw(args: string[], opts?: { timeoutMs?: number }): Promise<ExecResult & { json?: unknown }>;
  /** Send a signal (default SIGKILL) and wait for the daemon to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again with the same socket and state dir (kills it first — SIGTERM — if still running). */
  restart(): Promise<void>;
  /** The daemon's stdout+stderr so far. */
  log(): string;
  readonly running: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// The lab.

export class Lab {
  readonly id: string;
  readonly opts: Required<Pick<LabOptions, 'container' | 'keepaliveSeconds' | 'verbose'>>;
  /** Namespace names, e.g. ns.client === 'tl1a2b3c-client'. */
  readonly ns: Record<Role, string>;
  /** WireGuard interface names (unique per lab; their control sockets live in /var/run/wireguard). */
  readonly wg: { client: string; server: string };
  readonly tmp: string;
  /** Every server event so far (sink, resolvers, printer, extra services). */
  readonly events: LabEvent[] = [];
  /** A fwmark for the client tunnel's own packets from the next (re)start on (wg-quick sets one). */
  clientFwmark: number | null = null;
  /** Setup time in ms. */
  setupMs = 0;

  private readonly keys = { client: wgKeyPair(), server: wgKeyPair() };
  private readonly fx: NetnsFixture;
  private readonly eventWaiters = new Set<() => void>();
  private wgClientProc: Tracked | undefined;
  private tokenSeq = 0;
  private icmpLock: Record<'4' | '6', Promise<unknown>> = { '4': Promise.resolve(), '6': Promise.resolve() };
  private daemonSeq = 0;

  private constructor(opts: LabOptions) {
    this.opts = {
      container: opts.container ?? false,
      keepaliveSeconds: opts.keepaliveSeconds ?? 25,
      verbose: opts.verbose ?? process.env.TUNLOCK_LAB_VERBOSE === '1',
    };
    const suffix: Record<Role, string> = { client: 'client', router: 'router', inet: 'inet', vpn: 'vpn', printer: 'prn', container: 'ctr' };
    const roles: Role[] = ['client', 'router', 'inet', 'vpn', 'printer', ...(this.opts.container ? (['container'] as const) : [])];
    this.fx = NetnsFixture.create({ namespaces: roles.map((r) => suffix[r]), tag: 'lab' });
    const id = this.fx.id;
    this.id = id;
    const n = (r: Role) => `tl${id}-${suffix[r]}`;
    this.ns = { client: n('client'), router: n('router'), inet: n('inet'), vpn: n('vpn'), printer: n('printer'), container: n('container') };
    this.wg = { client: `wg${id}c`, server: `wg${id}s` };
    for (const w of [this.wg.client, this.wg.server]) this.fx.removeOnTeardown(`${WG_RUN_DIR}/${w}.sock`);
    this.tmp = this.fx.tmp;
  }

  /** Build a lab. Always pair with destroy() (or use withLab). */
  static async create(opts: LabOptions = {}): Promise<Lab> {
    const lab = new Lab(opts);
    try {
      await lab.setup();
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  private get namespaces(): string[] {
    return this.fx.namespaces();
  }

  private log(msg: string) {
    if (this.opts.verbose) console.error(`[lab ${this.id}] ${new Date().toISOString().slice(17, 23)} ${msg}`);
  }

  // ----- setup ---------------------------------------------------------------------------------------------

  private async setup() {
    const t0 = Date.now();
    const { client, router, inet, vpn, printer, container } = this.ns;
    const A = ADDR;
    // 1. Namespaces: made by the fixture (the only root-namespace action besides deleting them again).
    const phase = (name: string) => this.log(`${name}: ${Date.now() - t0} ms`);
    phase('namespaces');

    // 2. Per-namespace sysctls, before interfaces exist so they inherit the defaults: no IPv6 DAD (addresses
    //    usable at once) and fast MLD report retransmits (done during setup, never inside a later capture).
    const baseSysctl = [
      'net.ipv6.conf.all.accept_dad=0',
      'net.ipv6.conf.default.accept_dad=0',
      'net.ipv6.conf.default.mldv1_unsolicited_report_interval=10',
      'net.ipv6.conf.default.mldv2_unsolicited_report_interval=10',
      'net.ipv6.conf.all.mldv1_unsolicited_report_interval=10',
      'net.ipv6.conf.all.mldv2_unsolicited_report_interval=10',
    ];
    const fwd = ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'];
    await Promise.all(
      this.namespaces.map((n) => {
        const extra = n === router || n === inet ? fwd : n === vpn ? ['net.ipv4.ip_forward=1'] : [];
        const cl = n === client && this.opts.container ? ['net.ipv4.ip_forward=1'] : [];
        return this.nsExec(n, 'sysctl', ['-q', '-w', ...baseSysctl, ...extra, ...cl]);
      }),
    );

    phase('sysctls');
    // 3. veth pairs, created directly inside the namespaces.
    //    Explicit, distinct ifindexes for the two ends: the kernel treats a carrier change on a device whose
    //    ifindex equals its peer's as non-urgent (linkwatch, up to 1 s late), which delays the first packets.
    const veth = (a: string, idx: number, peer: string, peerNs: string, mac?: string) =>
      this.fx.vethLine(a, { ns: peerNs, dev: peer }, { index: idx, ...(mac ? { mac } : {}) });
    await Promise.all([
      this.ipBatch(client, [
        veth('eth0', 10, 'lan0', router, A.client.mac),
        ...(this.opts.container ? [veth('vethc0', 20, 'eth0', container)] : []),
      ]),
      this.ipBatch(router, [veth('lanp', 30, 'eth0', printer), veth('wan0', 40, 'r0', inet)]),
      this.ipBatch(inet, [veth('v0', 50, 'eth0', vpn)]),
    ]);

    phase('veths');
    // 4. Addresses and links.
    await Promise.all([
      this.ipBatch(client, [
        'link set lo up',
        'link set eth0 up',
        `addr add ${A.client.lan4}/24 dev eth0`,
        `addr add ${A.client.lan6}/64 dev eth0 nodad`,
        ...(this.opts.container
          ? [
              'link add docker0 type bridge stp_state 0 mcast_snooping 0',
              'link set vethc0 master docker0',
              'link set vethc0 up',
              'link set docker0 up',
              `addr add ${A.container.gw4}/16 dev docker0`,
            ]
          : []),
      ]),
      this.ipBatch(router, [
        'link set lo up',
        'link add br0 address 02:00:00:77:00:01 type bridge stp_state 0 mcast_snooping 0',
        'link set lan0 master br0',
        'link set lanp master br0',
        'link set lan0 up',
        'link set lanp up',
        'link set br0 up',
        'link set wan0 up',
        `addr add ${A.router.lan4}/24 dev br0`,
        `addr add ${A.router.lan6}/64 dev br0 nodad`,
        `addr add ${A.router.wan4}/24 dev wan0`,
        `addr add ${A.router.wan6}/64 dev wan0 nodad`,
      ]),
      this.ipBatch(inet, [
        'link set lo up',
        `addr add ${A.sink.v4}/32 dev lo`,
        `addr add ${A.ispDns.v4}/32 dev lo`,
        `addr add ${A.sink.v6}/128 dev lo nodad`,
        `addr add ${A.ispDns.v6}/128 dev lo nodad`,
        'link set r0 up',
        'link set v0 up',
        `addr add ${A.inet.toRouter4}/24 dev r0`,
        `addr add ${A.inet.toRouter6}/64 dev r0 nodad`,
        `addr add ${A.inet.toVpn4}/24 dev v0`,
      ]),
      this.ipBatch(vpn, ['link set lo up', 'link set eth0 up', `addr add ${A.vpn.pub4}/24 dev eth0`]),
      this.ipBatch(printer, ['link set lo up', 'link set eth0 up', `addr add ${A.printer.lan4}/24 dev eth0`]),
      ...(this.opts.container
        ? [this.ipBatch(container, ['link set lo up', 'link set eth0 up', `addr add ${A.container.ip4}/16 dev eth0`])]
        : []),
    ]);

    phase('addresses');
    // 4b. Wait until every link is operationally up and every bridge port forwards. The kernel applies
    //     carrier/operstate changes lazily (linkwatch, up to 1 s later); querying the links syncs them.
    //     Without this the first ARP through the bridge can be lost and the handshake takes a second longer.
    await this.waitLinksReady();
    phase('links ready');

    // 5. Routes, NAT, servers, WireGuard — in parallel.
    const labNat = (rule: string) =>
      `table ip labnat {\n chain post {\n  type nat hook postrouting priority srcnat; policy accept;\n  ${rule}\n }\n}\n`;
    await Promise.all([
      this.ipBatch(client, [
        `route add ${A.vpn.pub4}/32 via ${A.router.lan4} dev eth0`,
        `route add default via ${A.router.lan4} dev eth0 metric 100`,
        `route add default via ${A.router.lan6} dev eth0 metric 100`,
      ]),
      this.ipBatch(router, [`route add default via ${A.inet.toRouter4}`, `route add default via ${A.inet.toRouter6}`]),
      this.ipBatch(inet, [`route add 2001:db8:77::/64 via ${A.router.wan6}`]),
      this.ipBatch(vpn, [`route add default via ${A.inet.toVpn4}`]),
      this.ipBatch(printer, [`route add default via ${A.router.lan4}`]),
      ...(this.opts.container
        ? [
            this.ipBatch(container, [`route add default via ${A.container.gw4}`]),
            this.restoreLabFirewall(),
          ]
        : []),
      this.nsExec(router, 'nft', ['-f', '-'], { input: labNat('oifname "wan0" masquerade') }),
      this.nsExec(vpn, 'nft', ['-f', '-'], { input: labNat('ip saddr 10.64.0.0/24 oifname "eth0" masquerade') }),
      // ICMP can't carry a token: the sink's namespace records echo-request sources in nft sets instead.
      this.nsExec(inet, 'nft', ['-f', '-'], {
        input: `table inet labsink {
 set seen4 { type ipv4_addr; flags dynamic; }
 set seen6 { type ipv6_addr; flags dynamic; }
 chain input {
  type filter hook input priority 0; policy accept;
  ip daddr ${A.sink.v4} icmp type echo-request add @seen4 { ip saddr }
  ip6 daddr ${A.sink.v6} icmpv6 type echo-request add @seen6 { ip6 saddr }
 }
}
`,
      }),
      this.startServer(inet, 'dns.mjs', {
        svc: 'isp-dns',
        binds: [A.ispDns.v4, A.ispDns.v6],
        port: 53,
        a: A.sink.v4,
        aaaa: A.sink.v6,
      }),
      this.startServer(inet, 'sink.mjs', { svc: 'sink', binds: [A.sink.v4, A.sink.v6], tcp: A.sink.tcp, udp: A.sink.udp }),
      this.startServer(router, 'dns.mjs', {
        svc: 'lan-dns',
        binds: [A.lanDns.v4],
        port: 53,
        a: A.sink.v4,
        aaaa: A.sink.v6,
      }),
      this.startServer(printer, 'sink.mjs', { svc: 'printer', binds: [A.printer.lan4], tcp: [9100], udp: [9100] }),
      this.startServer(vpn, 'sink.mjs', {
        svc: 'endpoint-sink',
        binds: [A.vpn.pub4],
        tcp: A.endpointSink.tcp,
        udp: A.endpointSink.udp,
      }),
      this.setupWireGuard(),
    ]);
    this.setupMs = Date.now() - t0;
    this.log(`setup done in ${this.setupMs} ms`);
  }

  private async waitLinksReady(timeoutMs = 5000) {
    const notReady: string[] = [];
    await waitUntil('lab links up', timeoutMs, async () => {
      notReady.length = 0;
      await Promise.all(
        this.namespaces.map(async (n) => {
          const r = await runCommand('ip', ['-n', n, '-d', '-o', 'link', 'show']);
          for (const line of r.stdout.split('\n')) {
            const m = /^\d+: ([^:@]+)[@:].*<([^>]*)>/.exec(line);
            if (!m || m[1] === 'lo' || !m[2]!.split(',').includes('UP')) continue;
            const oper = / state (\S+) mode /.exec(line)?.[1];
            const port = /bridge_slave state (\S+)/.exec(line)?.[1];
            if (oper !== 'UP' || (port !== undefined && port !== 'forwarding')) notReady.push(`${n}/${m[1]}: ${oper} ${port ?? ''}`);
          }
        }),
      );
      return notReady.length === 0;
    }, 20).catch((e: Error) => {
      throw new Error(`${e.message}: ${notReady.join(', ')}`);
    });
  }

  private async setupWireGuard() {
    const { vpn } = this.ns;
    const srv = this.wg.server;
    await this.startWireGuardGo('vpn', srv);
    const srvConf = path.join(this.tmp, 'wg-server.conf');
    fs.writeFileSync(
      srvConf,
      `[Interface]\nPrivateKey = ${this.keys.server.priv}\nListenPort = ${ADDR.vpn.port}\n\n` +
        `[Peer]\nPublicKey = ${this.keys.client.pub}\nAllowedIPs = ${ADDR.client.tun4}/32\n`,
      { mode: 0o600 },
    );
    await this.nsExec(vpn, 'wg', ['setconf', srv, srvConf]);
    await this.ipBatch(vpn, [`addr add ${ADDR.vpn.tun4}/24 dev ${srv}`, `link set ${srv} up`]);
    this.log(`server tunnel up`);
    await this.bringUpClientTunnel();
  }

  private async startWireGuardGo(role: 'client' | 'vpn', ifname: string): Promise<Tracked> {
    const sock = `${WG_RUN_DIR}/${ifname}.sock`;
    fs.rmSync(sock, { force: true });
    const logFile = path.join(this.tmp, `${ifname}.log`);
    const out = fs.openSync(logFile, 'a');
    const child = spawn('ip', ['netns', 'exec', this.ns[role], 'wireguard-go', '-f', ifname], {
      stdio: ['ignore', out, out],
      env: { ...process.env, LOG_LEVEL: 'error' },
    });
    fs.closeSync(out);
    const t = this.fx.track(`wireguard-go ${ifname}`, child);
    await waitUntil(`wireguard-go ${ifname} control socket`, 5000, () => {
      if (t.done) throw new Error(`lab: wireguard-go ${ifname} exited: ${fs.readFileSync(logFile, 'utf8')}`);
      return fs.existsSync(sock);
    }, 10);
    return t;
  }

  private async bringUpClientTunnel() {
    const { client } = this.ns;
    const cli = this.wg.client;
    this.wgClientProc = await this.startWireGuardGo('client', cli);
    const conf = path.join(this.tmp, 'wg-client.conf');
    fs.writeFileSync(
      conf,
      `[Interface]\nPrivateKey = ${this.keys.client.priv}\n${this.clientFwmark ? `FwMark = ${this.clientFwmark}\n` : ''}\n` +
        `[Peer]\nPublicKey = ${this.keys.server.pub}\nEndpoint = ${ADDR.vpn.pub4}:${ADDR.vpn.port}\n` +
        `AllowedIPs = 0.0.0.0/0\nPersistentKeepalive = ${this.opts.keepaliveSeconds}\n`,
      { mode: 0o600 },
    );
    // Configure before `link set up`: wireguard-go sends the first keepalive (hence the handshake) on up.
    await this.nsExec(client, 'wg', ['setconf', cli, conf]);
    await this.ipBatch(client, [
      `addr add ${ADDR.client.tun4}/32 dev ${cli}`,
      `link set ${cli} up`,
      `route add default dev ${cli} metric 50`,
    ]);
    this.log('client tunnel configured');
    await this.waitHandshake();
    this.log('handshake');
  }

  /**
   * (Re)load the lab's own table in the client namespace (`ip labnat`: the container's masquerade). Use it
   * after a test flushed the client's whole ruleset ("another tool flushing the ruleset"). No-op without container.
   */
  async restoreLabFirewall(): Promise<void> {
    if (!this.opts.container) return;
    await this.nsExec(this.ns.client, 'nft', ['-f', '-'], {
      input:
        'add table ip labnat\ndelete table ip labnat\n' +
        `table ip labnat {\n chain post {\n  type nat hook postrouting priority srcnat; policy accept;\n` +
        `  ip saddr ${ADDR.container.net4} oifname != "docker0" masquerade\n }\n}\n`,
    });
  }

  /** Wait until the client has a WireGuard handshake with the server. */
  async waitHandshake(timeoutMs = 8000): Promise<void> {
    await waitUntil('WireGuard handshake', timeoutMs, async () => {
      const r = await this.nsExec(this.ns.client, 'wg', ['show', this.wg.client, 'latest-handshakes'], { allowFail: true });
      const ts = Number(r.stdout.trim().split(/\s+/)[1] ?? 0);
      return ts > 0;
    }, 25);
  }

  // ----- process helpers (the fixture owns every process and namespace) ----------------------------------

  private track(name: string, child: ChildProcess): Tracked {
    return this.fx.track(name, child);
  }

  private killTracked(t: Tracked, signal: NodeJS.Signals = 'SIGKILL', waitMs = 3000): Promise<void> {
    return this.fx.kill(t, signal, waitMs);
  }

  private nsExec(ns: string, cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.fx.exec(ns, cmd, args, opts);
  }

  private ipBatch(ns: string, lines: string[]): Promise<ExecResult> {
    return this.fx.ip(ns, lines);
  }

  /** Run `cmd args` inside a lab namespace (role or full namespace name). Throws on non-zero exit unless allowFail. */
  exec(ns: Role | string, cmd: string, args: string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.nsExec(this.nsName(ns), cmd, args, opts);
  }

  /** Start a long-running process inside a lab namespace; it is killed on teardown. */
  spawnIn(ns: Role | string, cmd: string, args: string[] = [], opts: { env?: NodeJS.ProcessEnv; name?: string } = {}) {
    const child = spawn('ip', ['netns', 'exec', this.nsName(ns), cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    const t = this.track(opts.name ?? cmd, child);
    return { child, pid: t.pid, exited: t.exited, kill: (sig: NodeJS.Signals = 'SIGKILL') => this.killTracked(t, sig) };
  }

  nsName(ns: Role | string): string {
    const name = (this.ns as Record<string, string>)[ns] ?? ns;
    if (!this.namespaces.includes(name)) throw new Error(`lab: unknown namespace ${ns}`);
    return name;
  }

  // ----- servers and events ----------------------------------------------------------------------------

  private startServer(ns: string, script: string, config: Record<string, unknown>): Promise<{ pid: number; stop: () => Promise<void> }> {
    const svc = String(config.svc ?? script);
    const scriptPath = path.isAbsolute(script) ? script : path.join(SERVERS, script);
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, scriptPath, JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const t = this.track(`server ${svc}`, child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (this.opts.verbose) process.stderr.write(`[lab ${this.id} ${svc}] ${d}`);
    });
    return new Promise((resolve, reject) => {
      let ready = false;
      const rl = readline.createInterface({ input: child.stdout! });
      rl.on('line', (line) => {
        let ev: LabEvent;
        try {
          ev = JSON.parse(line) as LabEvent;
        } catch {
          return;
        }
        if (ev.ev === 'ready' && !ready) {
          ready = true;
          this.log(`server ${svc} ready`);
          resolve({ pid: t.pid, stop: () => this.killTracked(t) });
          return;
        }
        if (ev.ev === 'fatal') reject(new Error(`lab: server ${svc} failed: ${String(ev.error)}`));
        this.events.push(ev);
        for (const w of this.eventWaiters) w();
      });
      void t.exited.then(() => {
        if (!ready) reject(new Error(`lab: server ${svc} exited before ready: ${stderr.trim()}`));
      });
    });
  }

  /**
   * Start an extra service (e.g. a STUN server or captive portal, later): a Node script printing JSON lines
   * ({"ev":"ready"} first, then events with at least "svc" and "ev"). Relative paths resolve in test/lab/servers.
   * Events land in lab.events. Killed on teardown.
   */
  startService(ns: Role | string, script: string, config: Record<string, unknown>) {
    return this.startServer(this.nsName(ns), script, config);
  }

  /** Add an address inside a lab namespace, e.g. addAddress('inet', 'lo', '203.0.113.80/32') for a new service. */
  async addAddress(ns: Role | string, dev: string, cidr: string): Promise<void> {
    await this.ipBatch(this.nsName(ns), [`addr add ${cidr} dev ${dev}${cidr.includes(':') ? ' nodad' : ''}`]);
  }

  /** Index into lab.events, to look only at what happened after it: lab.events.slice(mark). */
  mark(): number {
    return this.events.length;
  }

  /** Wait for an event matching `pred` (already seen or future), or undefined after timeoutMs. */
  waitEvent(pred: (e: LabEvent) => boolean, timeoutMs: number): Promise<LabEvent | undefined> {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      let from = this.events.length;
      const check = () => {
        for (; from < this.events.length; from++) {
          const e = this.events[from]!;
          if (pred(e)) return done(e);
        }
      };
      const done = (e: LabEvent | undefined) => {
        clearTimeout(timer);
        this.eventWaiters.delete(check);
        resolve(e);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.eventWaiters.add(check);
    });
  }

  /** Source addresses the internet sink (any port/proto) saw since `mark`. */
  sinkSources(mark = 0): string[] {
    return [...new Set(this.events.slice(mark).filter((e) => e.svc === 'sink' && e.src).map((e) => e.src!))];
  }

  // ----- capture ---------------------------------------------------------------------------------------

  /** Start tcpdump on the router's LAN port facing the client; resolves once tcpdump is listening. */
  async capture(opts: CaptureOptions = {}): Promise<Capture> {
    const filter = opts.filter === 'all' ? `ether src ${ADDR.client.mac}` : leakFilter();
    const child = spawn(
      'ip',
      ['netns', 'exec', this.ns.router, 'tcpdump', '-i', 'lan0', '--immediate-mode', '-nn', '-l', filter],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const t = this.track('tcpdump', child);
    const lines: string[] = [];
    let stderr = '';
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.trim() === '') return;
      // Keep any continuation line (starts with whitespace) with its packet.
      if (/^\s/.test(l) && lines.length) lines[lines.length - 1] += ' ' + l.trim();
      else lines.push(l);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await waitUntil('tcpdump "listening on"', 5000, () => {
      if (t.done) throw new Error(`lab: tcpdump exited: ${stderr}`);
      return stderr.includes('listening on');
    }, 10);
    const stop = async () => {
      await sleep(150); // let in-flight packets reach the capture
      await this.killTracked(t, 'SIGINT', 3000);
      if (!t.done) await this.killTracked(t, 'SIGKILL');
      await new Promise((r) => setImmediate(r));
      const dropped = /(\d+) packets? dropped by kernel/.exec(stderr);
      if (dropped && Number(dropped[1]) > 0) {
        throw new Error(`lab: tcpdump dropped ${dropped[1]} packets — capture not trustworthy:\n${stderr}`);
      }
      return [...lines];
    };
    return { lines, stop };
  }

  /** Run fn with a capture around it; returns fn's result and the captured lines. */
  async captureDuring<T>(fn: () => Promise<T>, opts: CaptureOptions = {}): Promise<{ result: T; packets: string[] }> {
    const cap = await this.capture(opts);
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      await cap.stop().catch(() => undefined);
      throw e;
    }
    return { result, packets: await cap.stop() };
  }

  // ----- probes ----------------------------------------------------------------------------------------

  /** Kinds that make sense from `from` (the container has no IPv6). */
  probeKinds(from: ProbeFrom = 'client'): ProbeKind[] {
    return PROBE_KINDS.filter((k) => from === 'client' || !V6_KINDS.has(k));
  }

  async probe(kind: ProbeKind | CustomProbe, opts: ProbeOptions = {}): Promise<ProbeResult> {
    const [r] = await this.probeMany([kind], opts);
    return r!;
  }

  /** Run the standard probe set (or `kinds`) in parallel; bounded by ~timeoutMs + overhead. */
  async probeAll(opts: ProbeOptions & { kinds?: ProbeKind[] } = {}): Promise<Record<ProbeKind, ProbeResult>> {
    const kinds = opts.kinds ?? this.probeKinds(opts.from);
    const res = await this.probeMany(kinds, opts);
    return Object.fromEntries(res.map((r) => [r.kind, r])) as Record<ProbeKind, ProbeResult>;
  }

  async probeMany(kinds: (ProbeKind | CustomProbe)[], opts: ProbeOptions = {}): Promise<ProbeResult[]> {
    const from = opts.from ?? 'client';
    if (from === 'container' && !this.opts.container) throw new Error('lab: no container (create the lab with { container: true })');
    const ns = this.ns[from];
    const timeoutMs = opts.timeoutMs ?? 1000;
    const specs = kinds.map((k) => (typeof k === 'string' ? kindSpec(k) : customSpec(k)));
    const tokens = specs.map(() => `${this.id}-${++this.tokenSeq}`);
    const sockSpecs = specs
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => s.proto !== 'icmp')
      .map(({ s, i }) => ({
        id: String(i),
        proto: s.proto,
        host: s.host,
        port: s.port,
        tcp: s.tcp ?? false,
        qtype: s.qtype ?? 1,
        qname: `t-${tokens[i]}.probe.test`,
        token: tokens[i],
        timeoutMs,
      }));
    const t0 = Date.now();
    const sockRun =
      sockSpecs.length === 0
        ? Promise.resolve([] as { id: string; ok: boolean; seen?: string; error?: string; ms: number }[])
        : this.nsExec(ns, process.execPath, [path.join(SERVERS, 'probe.mjs'), JSON.stringify(sockSpecs)], {
            timeoutMs: timeoutMs + 10_000,
          }).then((r) => JSON.parse(r.stdout) as { id: string; ok: boolean; seen?: string; error?: string; ms: number }[]);
    const icmpRuns = specs.map((s) => (s.proto === 'icmp' ? this.icmpProbe(ns, s, timeoutMs) : undefined));
    const sockResults = await sockRun;
    const out = specs.map(async (s, i): Promise<ProbeResult> => {
      const target =
        s.proto === 'icmp'
          ? s.host
          : `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}${s.proto === 'dns' ? (s.tcp ? '/tcp' : '/udp') : ''}`;
      if (s.proto === 'icmp') return { kind: s.kind, from, target, ...(await icmpRuns[i]!) };
      const c = sockResults.find((r) => r.id === String(i));
      const answered = !!c?.ok;
      let reached = answered;
      let via = c?.seen;
      if (s.svc) {
        // The server's log is the ground truth (a UDP datagram may arrive while its answer is blocked).
        const token = tokens[i];
        const ev = await this.waitEvent((e) => e.svc === s.svc && e.token === token, answered ? 1000 : 150);
        reached = !!ev;
        via = ev?.src;
      }
      return {
        kind: s.kind,
        from,
        target,
        reached,
        answered,
        ms: c?.ms ?? Date.now() - t0,
        ...(via ? { via } : {}),
        ...(c?.error ? { error: c.error } : {}),
      };
    });
    return Promise.all(out);
  }

  private async icmpProbe(ns: string, s: ProbeSpec, timeoutMs: number): Promise<Omit<ProbeResult, 'kind' | 'from' | 'target'>> {
    const v6 = s.host.includes(':');
    const fam = v6 ? '6' : '4';
    const isSink = s.host === ADDR.sink.v4 || s.host === ADDR.sink.v6;
    const set = v6 ? 'seen6' : 'seen4';
    const run = async () => {
      const t0 = Date.now();
      if (isSink) await this.nsExec(this.ns.inet, 'nft', ['flush', 'set', 'inet', 'labsink', set]);
      const argv = pingArgv(v6);
      const secs = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
      const r = await this.nsExec(ns, argv[0]!, [...argv.slice(1), '-c', '1', '-W', secs, s.host], {
        allowFail: true,
        timeoutMs: timeoutMs + 3000,
      });
      const answered = r.code === 0;
      let via: string | undefined;
      if (isSink) {
        const l = await this.nsExec(this.ns.inet, 'nft', ['-j', 'list', 'set', 'inet', 'labsink', set]);
        via = parseNftSetElements(l.stdout)[0];
      }
      const reached = isSink ? via !== undefined : answered;
      return {
        reached,
        answered,
        ms: Date.now() - t0,
        ...(via ? { via } : {}),
        ...(answered ? {} : { error: (r.stdout + r.stderr).trim().split('\n').pop() ?? 'no reply' }),
      };
    };
    const next = this.icmpLock[fam].then(run, run);
    this.icmpLock[fam] = next.catch(() => undefined);
    return next;
  }

  // ----- disruptions -----------------------------------------------------------------------------------

  /** True if the client's tunnel interface exists. */
  async tunnelExists(): Promise<boolean> {
    const r = await this.nsExec(this.ns.client, 'ip', ['link', 'show', this.wg.client], { allowFail: true });
    return r.code === 0;
  }

  /** SIGKILL the client's wireguard-go: its tun interface (and the routes through it) vanish. */
  async killVpn(): Promise<void> {
    const p = this.wgClientProc;
    if (!p || p.done) throw new Error('lab: client wireguard-go is not running');
    await this.killTracked(p, 'SIGKILL');
    if (!p.done) throw new Error('lab: client wireguard-go did not die');
    await waitUntil('tunnel interface gone', 3000, async () => !(await this.tunnelExists()));
    fs.rmSync(`${WG_RUN_DIR}/${this.wg.client}.sock`, { force: true });
  }

  /** `ip link del` the client's tunnel interface (wireguard-go then exits on its own). */
  async deleteTunnel(): Promise<void> {
    await this.nsExec(this.ns.client, 'ip', ['link', 'del', this.wg.client]);
    const p = this.wgClientProc;
    if (p && !p.done) await Promise.race([p.exited, sleep(3000)]);
  }

  /** Bring the client tunnel back: same interface name, keys, address and routes; waits for the handshake. */
  async restoreTunnel(): Promise<void> {
    const p = this.wgClientProc;
    if (p && !p.done) await this.killTracked(p, 'SIGKILL');
    if (await this.tunnelExists()) await this.nsExec(this.ns.client, 'ip', ['link', 'del', this.wg.client]);
    this.log(`server tunnel up`);
    await this.bringUpClientTunnel();
  }

  /** Processes the lab started that are still running (servers, wireguard-go, tcpdump, daemon…). */
  processes(): { name: string; pid: number; start: string | undefined }[] {
    return this.fx.processes();
  }

  /** Names of the lab's namespaces. */
  namespaceNames(): string[] {
    return [...this.namespaces];
  }

  /** PID of the client's wireguard-go (undefined once it died). */
  get vpnPid(): number | undefined {
    return this.wgClientProc && !this.wgClientProc.done ? this.wgClientProc.pid : undefined;
  }

  // ----- daemon ----------------------------------------------------------------------------------------

  /**
   * Start tunlockd inside the client namespace:
   * `ip netns exec <client> node host/dist/tunlockd.js --socket <tmp>/dN/d.sock --state-dir <tmp>/dN/state`.
   * Resolves once the control socket accepts connections. Killed on teardown.
   */
  async startDaemon(opts: DaemonOptions = {}): Promise<Daemon> {
    const daemonJs = opts.daemonJs ?? path.join(REPO_ROOT, 'host/dist/tunlockd.js');
    const cliJs = opts.cliJs ?? path.join(REPO_ROOT, 'host/dist/tunlock.js');
    if (!fs.existsSync(daemonJs)) throw new Error(`lab: ${daemonJs} not built (npm run build:host)`);
    const dir = path.join(this.tmp, `d${++this.daemonSeq}`);
    const socket = path.join(dir, 'd.sock');
    const stateDir = path.join(dir, 'state');
    fs.mkdirSync(stateDir, { recursive: true });
    const ns = this.ns[opts.role ?? 'client'];
    let output = '';
    let proc: Tracked | undefined;
    const lab = this;

    const start = async () => {
      const child = spawn('ip', ['netns', 'exec', ns, ...(opts.prefix ?? []), process.execPath, daemonJs, '--socket', socket, '--state-dir', stateDir, ...(opts.args ?? [])], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: opts.env ?? process.env,
      });
      const t = this.track('tunlockd', child);
      proc = t;
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
      await waitUntil('tunlockd control socket', opts.readyTimeoutMs ?? 10_000, async () => {
        if (t.done) throw new Error(`lab: tunlockd exited during startup:\n${output}`);
        return fs.existsSync(socket) && (await canConnect(socket));
      }, 25);
    };

    const cliRaw = async (args: string[], o: { timeoutMs?: number } = {}) => {
      const r = await this.nsExec(ns, process.execPath, [cliJs, '--socket', socket, '--json', ...args], {
        allowFail: true,
        timeoutMs: o.timeoutMs ?? 15_000,
      });
      let json: unknown;
      try {
        json = JSON.parse(r.stdout);
      } catch {
        const last = r.stdout.trim().split('\n').pop();
        try {
          json = last ? JSON.parse(last) : undefined;
        } catch {
          json = undefined;
        }
      }
      return { ...r, ...(json !== undefined ? { json } : {}) };
    };

    await start();
    const daemon: Daemon = {
      get pid() {
        return proc!.pid;
      },
      socket,
      stateDir,
      get running() {
        return !!proc && !proc.done;
      },
      cliRaw,
      async cli(args, o) {
        const r = await cliRaw(args, o);
        if (r.json === undefined) {
          throw new Error(`tunlock ${args.join(' ')}: exit ${r.code}, no JSON output\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
        }
        return r.json;
      },
      async kill(signal = 'SIGKILL') {
        if (!proc || proc.done) return;
        await lab.killTracked(proc, signal, 10_000);
        if (!proc.done) throw new Error(`lab: tunlockd did not exit after ${signal}`);
      },
      async restart() {
        if (proc && !proc.done) {
          await lab.killTracked(proc, 'SIGTERM', 10_000);
          if (!proc.done) await lab.killTracked(proc, 'SIGKILL');
        }
        await start();
      },
      log: () => output,
    };
    return daemon;
  }

  // ----- teardown --------------------------------------------------------------------------------------

  /** Kill everything the lab started, delete its namespaces, sockets and temp dir. Idempotent. */
  destroy(): Promise<void> {
    return this.fx.destroy();
  }
}

function parseNftSetElements(json: string): string[] {
  try {
    const doc = JSON.parse(json) as { nftables?: { set?: { elem?: unknown[] } }[] };
    for (const item of doc.nftables ?? []) {
      if (item.set) return (item.set.elem ?? []).map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
    }
  } catch {
    // fall through
  }
  return [];
}

function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    setTimeout(() => done(false), 500);
  });
}

/** Build a lab, run fn(lab), and always tear it down (also when fn throws). */
export async function withLab<T>(opts: LabOptions, fn: (lab: Lab) => Promise<T> | T): Promise<T> {
  const lab = await Lab.create(opts);
  try {
    return await fn(lab);
  } finally {
    await lab.destroy();
  }
}

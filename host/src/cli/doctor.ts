// `tunlock doctor`: checks everything tunlock needs on this machine and says what to fix, in words a user
// can paste: nft, the install and its units, the daemon, the socket and group, host manifests for every
// browser found, the extension's last contact, IPv6 and DNS. Read-only: it changes nothing.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, join, posix } from 'node:path';
import { BROWSERS, MANIFEST_FILE, manifestProblems, requiresExisting } from '../common/manifest-locations.js';
import { DaemonClient } from '../client/daemon-client.js';
import type { Status } from '../protocol/schema.js';
import { ProtocolError } from '../protocol/schema.js';
import { bootAdvice, detectInit, installCommand, logAdvice, startCommand } from '../process/init-system.js';
import type { InitSystem } from '../process/init-system.js';
import { parseGroup, parsePasswd, parseResolvConf } from '../common/etc-files.js';
import type { GroupEntry } from '../common/etc-files.js';
import { DAEMON_UNIT, DEFAULT_PREFIX, SOCKET_GROUP_NAME, UNIT_DIR, lastContactPath } from '../common/paths.js';
import { NOT_A_TUNNEL_HINT } from '../common/tunnel-hint.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'info';
export interface Check {
  id: string;
  status: CheckStatus;
  message: string;
  fix?: string;
}

export interface DoctorContext {
  socketPath: string;
  /** file system root the checks read (tests point it at a fixture) */
  root: string;
  env: NodeJS.ProcessEnv;
  /** the person we check for (SUDO_USER under sudo) */
  user: { name: string; uid: number; gid: number; home: string };
  /** the supplementary groups of this process (has a new membership reached this session?) */
  processGroups: number[];
  which: (program: string) => string | null;
  status: (socketPath: string) => Promise<Status>;
  nftVersion: () => string | null;
  systemdActive: (unit: string) => boolean | null;
  /** the init system found (start/restart advice fits it) */
  init: InitSystem;
  now: number;
}

function restartCommand(ctx: DoctorContext): string {
  return ctx.init === 'systemd' ? 'sudo systemctl restart tunlockd' : `sudo ${installCommand()} stop && sudo ${installCommand()} start`;
}

function at(ctx: DoctorContext, p: string): string {
  return ctx.root === '/' ? p : join(ctx.root, p);
}
function read(ctx: DoctorContext, p: string): string | null {
  try {
    return readFileSync(at(ctx, p), 'utf8');
  } catch {
    return null;
  }
}
function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function groups(ctx: DoctorContext): GroupEntry[] {
  return parseGroup(read(ctx, '/etc/group') ?? '');
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

function checkNft(ctx: DoctorContext): Check {
  const v = ctx.nftVersion();
  return v
    ? { id: 'nft', status: 'ok', message: v }
    : { id: 'nft', status: 'fail', message: 'nft (nftables) is not installed: tunlock cannot lock anything', fix: 'sudo apt-get install nftables' };
}

/** Where each way of installing puts the daemon and its unit: the Debian package, then `npm run setup`. */
const INSTALLS = [
  { how: 'the tunlock package', daemon: '/usr/lib/tunlock/tunlockd.js', units: '/lib/systemd/system' },
  { how: 'npm run setup', daemon: posix.join(DEFAULT_PREFIX, 'lib/tunlock/tunlockd.js'), units: UNIT_DIR },
] as const;

function checkInstall(ctx: DoctorContext): Check[] {
  const out: Check[] = [];
  const found = INSTALLS.find((i) => existsSync(at(ctx, i.daemon)));
  if (!found) {
    out.push({ id: 'install', status: 'warn', message: `tunlock is not installed (no ${INSTALLS.map((i) => i.daemon).join(', ')})`, fix: 'install the tunlock package (sudo apt install ./tunlock_VERSION_ARCH.deb), or from the source tree: sudo npm run setup' });
  } else out.push({ id: 'install', status: 'ok', message: `installed by ${found.how} (${found.daemon})` });
  const units = [...new Set([found?.units ?? UNIT_DIR, UNIT_DIR])].map((d) => posix.join(d, DAEMON_UNIT));
  if (ctx.init !== 'systemd') out.push({ id: 'service', status: 'info', message: bootAdvice(ctx.init) });
  else if (!units.some((u) => existsSync(at(ctx, u)))) out.push({ id: 'service', status: 'warn', message: `${units[0]} is missing: the daemon will not start at boot`, fix: found?.how === 'the tunlock package' ? 'sudo apt install --reinstall tunlock' : 'sudo npm run setup' });
  else {
    const active = ctx.systemdActive(DAEMON_UNIT);
    if (active === false) out.push({ id: 'service', status: 'fail', message: `${DAEMON_UNIT} is not running`, fix: `sudo systemctl enable --now ${DAEMON_UNIT}; ${logAdvice('systemd')}` });
    else out.push({ id: 'service', status: 'ok', message: `${DAEMON_UNIT} is active` });
  }
  return out;
}

async function checkDaemon(ctx: DoctorContext): Promise<{ check: Check; status: Status | null }> {
  try {
    const s = await ctx.status(ctx.socketPath);
    const tunnels = s.tunnels.map((t) => `${t.iface} ${t.up ? 'up' : 'down'}`).join(', ') || 'no tunnels known';
    return { check: { id: 'daemon', status: 'ok', message: `tunlockd answers: mode ${s.mode}, ${s.state}; ${tunnels}` }, status: s };
  } catch (e) {
    const pe = e instanceof ProtocolError ? e : null;
    const fix = pe?.hint ?? startCommand(ctx.init);
    return { check: { id: 'daemon', status: 'fail', message: (e as Error).message, fix }, status: null };
  }
}

/** A configured tunnel name that exists as a physical link is refused by the daemon: say so loudly. */
export function checkTunnels(status: Status | null): Check[] {
  return (status?.tunnels ?? [])
    .filter((t) => t.problem)
    .map((t) => ({ id: `tunnel ${t.iface}`, status: 'fail' as const, message: `${t.problem}; traffic through it stays blocked`, fix: NOT_A_TUNNEL_HINT }));
}

function checkSocketAndGroup(ctx: DoctorContext): Check[] {
  const out: Check[] = [];
  const g = groups(ctx).find((x) => x.name === SOCKET_GROUP_NAME);
  if (!g) {
    out.push({ id: 'group', status: 'fail', message: `group ${SOCKET_GROUP_NAME} does not exist: only root can use tunlock`, fix: `sudo groupadd --system ${SOCKET_GROUP_NAME}${ctx.user.uid === 0 ? '' : ` && sudo usermod -aG ${SOCKET_GROUP_NAME} ${ctx.user.name}`}, then: ${restartCommand(ctx)}` });
  } else if (ctx.user.uid === 0) {
    out.push({ id: 'group', status: 'ok', message: `group ${SOCKET_GROUP_NAME} exists (gid ${g.gid}); root needs no membership` });
  } else if (!g.members.includes(ctx.user.name) && ctx.user.gid !== g.gid) {
    out.push({ id: 'group', status: 'fail', message: `${ctx.user.name} is not in group ${SOCKET_GROUP_NAME}: the browser and CLI cannot reach the daemon`, fix: `sudo usermod -aG ${SOCKET_GROUP_NAME} ${ctx.user.name}, then log out and in again` });
  } else if (!ctx.processGroups.includes(g.gid) && ctx.user.gid !== g.gid && ctx.env.SUDO_USER === undefined) {
    out.push({ id: 'group', status: 'warn', message: `${ctx.user.name} was added to group ${SOCKET_GROUP_NAME}, but this session started before that`, fix: `log out and in again (or run: newgrp ${SOCKET_GROUP_NAME})` });
  } else out.push({ id: 'group', status: 'ok', message: `${ctx.user.name} is in group ${SOCKET_GROUP_NAME}` });

  let st;
  try {
    st = statSync(at(ctx, ctx.socketPath));
  } catch (e) {
    // EACCES: /run/tunlock is root:tunlock 0750, so a non-member cannot even see whether the socket is there.
    out.push(
      (e as NodeJS.ErrnoException).code === 'EACCES'
        ? { id: 'socket', status: 'fail', message: `${ctx.socketPath}: permission denied (only root and group ${SOCKET_GROUP_NAME} may enter its directory)`, fix: `sudo usermod -aG ${SOCKET_GROUP_NAME} ${ctx.user.name}, then log out and in again` }
        : { id: 'socket', status: 'info', message: `no socket at ${ctx.socketPath} (the daemon is not running)`, fix: startCommand(ctx.init) },
    );
    return out;
  }
  const problems: string[] = [];
  if (!st.isSocket()) problems.push('is not a socket');
  if (st.uid !== 0) problems.push(`is owned by uid ${st.uid}, not root`);
  if (g && st.gid !== g.gid) problems.push(`group is gid ${st.gid}, not ${SOCKET_GROUP_NAME} (${g.gid}): the daemon started before the group existed`);
  if ((st.mode & 0o777) !== 0o660 && g) problems.push(`mode is ${(st.mode & 0o777).toString(8)}, not 660`);
  out.push(
    problems.length
      ? { id: 'socket', status: 'fail', message: `${ctx.socketPath} ${problems.join('; ')}`, fix: restartCommand(ctx) }
      : { id: 'socket', status: 'ok', message: `${ctx.socketPath}: root:${SOCKET_GROUP_NAME} 0660` },
  );
  return out;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function checkBrowsers(ctx: DoctorContext): Check[] {
  const out: Check[] = [];
  for (const b of BROWSERS) {
    const program = b.detect.programs.map((p) => ctx.which(p)).find((p) => p !== null) ?? null;
    const profile = isDir(at(ctx, posix.join(ctx.user.home, b.detect.profile)));
    if (!program && !profile) continue;
    // The browser reads the user's directory first, then the system one(s).
    const candidates = [
      ...b.linux.user.map((d) => posix.join(ctx.user.home, d, MANIFEST_FILE)),
      ...b.linux.system.filter((d) => {
        const need = requiresExisting(d);
        return !need || isDir(at(ctx, need));
      }).map((d) => posix.join(d, MANIFEST_FILE)),
    ];
    const found = candidates.find((c) => existsSync(at(ctx, c)));
    const id = `manifest:${b.id}`;
    if (!found) {
      out.push({ id, status: 'fail', message: `${b.name} found, but no host manifest (${candidates.join(', ')})`, fix: 'sudo npm run setup (it writes the manifests)' });
      continue;
    }
    const text = read(ctx, found) ?? '';
    const problems = manifestProblems(text, b.flavour);
    if (!problems.length) {
      const hostPath = (JSON.parse(text) as { path: string }).path;
      if (!executable(at(ctx, hostPath))) problems.push(`its host ${hostPath} is missing or not executable`);
    }
    out.push(
      problems.length
        ? { id, status: 'fail', message: `${b.name}: ${found}: ${problems.join('; ')}`, fix: `remove ${found} if it is stale, then: sudo npm run setup` }
        : { id, status: 'ok', message: `${b.name}: ${found}` },
    );
  }
  if (!out.length) out.push({ id: 'browsers', status: 'info', message: 'no supported browser found for this user (Chrome, Chromium, Brave, Edge, Vivaldi, Opera, Firefox)' });
  return out;
}

function checkLastContact(ctx: DoctorContext): Check {
  const p = lastContactPath(ctx.env, ctx.user.home);
  try {
    const when = statSync(at(ctx, p)).mtimeMs;
    const age = ctx.now - when;
    return age > 7 * 86_400_000
      ? { id: 'extension', status: 'info', message: `the extension last talked to tunlock ${ago(age)}` }
      : { id: 'extension', status: 'ok', message: `the extension last talked to tunlock ${ago(age)}` };
  } catch {
    return { id: 'extension', status: 'warn', message: 'the browser extension has never connected for this user', fix: 'install the tunlock extension and open its toolbar popup once' };
  }
}

/** Global (non-link-local, non-loopback) IPv6 addresses per interface, from /proc/net/if_inet6. */
function globalV6(ctx: DoctorContext): Map<string, number> {
  const by = new Map<string, number>();
  for (const line of (read(ctx, '/proc/net/if_inet6') ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const [addr, , , scope, , iface] = f;
    if (scope !== '00' || !addr || addr.startsWith('fe80') || /^f[cd]/.test(addr)) continue;
    by.set(iface!, (by.get(iface!) ?? 0) + 1);
  }
  return by;
}

function checkIpv6(ctx: DoctorContext, status: Status | null): Check {
  const v6 = globalV6(ctx);
  const tunnels = new Set(status?.tunnels.map((t) => t.iface) ?? []);
  const physical = [...v6.keys()].filter((i) => !tunnels.has(i));
  if (!physical.length) return { id: 'ipv6', status: 'ok', message: 'no public IPv6 outside the tunnel' };
  const tunnelHasV6 = [...tunnels].some((t) => v6.has(t));
  if (tunnelHasV6) return { id: 'ipv6', status: 'ok', message: `public IPv6 on ${physical.join(', ')}; the tunnel carries IPv6 too` };
  const locked = status && status.mode !== 'off';
  return {
    id: 'ipv6',
    status: locked ? 'info' : 'warn',
    message: `public IPv6 on ${physical.join(', ')} but ${tunnels.size ? 'the tunnel has none' : 'no tunnel is known'}: ${locked ? 'the lock blocks IPv6 outside the tunnel (no leak; IPv6-only sites fail)' : 'with the lock off, IPv6 traffic bypasses a v4-only VPN'}`,
    ...(locked ? {} : { fix: 'keep the lock on (tunlock lock on), use a VPN that carries IPv6, or disable IPv6: sysctl -w net.ipv6.conf.all.disable_ipv6=1' }),
  };
}

function isLan(addr: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)/.test(addr) || /^(fe80:|f[cd][0-9a-f]{2}:)/i.test(addr);
}

function checkDns(ctx: DoctorContext): Check {
  const text = read(ctx, '/etc/resolv.conf');
  if (text === null) return { id: 'dns', status: 'warn', message: 'no /etc/resolv.conf: cannot tell where DNS goes' };
  const servers = parseResolvConf(text).map((s) => s.replace(/%.*$/, ''));
  if (!servers.length) return { id: 'dns', status: 'warn', message: '/etc/resolv.conf lists no nameserver' };
  const local = servers.filter((s) => s.startsWith('127.') || s === '::1');
  const lan = servers.filter(isLan);
  if (lan.length) {
    return {
      id: 'dns',
      status: 'warn',
      message: `DNS goes to ${lan.join(', ')} on the local network: while locked tunlock blocks it (the router forwards to your ISP: a leak), so names stop resolving unless the VPN's own DNS is used`,
      fix: 'set the VPN\'s DNS: WireGuard "DNS = ..." in the [Interface] section; OpenVPN "dhcp-option DNS" with update-resolv-conf or resolved',
    };
  }
  if (local.length) {
    return {
      id: 'dns',
      status: 'info',
      message: `DNS goes to a local resolver (${local.join(', ')}: systemd-resolved or dnsmasq); it must forward through the tunnel`,
      fix: 'check that the VPN sets DNS on the tunnel link: resolvectl status',
    };
  }
  return { id: 'dns', status: 'ok', message: `DNS servers ${servers.join(', ')}: while locked, reachable only through the tunnel` };
}

export async function runChecks(ctx: DoctorContext): Promise<Check[]> {
  const daemon = await checkDaemon(ctx);
  return [
    checkNft(ctx),
    ...checkInstall(ctx),
    daemon.check,
    ...checkTunnels(daemon.status),
    ...checkSocketAndGroup(ctx),
    ...checkBrowsers(ctx),
    checkLastContact(ctx),
    checkIpv6(ctx, daemon.status),
    checkDns(ctx),
  ];
}

const MARK: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗', info: '·' };

export function formatChecks(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.id.length));
  const lines = checks.flatMap((c) => [`  ${MARK[c.status]} ${c.id.padEnd(width)}  ${c.message}`, ...(c.fix ? [`    ${' '.repeat(width)}  → ${c.fix}`] : [])]);
  const fails = checks.filter((c) => c.status === 'fail').length;
  const warns = checks.filter((c) => c.status === 'warn').length;
  return `tunlock doctor\n${lines.join('\n')}\n${fails || warns ? `${fails} problem(s), ${warns} warning(s)` : 'all good'}`;
}

function which(program: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (dir && executable(join(dir, program))) return join(dir, program);
  }
  for (const dir of ['/usr/sbin', '/sbin']) if (executable(join(dir, program))) return join(dir, program);
  return null;
}

function whoWeCheck(env: NodeJS.ProcessEnv): DoctorContext['user'] {
  const me = userInfo();
  if (me.uid === 0 && env.SUDO_USER) {
    const entry = parsePasswd(readFileSync('/etc/passwd', 'utf8')).find((e) => e.name === env.SUDO_USER);
    if (entry) return entry;
  }
  return { name: me.username, uid: me.uid, gid: me.gid, home: me.homedir };
}

export function defaultContext(socketPath: string, env: NodeJS.ProcessEnv = process.env): DoctorContext {
  return {
    socketPath,
    root: '/',
    env,
    user: whoWeCheck(env),
    processGroups: process.getgroups?.() ?? [],
    which: (p) => which(p, env),
    status: async (socket) => {
      const client = new DaemonClient(socket, 'cli');
      await client.connect(3000);
      try {
        return (await client.request({ type: 'status' })) as Status;
      } finally {
        client.close();
      }
    },
    nftVersion: () => {
      const nft = which('nft', env);
      if (!nft) return null;
      const r = spawnSync(nft, ['--version'], { encoding: 'utf8' });
      return r.status === 0 ? `${r.stdout.trim()} (${nft})` : null;
    },
    init: detectInit(),
    systemdActive: (unit) => {
      if (!existsSync('/run/systemd/system')) return null;
      return spawnSync('systemctl', ['is-active', '--quiet', unit]).status === 0;
    },
    now: Date.now(),
  };
}

// Zero configuration: which VPN tunnels are up right now, and where their servers are. A tunnel is an
// interface the kernel calls a tunnel (link-kind.ts, the same test the trust boundary uses) that is up; its
// servers come only from where the system tells us, never from guessing:
//   - WireGuard (kernel or wireguard-go): the peers' endpoints, from `wg show IF endpoints`;
//   - any other tun device (OpenVPN, most providers' apps): the process that holds the device open
//     (/proc/PID/fdinfo says "iff: IF" for a tun file descriptor), and that process's connected UDP/TCP
//     sockets (/proc/net/{udp,tcp}{,6}), which lead to its server.
// Every value is parsed (net/values.ts) before it is used; what cannot be parsed is left out.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { formatEndpoint, parseAddress, parseEndpoint } from '../net/values.js';
import type { Endpoint } from '../net/values.js';
import type { DetectedTunnel } from '../protocol/schema.js';
import { readLinkKinds } from './link-kind.js';
import type { LinkKind } from './link-kind.js';
import { isLinkUp } from './link-watch.js';
import { learnWireGuard } from './wireguard.js';

/** What detection reads from the system (tests pass fixtures). */
export interface DetectSources {
  links: () => Promise<LinkKind[] | null>;
  isUp: (iface: string) => boolean;
  wireguard: (iface: string) => Promise<Endpoint[]>;
  tunSockets: (iface: string) => Endpoint[];
}

export const SYSTEM_SOURCES: DetectSources = {
  links: () => readLinkKinds(),
  isUp: (iface) => isLinkUp(iface),
  wireguard: async (iface) => (await learnWireGuard(iface))?.endpoints ?? [],
  tunSockets: (iface) => tunProcessEndpoints(iface),
};

const MAX_DETECTED = 16;

/** Tunnels that are up and not in `configured`, with the servers the system names for them. */
export async function detectTunnels(configured: readonly string[], sources: DetectSources = SYSTEM_SOURCES): Promise<DetectedTunnel[]> {
  const links = (await sources.links()) ?? [];
  const candidates = links.filter((l) => l.tunnel && !configured.includes(l.iface) && sources.isUp(l.iface)).slice(0, MAX_DETECTED);
  const out: DetectedTunnel[] = [];
  for (const l of candidates) {
    let endpoints = await sources.wireguard(l.iface);
    if (endpoints.length === 0 && l.kind === 'tun') endpoints = sources.tunSockets(l.iface);
    out.push({ iface: l.iface, kind: l.kind, endpoints: [...new Set(endpoints.map(formatEndpoint))].slice(0, 64) });
  }
  return out;
}

// ── the VPN process's connected sockets ──────────────────────────────────────────────────────────────

/** Socket inodes of processes that hold `iface`'s tun device open. */
export function tunHolderSockets(iface: string, proc = '/proc'): Set<string> {
  const inodes = new Set<string>();
  for (const pid of safe(() => readdirSync(proc), [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const fds = safe(() => readdirSync(`${proc}/${pid}/fd`), [] as string[]);
    const holds = fds.some((fd) => safe(() => readlinkSync(`${proc}/${pid}/fd/${fd}`), '') === '/dev/net/tun' && tunIff(safe(() => readFileSync(`${proc}/${pid}/fdinfo/${fd}`, 'utf8'), '')) === iface);
    if (!holds) continue;
    for (const fd of fds) {
      const m = /^socket:\[(\d+)\]$/.exec(safe(() => readlinkSync(`${proc}/${pid}/fd/${fd}`), ''));
      if (m) inodes.add(m[1]!);
    }
  }
  return inodes;
}

/** The interface a tun file descriptor is attached to, from its fdinfo ("iff:\tNAME"). */
export function tunIff(fdinfo: string): string | null {
  return /^iff:\s*(\S+)\s*$/m.exec(fdinfo)?.[1] ?? null;
}

/**
 * Remote ends of connected sockets in one /proc/net/{udp,tcp}{,6} table whose inode is in `inodes`: TCP in
 * state ESTABLISHED (01), UDP with a remote address (a connected socket; an unconnected one shows 0:0).
 */
export function connectedRemotes(table: string, transport: 'udp' | 'tcp', inodes: Set<string>): Endpoint[] {
  const out: Endpoint[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !inodes.has(f[9]!)) continue;
    const [remHex, portHex] = f[2]!.split(':');
    if (!remHex || !portHex || Number.parseInt(portHex, 16) === 0) continue;
    if (transport === 'tcp' && f[3] !== '01') continue;
    const addr = hexAddress(remHex);
    if (!addr) continue;
    try {
      out.push(parseEndpoint(`${addr.includes(':') ? `[${addr}]` : addr}:${Number.parseInt(portHex, 16)}/${transport}`));
    } catch {
      // not an address we can use: left out
    }
  }
  return out;
}

/** /proc/net address: IPv4 as one little-endian 32-bit word, IPv6 as four of them. */
export function hexAddress(hex: string): string | null {
  if (!/^[0-9A-F]+$/i.test(hex)) return null;
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => [w.slice(6, 8), w.slice(4, 6), w.slice(2, 4), w.slice(0, 2)].map((b) => Number.parseInt(b, 16)));
  if (hex.length === 8) return parseAddress(bytes.join('.')).text;
  if (hex.length !== 32) return null;
  // A v4-mapped address (::ffff:a.b.c.d, a v6 socket talking IPv4) is the IPv4 server.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return parseAddress(bytes.slice(12).join('.')).text;
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return parseAddress(groups.join(':')).text;
}

function tunProcessEndpoints(iface: string, proc = '/proc'): Endpoint[] {
  const inodes = tunHolderSockets(iface, proc);
  if (inodes.size === 0) return [];
  const read = (t: string) => safe(() => readFileSync(`${proc}/net/${t}`, 'utf8'), '');
  return [
    ...connectedRemotes(read('udp'), 'udp', inodes),
    ...connectedRemotes(read('udp6'), 'udp', inodes),
    ...connectedRemotes(read('tcp'), 'tcp', inodes),
    ...connectedRemotes(read('tcp6'), 'tcp', inodes),
  ];
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

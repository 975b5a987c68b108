// What the firewall is asked to enforce. A Policy holds only parsed, canonical values (see net/values.ts);
// the backends turn it into rules. The daemon decides *which* policy applies (lock state machine); the
// firewall only knows how to enforce one. docs/security.md lists what each part allows.
import type { Address, Cidr, Endpoint } from '../net/values.js';
import { parseCidr } from '../net/values.js';
import { intersect, withoutCovered } from '../net/cidr.js';

export interface CaptiveHole {
  /** the physical interface the portal is reached through */
  iface: string;
  /** only this user's sockets may use the hole */
  uid: number;
  /** the resolvers this network handed us (DHCP / resolv.conf); DNS to them is allowed during the hole */
  resolvers: Address[];
  /** wall-clock ms; the kernel drops the hole's set elements at this time */
  expiresAt: number;
}

/**
 * Whose packets may use an endpoint exception (TunnelCrack "ServerIP": any other program sending to the VPN
 * server's address and port would leave outside the tunnel). A tunnel with a fwmark (WireGuard) marks its own
 * packets; otherwise the VPN's sockets are recognised by their owner (root for kernel WireGuard and most VPN
 * daemons; another account only when root configured it).
 */
export type EndpointOwner = { kind: 'mark'; mark: number } | { kind: 'uid'; uid: number };

export interface AllowedEndpoint {
  endpoint: Endpoint;
  owner: EndpointOwner;
}

export type BoundAccount = { kind: 'user'; uid: number } | { kind: 'group'; gid: number } | { kind: 'cgroup'; path: string };

/** What every policy holds: the accounts bound to the tunnels, and what they (and a lock) may reach. */
interface PolicyBase {
  /** accounts bound to the tunnel even when the lock is off */
  bindings: BoundAccount[];
  /** traffic may leave through these interfaces (names; they need not exist yet) */
  tunnels: string[];
  allowLan: boolean;
  /** what "LAN access" opens: see lanRangesFor */
  lanRanges: Cidr[];
}

/** No lock (mode off, or standby after a deliberate disconnect): only bound accounts are restricted. */
export interface OpenPolicy extends PolicyBase {
  kind: 'open';
}

/** The lock: nothing leaves but through the tunnels and the exceptions below. */
export interface LockedPolicy extends PolicyBase {
  kind: 'locked';
  /** the VPN servers, reachable outside the tunnel by the VPN's own sockets so the tunnel can (re)connect */
  endpoints: AllowedEndpoint[];
  /** the subnets directly connected to non-tunnel interfaces (on-link DHCP servers and neighbours) */
  onLink: Cidr[];
  captive: CaptiveHole | null;
}

export type Policy = OpenPolicy | LockedPolicy;

/** Private ranges (RFC 1918, ULA): "LAN" only where they are directly connected. */
export const PRIVATE_RANGES: readonly Cidr[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'].map(parseCidr);

/** Ranges that stay on the link (link-local, local multicast, SSDP, broadcast): "LAN" on every network. */
export const LINK_SCOPE_RANGES: readonly Cidr[] = [
  '169.254.0.0/16',
  '224.0.0.0/24', // local network control block (mDNS 224.0.0.251, IGMP)
  '239.255.255.250/32', // SSDP
  '255.255.255.255/32', // limited broadcast
  'fe80::/10',
  'ff02::/16', // link-local multicast (mDNS ff02::fb, SSDP ff02::c)
].map(parseCidr);

/** Every range "LAN access" may ever open by itself (what older state files stored as their LAN ranges). */
export const DEFAULT_LAN_RANGES: readonly Cidr[] = [...PRIVATE_RANGES, ...LINK_SCOPE_RANGES];

/**
 * What "LAN access" opens: the link-scope ranges, the private ranges as far as they are directly connected
 * (a rogue network that routes all of 10/8 through the uplink gets only its own subnet — TunnelCrack
 * LocalNet), and the ranges the user added explicitly. Never port 53 (see nft-rules.ts).
 */
export function lanRangesFor(onLink: readonly Cidr[], added: readonly Cidr[]): Cidr[] {
  const local = onLink.flatMap((c) => PRIVATE_RANGES.map((p) => intersect(c, p)).filter((r): r is Cidr => r !== null));
  return withoutCovered([...LINK_SCOPE_RANGES, ...local, ...added]);
}

/** An endpoint exception for root-owned sockets (what a tunnel without a fwmark gets by default). */
export function rootEndpoint(endpoint: Endpoint): AllowedEndpoint {
  return { endpoint, owner: { kind: 'uid', uid: 0 } };
}

/** True when the policy needs no table at all (nothing to enforce). */
export function isEmptyPolicy(p: Policy): boolean {
  return p.kind === 'open' && p.bindings.length === 0;
}

/** Seconds until the hole closes, rounded up (the one rounding rule: status and the kernel timeout agree); 0: closed. */
export function captiveSecondsLeft(hole: CaptiveHole, now: number): number {
  return Math.max(0, Math.ceil((hole.expiresAt - now) / 1000));
}

/** One key per bound account, the same however often the policy is rebuilt (counters are kept per key). */
export function bindingKey(b: BoundAccount): string {
  return b.kind === 'user' ? `u${b.uid}` : b.kind === 'group' ? `g${b.gid}` : `c${b.path}`;
}

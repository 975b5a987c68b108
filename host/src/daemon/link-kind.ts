// Which network interfaces are tunnels. The lock lets traffic out through "tunnel" interfaces, so the name a
// user, a hook or a detector hands us is trusted only when the kernel itself says the link is a tunnel: a
// physical uplink (ethernet, Wi-Fi, veth, bridge, vxlan…) accepted as a "tunnel" would turn the lock into a
// no-op while status said Protected. Decided from the link kind the kernel reports (`ip -d -j link show`),
// never from the name.
import { execFile } from 'node:child_process';
import { parseIfname } from '../net/values.js';

/** `linkinfo.info_kind` values of interfaces that only ever carry encapsulated (tunnelled) traffic. */
const TUNNEL_KINDS = new Set([
  'wireguard', // kernel WireGuard
  'tun', // tun and tap devices: wireguard-go, OpenVPN, most providers' apps
  'ipip',
  'sit',
  'ip6tnl',
  'gre',
  'ip6gre',
  'xfrm', // route-based IPsec
  'vti',
  'vti6',
]);
/** `link_type` values of tunnel links that report no linkinfo (pppd creates plain ppp units). */
const TUNNEL_LINK_TYPES = new Set(['ppp', 'none']);

/** The fields of one `ip -d -j link show` entry this module reads. */
export interface LinkJson {
  ifname?: string;
  link_type?: string;
  master?: string;
  linkinfo?: { info_kind?: string; info_data?: { type?: string } };
}

export interface LinkKind {
  iface: string;
  /** kernel link kind ('wireguard', 'tun', 'veth', …) or the link type when there is no linkinfo */
  kind: string;
  tunnel: boolean;
  /** why it is not a tunnel, in words a user can act on */
  reason?: string;
}

/** Pure: classifies one link from the kernel's description of it. */
export function classifyLink(link: LinkJson): LinkKind {
  const iface = parseIfname(link.ifname ?? '');
  const infoKind = link.linkinfo?.info_kind;
  const kind = infoKind ?? link.link_type ?? 'unknown';
  if (link.link_type === 'loopback') return { iface, kind: 'loopback', tunnel: false, reason: 'it is the loopback interface' };
  // A tap enslaved to a bridge is a VM's or a container's port on a LAN, not a VPN.
  if (link.master) return { iface, kind, tunnel: false, reason: `it is a port of ${link.master} (a bridge), not a VPN tunnel` };
  if (infoKind !== undefined) {
    if (TUNNEL_KINDS.has(infoKind)) return { iface, kind, tunnel: true };
    return { iface, kind, tunnel: false, reason: `the kernel reports it as a ${infoKind} link, not a VPN tunnel` };
  }
  if (link.link_type && TUNNEL_LINK_TYPES.has(link.link_type)) return { iface, kind, tunnel: true };
  return {
    iface,
    kind,
    tunnel: false,
    reason: `the kernel reports it as a ${link.link_type ?? 'unknown'} link (a physical or virtual network card), not a VPN tunnel`,
  };
}

/** Pure: every link in an `ip -d -j link show` listing, classified. Unparseable entries are skipped. */
export function classifyLinks(json: string): LinkKind[] {
  const out: LinkKind[] = [];
  for (const link of JSON.parse(json) as LinkJson[]) {
    try {
      out.push(classifyLink(link));
    } catch {
      // a name we cannot parse can never be a tunnel of ours
    }
  }
  return out;
}

/** Reads and classifies every link in this network namespace (null when `ip` could not be run). */
export function readLinkKinds(timeoutMs = 2000): Promise<LinkKind[] | null> {
  return new Promise((resolve) => {
    execFile('ip', ['-d', '-j', 'link', 'show'], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024 }, (err, stdout) => {
      if (err) return resolve(null);
      try {
        resolve(classifyLinks(stdout));
      } catch {
        resolve(null);
      }
    });
  });
}

/** The kind of one link, or null when it does not exist (a tunnel that is down may not exist yet). */
export async function linkKind(iface: string): Promise<LinkKind | null | 'unknown'> {
  const name = parseIfname(iface);
  const all = await readLinkKinds();
  if (all === null) return 'unknown';
  return all.find((l) => l.iface === name) ?? null;
}

/**
 * Pure: why a configured tunnel name must not be trusted right now, or null. A name that does not exist (yet)
 * is fine: nothing can leave through it, and the check runs again when it appears.
 */
export function trustProblem(iface: string, kinds: LinkKind[] | null, exists: boolean): string | null {
  if (kinds === null) return exists ? `cannot tell what kind of link ${iface} is (\`ip -d -j link show\` failed): not trusted as a tunnel` : null;
  const link = kinds.find((l) => l.iface === iface);
  if (!link) return null;
  return link.tunnel ? null : `${iface} is not a VPN tunnel: ${link.reason ?? `the kernel reports it as ${link.kind}`}`;
}

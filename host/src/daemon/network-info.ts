// What the daemon can observe about the physical network without sending anything: the default route's
// interface, the resolvers this network gave us (both scope the captive-portal hole) and the directly
// connected subnets (what "LAN" means, and where DHCP servers and neighbours are).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseResolvConf } from '../common/etc-files.js';
import { parseAddress, parseCidr, parseIfname } from '../net/values.js';
import type { Address, Cidr } from '../net/values.js';

interface RouteJson {
  dst?: string;
  dev?: string;
  gateway?: string;
  metric?: number;
}

/** The interface of the best default route that is not a tunnel, with its gateway. */
export function physicalDefaultRoute(tunnels: string[]): Promise<{ iface: string; gateway: Address | null } | null> {
  return new Promise((resolve) => {
    execFile('ip', ['-j', 'route', 'show', 'default'], { timeout: 2000, killSignal: 'SIGKILL' }, (err, stdout) => {
      if (err) return resolve(null);
      let routes: RouteJson[];
      try {
        routes = JSON.parse(stdout) as RouteJson[];
      } catch {
        return resolve(null);
      }
      const best = routes
        .filter((r) => r.dev && !tunnels.includes(r.dev))
        .sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))[0];
      if (!best?.dev) return resolve(null);
      try {
        resolve({ iface: parseIfname(best.dev), gateway: best.gateway ? parseAddress(best.gateway) : null });
      } catch {
        resolve(null);
      }
    });
  });
}

/** Non-loopback nameservers from resolv.conf (a stub resolver on 127.0.0.53 is not the network's). */
export function resolvConfNameservers(path = '/etc/resolv.conf'): Address[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: Address[] = [];
  for (const server of parseResolvConf(text)) {
    try {
      const a = parseAddress(server);
      if (!a.text.startsWith('127.') && a.text !== '::1') out.push(a);
    } catch {
      // not an address: ignore the line
    }
  }
  return out;
}

interface AddrJson {
  ifname?: string;
  link_type?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number; scope?: string }[];
}

/**
 * Pure: the subnets directly connected to this host's interfaces, from `ip -j addr show`, leaving out
 * loopback and `tunnels` (what a tunnel's address covers is reached through the tunnel, not the LAN).
 */
export function onLinkSubnets(json: string, tunnels: ReadonlySet<string>): Cidr[] {
  const out: Cidr[] = [];
  for (const link of JSON.parse(json) as AddrJson[]) {
    if (!link.ifname || link.link_type === 'loopback' || tunnels.has(link.ifname)) continue;
    for (const a of link.addr_info ?? []) {
      if (a.scope === 'host' || typeof a.local !== 'string' || typeof a.prefixlen !== 'number') continue;
      try {
        out.push(parseCidr(`${a.local}/${a.prefixlen}`));
      } catch {
        // not an address we understand: it widens nothing
      }
    }
  }
  return out;
}

/** `ip -j addr show` now (for onLinkSubnets), or null when `ip` could not be run. */
export function readAddresses(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('ip', ['-j', 'addr', 'show'], { timeout: 2000, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024 }, (err, stdout) => {
      resolve(err ? null : stdout);
    });
  });
}

// What the daemon can observe about the physical network without sending anything: the default route's
// interface and the resolvers this network gave us. Used to scope the captive-portal hole.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseAddress, parseIfname } from '../net/values.js';
import type { Address } from '../net/values.js';

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
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m?.[1]) continue;
    try {
      const a = parseAddress(m[1]);
      if (!a.text.startsWith('127.') && a.text !== '::1') out.push(a);
    } catch {
      // not an address: ignore the line
    }
  }
  return out;
}

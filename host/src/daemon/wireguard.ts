// Learns a WireGuard interface's peer endpoints with `wg show IF endpoints`, so the lock keeps allowing the
// VPN server after a crash (the client needs it to reconnect). Every line is parsed, never trusted.
import { execFile } from 'node:child_process';
import { parseEndpoint, parseIfname } from '../net/values.js';
import type { Endpoint } from '../net/values.js';

export function parseWgEndpoints(output: string): Endpoint[] {
  const found: Endpoint[] = [];
  for (const line of output.split('\n')) {
    const endpoint = line.split('\t')[1]?.trim();
    if (!endpoint || endpoint === '(none)') continue;
    try {
      found.push(parseEndpoint(`${endpoint}/udp`));
    } catch {
      // A line we cannot parse teaches us nothing; it never widens the lock.
    }
  }
  return found;
}

/** Endpoints of a WireGuard interface, or [] when it is not WireGuard or `wg` is not installed. */
export function learnWireGuardEndpoints(iface: string): Promise<Endpoint[]> {
  return new Promise((resolve) => {
    execFile('wg', ['show', parseIfname(iface), 'endpoints'], { timeout: 2000 }, (err, stdout) => {
      resolve(err ? [] : parseWgEndpoints(stdout));
    });
  });
}

// Learns from a WireGuard interface what the lock needs after a crash: its peers' endpoints (`wg show IF
// endpoints`, so the client can reconnect) and its fwmark (`wg show IF fwmark`: WireGuard marks its own
// packets with it, so only they may use the endpoint exception). Every line is parsed, never trusted.
import { execFile } from 'node:child_process';
import { parseEndpoint, parseIfname } from '../net/values.js';
import type { Endpoint } from '../net/values.js';

const WG_TIMEOUT_MS = 2000;

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

/** `wg show IF fwmark` prints `off` or the mark (`0xca6c`); null for off or anything else. */
export function parseWgFwmark(output: string): number | null {
  const text = output.trim();
  const m = /^(0x[0-9a-f]{1,8}|[1-9]\d{0,9})$/i.exec(text);
  if (!m) return null;
  const mark = Number(text);
  return mark >= 1 && mark <= 0xffffffff ? mark : null;
}

function wgShow(iface: string, what: 'endpoints' | 'fwmark'): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('wg', ['show', parseIfname(iface), what], { timeout: WG_TIMEOUT_MS, killSignal: 'SIGKILL' }, (err, stdout) => {
      resolve(err ? null : stdout);
    });
  });
}

export interface WireGuardFacts {
  endpoints: Endpoint[];
  fwmark: number | null;
}

/** Endpoints and fwmark of a WireGuard interface; nothing when it is not WireGuard or `wg` is not installed. */
export async function learnWireGuard(iface: string): Promise<WireGuardFacts | null> {
  const endpoints = await wgShow(iface, 'endpoints');
  if (endpoints === null) return null;
  return { endpoints: parseWgEndpoints(endpoints), fwmark: parseWgFwmark((await wgShow(iface, 'fwmark')) ?? '') };
}

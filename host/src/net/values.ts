// Parsers for every network value that can reach rule text. Each one accepts a string from outside (a CLI
// argument, a JSON field, a line of `wg show`) and returns a canonical value or throws a ValueError that says
// what was wrong. Rule generators only ever see the canonical forms produced here, so nothing a client sends
// is pasted into nftables text unparsed.
import { isIPv4, isIPv6 } from 'node:net';

export class ValueError extends Error {
  override name = 'ValueError';
}

/** Linux interface names: 1–15 bytes; we further restrict to a safe alphabet. */
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

export function parseIfname(text: string): string {
  if (!IFNAME.test(text) || text === '.' || text === '..') {
    throw new ValueError(
      `invalid interface name ${JSON.stringify(text)}: use 1-15 characters from A-Z a-z 0-9 _ . - (e.g. wg0)`,
    );
  }
  return text;
}

export type Family = 4 | 6;
export interface Address {
  family: Family;
  /** canonical text: dotted quad, or RFC 5952 lower-case compressed IPv6 */
  text: string;
}

export function parseAddress(text: string): Address {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(bare) && /^\d{1,3}(\.\d{1,3}){3}$/.test(bare)) {
    const parts = bare.split('.').map(Number);
    return { family: 4, text: parts.join('.') };
  }
  if (isIPv6(bare) && !bare.includes('%')) {
    return { family: 6, text: canonicalIPv6(bare) };
  }
  throw new ValueError(`invalid IP address ${JSON.stringify(text)}`);
}

function ipv6Groups(text: string): number[] {
  // Expand an embedded IPv4 tail (::ffff:1.2.3.4) into two groups first.
  let body = text.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (v4?.[1]) {
    const [a, b, c, d] = v4[1].split('.').map(Number) as [number, number, number, number];
    body = body.slice(0, -v4[1].length) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = body.includes('::') ? body.split('::') : [body, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...Array<string>(fill).fill('0'), ...t].map((g) => parseInt(g, 16));
}

function canonicalIPv6(text: string): string {
  const groups = ipv6Groups(text);
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export interface Cidr {
  family: Family;
  /** canonical network text with host bits cleared, e.g. 192.168.0.0/16 */
  text: string;
}

export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const address = parseAddress(addrText);
  const max = address.family === 4 ? 32 : 128;
  const lenText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
    throw new ValueError(`invalid prefix length in ${JSON.stringify(text)}: 0-${max}`);
  }
  const len = Number(lenText);
  const network = address.family === 4 ? maskIPv4(address.text, len) : maskIPv6(address.text, len);
  return { family: address.family, text: `${network}/${len}` };
}

function maskIPv4(text: string, len: number): string {
  const n = text.split('.').reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
  const mask = len === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - len)) - 1n);
  const m = n & mask;
  return [24n, 16n, 8n, 0n].map((s) => String((m >> s) & 255n)).join('.');
}

function maskIPv6(text: string, len: number): string {
  const n = ipv6Groups(text).reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
  const all = (1n << 128n) - 1n;
  const mask = len === 0 ? 0n : all ^ ((1n << BigInt(128 - len)) - 1n);
  const m = n & mask;
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((m >> BigInt(i * 16)) & 0xffffn).toString(16));
  return canonicalIPv6(groups.join(':'));
}

export function parsePort(text: string | number): number {
  const s = String(text);
  if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) {
    throw new ValueError(`invalid port ${JSON.stringify(text)}: 1-65535`);
  }
  return Number(s);
}

export type Transport = 'udp' | 'tcp';
export interface Endpoint {
  address: Address;
  port: number;
  protocol: Transport;
}

/** `ADDR:PORT[/udp|/tcp]`, IPv6 in brackets: `[2001:db8::1]:51820/udp`. Protocol defaults to udp. */
export function parseEndpoint(text: string): Endpoint {
  const m = /^(\[[^\]]+\]|[^:/[\]]+):(\d{1,5})(?:\/(udp|tcp))?$/.exec(text);
  if (!m || !m[1] || !m[2]) {
    throw new ValueError(
      `invalid endpoint ${JSON.stringify(text)}: use ADDR:PORT/udp or [IPV6]:PORT/tcp (e.g. 198.51.100.10:51820/udp)`,
    );
  }
  const address = parseAddress(m[1]);
  if ((address.family === 6) !== m[1].startsWith('[')) {
    throw new ValueError(`invalid endpoint ${JSON.stringify(text)}: IPv6 addresses, and only they, go in brackets`);
  }
  return { address, port: parsePort(m[2]), protocol: (m[3] as Transport | undefined) ?? 'udp' };
}

export function formatEndpoint(e: Endpoint): string {
  const host = e.address.family === 6 ? `[${e.address.text}]` : e.address.text;
  return `${host}:${e.port}/${e.protocol}`;
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.address.text === b.address.text && a.port === b.port && a.protocol === b.protocol;
}

/** A numeric uid/gid as the kernel sees it (0 .. 2^32-2; 2^32-1 is "no id"). */
export function parseId(value: number | string): number {
  const s = String(value);
  if (!/^\d{1,10}$/.test(s) || Number(s) > 0xfffffffe) throw new ValueError(`invalid uid/gid ${JSON.stringify(value)}`);
  return Number(s);
}

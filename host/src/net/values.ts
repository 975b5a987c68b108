// Parsers for every network value that can reach rule text. Each one accepts a string from outside (a CLI
// argument, a JSON field, a line of `wg show`) and returns a canonical value or throws a ValueError that says
// what was wrong. Rule generators only ever see the canonical forms produced here, so nothing a client sends
// is pasted into nftables text unparsed. Pure (no Node built-ins): the daemon, the CLI and the extension all
// run this same parser (test/unit/values.test.ts compares it with node:net).

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

/** One dotted-quad byte: 0-255, no leading zero (as node:net and inet_pton read it). */
const V4_BYTE = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The four bytes of a dotted quad, or null. */
function ipv4Bytes(text: string): number[] | null {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => V4_BYTE.test(p)) ? parts.map(Number) : null;
}

/** `a:b:c` groups, the last one possibly an embedded dotted quad (two groups); null when malformed. */
function ipv6Run(text: string, v4Tail: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [i, p] of parts.entries()) {
    if (V6_GROUP.test(p)) groups.push(parseInt(p, 16));
    else {
      const v4 = v4Tail && i === parts.length - 1 ? ipv4Bytes(p) : null;
      if (!v4) return null;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    }
  }
  return groups;
}

/**
 * The eight groups of an IPv6 address (RFC 4291 text: hex groups, at most one `::` standing for one or more
 * zero groups, an optional dotted-quad tail), or null. No zone (`%eth0`): an address in a rule has none.
 */
function ipv6Groups(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  if (halves.length === 1) {
    const all = ipv6Run(text, true);
    return all && all.length === 8 ? all : null;
  }
  const head = ipv6Run(halves[0]!, false);
  const tail = ipv6Run(halves[1]!, true);
  if (!head || !tail || head.length + tail.length > 7) return null;
  return [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

export function parseAddress(text: string): Address {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v4 = ipv4Bytes(bare);
  if (v4) return { family: 4, text: v4.join('.') };
  const v6 = ipv6Groups(bare);
  if (v6) return { family: 6, text: formatIPv6(v6) };
  throw new ValueError(`invalid IP address ${JSON.stringify(text)}`);
}

/** RFC 5952: lower-case hex, no leading zeros, the longest run (length >= 2) of zero groups as `::`, the first one on a tie. */
function formatIPv6(groups: readonly number[]): string {
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

/** An address as a number (32 or 128 bits), for range arithmetic (net/cidr.ts). */
export function addressValue(a: Address): bigint {
  if (a.family === 4) return a.text.split('.').reduce((n, p) => (n << 8n) | BigInt(p), 0n);
  return ipv6Groups(a.text)!.reduce((n, g) => (n << 16n) | BigInt(g), 0n);
}

/** The address whose value is `n` (the inverse of addressValue). */
function addressFromValue(family: Family, n: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  return formatIPv6(groups);
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
  const bits = BigInt(max);
  const mask = len === 0 ? 0n : ((1n << bits) - 1n) ^ ((1n << BigInt(max - len)) - 1n);
  const network = addressFromValue(address.family, addressValue(address) & mask);
  return { family: address.family, text: `${network}/${len}` };
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

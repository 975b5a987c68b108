// Browser stand-in for the two node:net functions the protocol's value parsers use (aliased in
// extension/vite.config.ts). Strict on shape; the daemon re-validates every value with the real node:net.
const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return V4.test(s);
}

export function isIPv6(s: string): boolean {
  const zone = s.indexOf('%');
  const addr = zone >= 0 ? s.slice(0, zone) : s;
  let head = addr;
  const lastColon = addr.lastIndexOf(':');
  if (addr.includes('.')) {
    if (!isIPv4(addr.slice(lastColon + 1))) return false;
    head = addr.slice(0, lastColon + 1) + '0:0';
  }
  const parts = head.split('::');
  if (parts.length > 2) return false;
  const groups = (p: string) => (p === '' ? [] : p.split(':'));
  const g = parts.flatMap(groups);
  if (!g.every((x) => /^[0-9a-f]{1,4}$/i.test(x))) return false;
  const n = g.length;
  return parts.length === 2 ? n <= 7 : n === 8;
}

// A minimal STUN server (RFC 5389 Binding): answers every Binding request with the source address it saw
// (XOR-MAPPED-ADDRESS) and logs that address as a JSON line on stdout, so a test can count what arrived.
// usage: node stun.mjs ADDR PORT [ADDR PORT ...]
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';

const MAGIC = 0x2112a442;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  const [host, port] = [args[i], Number(args[i + 1])];
  const sock = isIPv6(host) ? createSocket({ type: 'udp6', ipv6Only: true }) : createSocket('udp4');
  sock.on('error', (e) => {
    process.stderr.write(`stun: ${host}:${port}: ${e.message}\n`);
    process.exit(1);
  });
  sock.on('message', (msg, from) => {
    if (msg.length < 20 || msg.readUInt16BE(0) !== 0x0001 || msg.readUInt32BE(4) !== MAGIC) return;
    process.stdout.write(`${JSON.stringify({ from: from.address, port: from.port })}\n`);
    const v6 = from.family === 'IPv6';
    const addr = Buffer.alloc(v6 ? 16 : 4);
    if (v6) {
      const full = from.address.split('%')[0];
      const [head, tail = ''] = full.split('::');
      const h = head ? head.split(':') : [];
      const t = tail ? tail.split(':') : [];
      const groups = full.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
      groups.forEach((g, k) => addr.writeUInt16BE(parseInt(g, 16), k * 2));
    } else from.address.split('.').forEach((o, k) => (addr[k] = Number(o)));
    const key = Buffer.concat([msg.subarray(4, 8), msg.subarray(8, 20)]); // magic cookie + transaction id
    for (let k = 0; k < addr.length; k++) addr[k] ^= key[k];
    const attr = Buffer.alloc(4 + 4 + addr.length);
    attr.writeUInt16BE(0x0020, 0); // XOR-MAPPED-ADDRESS
    attr.writeUInt16BE(4 + addr.length, 2);
    attr.writeUInt8(v6 ? 2 : 1, 5);
    attr.writeUInt16BE(from.port ^ (MAGIC >>> 16), 6);
    addr.copy(attr, 8);
    const head = Buffer.alloc(20);
    head.writeUInt16BE(0x0101, 0); // Binding success response
    head.writeUInt16BE(attr.length, 2);
    msg.copy(head, 4, 4, 20);
    sock.send(Buffer.concat([head, attr]), from.port, from.address);
  });
  sock.bind(port, host, () => process.stdout.write(`${JSON.stringify({ listening: `${host}:${port}` })}\n`));
}

// Lab DNS resolver (ISP resolver on the "internet", LAN resolver on the home router): answers every A/AAAA
// query with fixed addresses and records who asked.
// Config: {"svc":"isp-dns","binds":["203.0.113.53"],"port":53,"a":"203.0.113.10","aaaa":"2001:db8:ffff::10"}
import net from 'node:net';
import dgram from 'node:dgram';
import { emit, config, addr } from './common.mjs';
import { decodeQuery, encodeAnswer } from './dnswire.mjs';

const cfg = config();
const svc = cfg.svc ?? 'dns';
const port = cfg.port ?? 53;
const answers = { a: cfg.a, aaaa: cfg.aaaa };
const pending = [];

function tokenOf(name) {
  const m = /^t-([A-Za-z0-9-]+)\./.exec(name);
  return m ? m[1] : undefined;
}

function answer(buf, proto, src, sport, dst) {
  let q;
  try {
    q = decodeQuery(buf);
  } catch (e) {
    emit({ svc, ev: 'dns-bad', proto, src, sport, dst, error: String(e) });
    return undefined;
  }
  emit({ svc, ev: 'dns', proto, src, sport, dst, port, qname: q.name, qtype: q.qtype, token: tokenOf(q.name) });
  return encodeAnswer(buf, q, answers);
}

for (const bind of cfg.binds) {
  const u = dgram.createSocket({ type: bind.includes(':') ? 'udp6' : 'udp4' });
  u.on('message', (msg, r) => {
    const out = answer(msg, 'udp', addr(r.address), r.port, bind);
    if (out) u.send(out, r.port, r.address);
  });
  u.on('error', (e) => emit({ svc, ev: 'error', error: String(e) }));
  pending.push(new Promise((res, rej) => {
    u.once('error', rej);
    u.bind({ address: bind, port }, res);
  }));

  const t = net.createServer((sock) => {
    const src = addr(sock.remoteAddress);
    const sport = sock.remotePort;
    sock.setTimeout(5000, () => sock.destroy());
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > 65537) return sock.destroy();
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const out = answer(buf.subarray(2, 2 + len), 'tcp', src, sport, bind);
        buf = buf.subarray(2 + len);
        if (!out) return sock.destroy();
        const l = Buffer.alloc(2);
        l.writeUInt16BE(out.length);
        sock.write(Buffer.concat([l, out]));
      }
    });
  });
  pending.push(new Promise((res, rej) => {
    t.once('error', rej);
    t.listen({ host: bind, port, ipv6Only: bind.includes(':') }, res);
  }));
}

Promise.all(pending).then(
  () => emit({ svc, ev: 'ready' }),
  (e) => {
    emit({ svc, ev: 'fatal', error: String(e) });
    process.exit(1);
  },
);

// Leak sink (and LAN printer, and VPN-endpoint sink): accepts TCP and UDP on the given addresses/ports and
// records the source address of every connection and datagram.
// Config: {"svc":"sink","binds":["203.0.113.10","2001:db8:ffff::10"],"tcp":[80,443,8080],"udp":[5000]}
// Probe protocol (test/lab/servers/probe.mjs): the client sends "TLPROBE <token>\n" (TCP) or
// "TLPROBE <token>" (UDP); the sink answers "OK <source-address-it-saw>\n".
// HTTP requests (a browser) get a 200 with a small JSON body naming the source address.
import net from 'node:net';
import dgram from 'node:dgram';
import { emit, config, addr } from './common.mjs';

const cfg = config();
const svc = cfg.svc ?? 'sink';
const pending = [];

function onTcp(sock, bind, port) {
  const src = addr(sock.remoteAddress);
  const sport = sock.remotePort;
  emit({ svc, ev: 'tcp', src, sport, dst: bind, port });
  sock.setTimeout(5000, () => sock.destroy());
  sock.on('error', () => {});
  let buf = '';
  sock.on('data', (chunk) => {
    if (buf === null) return;
    buf += chunk.toString('latin1');
    if (buf.length > 8192) {
      buf = null;
      sock.destroy();
      return;
    }
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    const line = buf.slice(0, nl).replace(/\r$/, '');
    buf = null;
    const m = /^TLPROBE (\S+)$/.exec(line);
    if (m) {
      emit({ svc, ev: 'probe', proto: 'tcp', token: m[1], src, sport, dst: bind, port });
      sock.end(`OK ${src}\n`);
      return;
    }
    const h = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(line);
    if (h) {
      const tok = /[?&]token=([A-Za-z0-9_.-]+)/.exec(h[2]);
      emit({ svc, ev: 'http', method: h[1], path: h[2], token: tok ? tok[1] : undefined, src, sport, dst: bind, port });
      const body = JSON.stringify({ src, port }) + '\n';
      sock.end(
        'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nAccess-Control-Allow-Origin: *\r\n' +
          `Cache-Control: no-store\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    emit({ svc, ev: 'tcp-data', src, sport, dst: bind, port, line: line.slice(0, 200) });
    sock.destroy();
  });
}

for (const bind of cfg.binds) {
  for (const port of cfg.tcp ?? []) {
    const srv = net.createServer((s) => onTcp(s, bind, port));
    pending.push(new Promise((res, rej) => {
      srv.once('error', rej);
      srv.listen({ host: bind, port, ipv6Only: bind.includes(':') }, res);
    }));
  }
  for (const port of cfg.udp ?? []) {
    const sock = dgram.createSocket({ type: bind.includes(':') ? 'udp6' : 'udp4' });
    sock.on('message', (msg, rinfo) => {
      const src = addr(rinfo.address);
      const m = /^TLPROBE (\S+)/.exec(msg.toString('latin1', 0, Math.min(msg.length, 200)));
      emit({ svc, ev: 'udp', proto: 'udp', token: m ? m[1] : undefined, src, sport: rinfo.port, dst: bind, port, len: msg.length });
      if (m) sock.send(`OK ${src}\n`, rinfo.port, rinfo.address);
    });
    sock.on('error', (e) => emit({ svc, ev: 'error', error: String(e) }));
    pending.push(new Promise((res, rej) => {
      sock.once('error', rej);
      sock.bind({ address: bind, port }, res);
    }));
  }
}

Promise.all(pending).then(
  () => emit({ svc, ev: 'ready' }),
  (e) => {
    emit({ svc, ev: 'fatal', error: String(e) });
    process.exit(1);
  },
);

// Probe client, run inside a lab namespace: executes a batch of probes in parallel and prints one JSON
// array of results. Every probe is bounded by its timeoutMs.
// Input (argv[2]): [{"id":"x","proto":"tcp","host":"203.0.113.10","port":80,"token":"abc-1","timeoutMs":1000},
//                   {"id":"y","proto":"udp",...}, {"id":"z","proto":"dns","host":"203.0.113.53","port":53,
//                    "tcp":false,"qname":"t-abc-2.probe.test","qtype":1,...}]
// Output: [{"id":"x","ok":true,"seen":"198.51.100.10","ms":12}, {"id":"y","ok":false,"error":"timeout","ms":1001}]
import net from 'node:net';
import dgram from 'node:dgram';
import { encodeQuery, decodeAnswer } from './dnswire.mjs';

const specs = JSON.parse(process.argv[2] ?? '[]');

function withTimeout(ms, fn) {
  return new Promise((resolve) => {
    let done = false;
    const cleanups = [];
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const c of cleanups) {
        try {
          c();
        } catch {}
      }
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), ms);
    try {
      fn(finish, (c) => cleanups.push(c));
    } catch (e) {
      finish({ ok: false, error: String(e && e.message ? e.message : e) });
    }
  });
}

function tcpProbe(s) {
  return withTimeout(s.timeoutMs, (finish, onCleanup) => {
    const sock = net.connect({ host: s.host, port: s.port });
    onCleanup(() => sock.destroy());
    let buf = '';
    sock.on('connect', () => sock.write(`TLPROBE ${s.token}\n`));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      const m = /^OK (\S+)\n/.exec(buf);
      if (m) finish({ ok: true, seen: m[1] });
    });
    sock.on('error', (e) => finish({ ok: false, error: e.code || String(e) }));
    sock.on('close', () => finish({ ok: false, error: 'closed' }));
  });
}

function udpProbe(s) {
  return withTimeout(s.timeoutMs, (finish, onCleanup) => {
    const sock = dgram.createSocket(s.host.includes(':') ? 'udp6' : 'udp4');
    onCleanup(() => sock.close());
    sock.on('message', (msg) => {
      const m = /^OK (\S+)/.exec(msg.toString('latin1'));
      if (m) finish({ ok: true, seen: m[1] });
    });
    sock.on('error', (e) => finish({ ok: false, error: e.code || String(e) }));
    sock.send(`TLPROBE ${s.token}`, s.port, s.host, (e) => {
      if (e) finish({ ok: false, error: e.code || String(e) });
    });
  });
}

function dnsProbe(s) {
  const id = Math.floor(Math.random() * 65536);
  const q = encodeQuery(id, s.qname, s.qtype);
  const parse = (buf, finish) => {
    try {
      const a = decodeAnswer(buf);
      if (a.id !== id) return;
      finish({ ok: a.rcode === 0, answers: a.answers, rcode: a.rcode });
    } catch (e) {
      finish({ ok: false, error: String(e) });
    }
  };
  return withTimeout(s.timeoutMs, (finish, onCleanup) => {
    if (s.tcp) {
      const sock = net.connect({ host: s.host, port: s.port });
      onCleanup(() => sock.destroy());
      let buf = Buffer.alloc(0);
      sock.on('connect', () => {
        const l = Buffer.alloc(2);
        l.writeUInt16BE(q.length);
        sock.write(Buffer.concat([l, q]));
      });
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) parse(buf.subarray(2, 2 + buf.readUInt16BE(0)), finish);
      });
      sock.on('error', (e) => finish({ ok: false, error: e.code || String(e) }));
      sock.on('close', () => finish({ ok: false, error: 'closed' }));
    } else {
      const sock = dgram.createSocket(s.host.includes(':') ? 'udp6' : 'udp4');
      onCleanup(() => sock.close());
      sock.on('message', (m) => parse(m, finish));
      sock.on('error', (e) => finish({ ok: false, error: e.code || String(e) }));
      sock.send(q, s.port, s.host, (e) => {
        if (e) finish({ ok: false, error: e.code || String(e) });
      });
    }
  });
}

const run = { tcp: tcpProbe, udp: udpProbe, dns: dnsProbe };

const results = await Promise.all(
  specs.map(async (s) => {
    const t0 = Date.now();
    const fn = run[s.proto];
    const r = fn ? await fn(s) : { ok: false, error: `unknown proto ${s.proto}` };
    return { id: s.id, ...r, ms: Date.now() - t0 };
  }),
);
process.stdout.write(JSON.stringify(results) + '\n');
process.exit(0);

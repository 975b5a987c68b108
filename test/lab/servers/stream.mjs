// Continuous traffic from inside a lab namespace, for the "under traffic" scenarios: every intervalMs it
// opens a TCP connection, sends a UDP datagram and a DNS query to each target, plus an ICMP echo via raw
// `ping` children. Runs until SIGTERM; then prints one JSON line of counts. Bounded: every socket has a
// short timeout, and at most `maxInFlight` operations are open at once.
// argv[2]: {"intervalMs":20,"tcp":[["203.0.113.10",80],["2001:db8:ffff::10",80]],"udp":[["203.0.113.10",5000]],
//           "dns":[["203.0.113.53",53],["192.168.77.1",53]],"maxInFlight":64}
import net from 'node:net';
import dgram from 'node:dgram';
import { encodeQuery } from './dnswire.mjs';

const cfg = JSON.parse(process.argv[2] ?? '{}');
const counts = { sent: 0, tcpConnected: 0, errors: 0 };
let inFlight = 0;
const maxInFlight = cfg.maxInFlight ?? 64;

function bounded(fn) {
  if (inFlight >= maxInFlight) return;
  inFlight++;
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      inFlight--;
    }
  };
  try {
    fn(finish);
  } catch {
    counts.errors++;
    finish();
  }
}

function tcp([host, port]) {
  bounded((finish) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => s.destroy(), 300);
    s.on('connect', () => {
      counts.tcpConnected++;
      s.end('TLSTREAM\n');
    });
    s.on('error', () => counts.errors++);
    s.on('close', () => {
      clearTimeout(t);
      finish();
    });
    counts.sent++;
  });
}

function udp([host, port], payload) {
  bounded((finish) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.on('error', () => {
      counts.errors++;
    });
    s.send(payload ?? Buffer.from('TLSTREAM'), port, host, () => {
      counts.sent++;
      setTimeout(() => {
        s.close();
        finish();
      }, 50);
    });
  });
}

let seq = 0;
const timer = setInterval(() => {
  for (const t of cfg.tcp ?? []) tcp(t);
  for (const t of cfg.udp ?? []) udp(t);
  for (const t of cfg.dns ?? []) udp(t, encodeQuery(seq++ & 0xffff, `s${seq}.stream.test`, 1));
}, cfg.intervalMs ?? 20);

process.on('SIGTERM', () => {
  clearInterval(timer);
  process.stdout.write(JSON.stringify(counts) + '\n');
  process.exit(0);
});

// The self-test's probes: sockets and pings run as a given user (uid/gid of the requesting client, or an
// unprivileged account), never as the daemon. Every probe goes to a documentation address or to an address
// the lock already knows (the network's resolver, the VPN endpoint) with TTL / hop limit 1 where the tool
// allows it, so a broken lock shows up as a failed check and never carries a probe past the first hop.
// With a working lock the kernel refuses each probe locally and nothing reaches the wire.
import { execFile, spawn } from 'node:child_process';
import { parseIfname } from '../net/values.js';

export interface ProbeUser {
  uid: number;
  gid: number;
}

export interface SocketProbe {
  proto: 'udp' | 'tcp';
  family: 4 | 6;
  /** a canonical address (net/values.ts), so it is safe to pass on */
  host: string;
  port: number;
}

/**
 * refused: TCP reset or ICMP error from our reject; dropped: the kernel refused the send (EPERM, the reject's
 * own drop of the original packet); sent/connected: it left (a broken lock); no-route: not a refusal at all.
 */
export type ProbeOutcome = 'refused' | 'dropped' | 'sent' | 'connected' | 'no-route' | 'unreachable' | 'timeout' | 'error';

export interface ProbeResult {
  outcome: ProbeOutcome;
  /** the errno or the tool's own words */
  detail: string;
}

/** How long a UDP probe waits for the kernel's ICMP answer before it counts as sent. */
const UDP_WAIT_MS = 250;
const TCP_WAIT_MS = 600;

/**
 * The child's whole program: self-contained (it is passed to `node -e` as text), so it may use only its
 * argument and Node's built-in modules. Prints one JSON array of {outcome, detail}.
 */
async function socketProbeChild(specs: SocketProbe[], udpWaitMs: number, tcpWaitMs: number): Promise<void> {
  const dgram = await import('node:dgram');
  const net = await import('node:net');
  // Started ahead of time (Node's start-up overlaps the other checks): probe only when the parent says go.
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const classify = (e: NodeJS.ErrnoException) => {
    const code = e.code ?? e.message;
    if (code === 'EPERM' || code === 'EACCES') return { outcome: 'dropped', detail: code };
    if (code === 'ECONNREFUSED') return { outcome: 'refused', detail: code };
    if (code === 'ENETUNREACH') return { outcome: 'no-route', detail: code };
    if (code === 'EHOSTUNREACH') return { outcome: 'unreachable', detail: code };
    return { outcome: 'error', detail: code };
  };
  const one = (s: SocketProbe) =>
    new Promise<{ outcome: string; detail: string }>((resolve) => {
      let done = false;
      const cleanups: (() => void)[] = [];
      const finish = (r: { outcome: string; detail: string }) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        for (const c of cleanups) c();
        resolve(r);
      };
      const timer = setTimeout(
        () => finish(s.proto === 'udp' ? { outcome: 'sent', detail: 'no refusal' } : { outcome: 'timeout', detail: 'no answer' }),
        s.proto === 'udp' ? udpWaitMs : tcpWaitMs,
      );
      if (s.proto === 'udp') {
        const sock = dgram.createSocket(s.family === 6 ? 'udp6' : 'udp4');
        cleanups.push(() => sock.close());
        sock.on('error', (e) => finish(classify(e)));
        sock.connect(s.port, s.host, () => {
          sock.setTTL(1);
          sock.send(Buffer.from('tunlock self-test'), (e) => {
            if (e) finish(classify(e));
          });
        });
      } else {
        const sock = net.connect({ host: s.host, port: s.port, family: s.family });
        cleanups.push(() => sock.destroy());
        sock.on('connect', () => finish({ outcome: 'connected', detail: 'connected' }));
        sock.on('error', (e) => finish(classify(e)));
      }
    });
  process.stdout.write(JSON.stringify(await Promise.all(specs.map(one))));
}

function runAs(user: ProbeUser, command: string, args: string[], timeoutMs: number, stdin?: (write: (text: string) => void) => void): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // uid/gid: the child drops root (and every supplementary group) before it runs; the probes are the user's.
    const child = spawn(command, args, { uid: user.uid, gid: user.gid, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' }, stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (stdin) {
      child.stdin!.on('error', () => undefined); // the child may be gone already (killed, failed)
      stdin((text) => child.stdin!.end(text));
    }
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.stderr!.setEncoding('utf8').on('data', (t: string) => (out += t));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

export interface PreparedProbes {
  /** sends the probes now; results in the order of the specs */
  results(): Promise<ProbeResult[]>;
  /** ends the child without probing (when the test stops early) */
  cancel(): void;
}

/** Starts one child process as `user` that sends the socket probes when `results()` is called. */
export function socketProbes(user: ProbeUser, specs: SocketProbe[]): PreparedProbes {
  if (specs.length === 0) return { results: () => Promise.resolve([]), cancel: () => undefined };
  let send: ((text: string) => void) | null = null;
  const program = `(${socketProbeChild.toString()})(${JSON.stringify(specs)}, ${UDP_WAIT_MS}, ${TCP_WAIT_MS})`;
  const run = runAs(user, process.execPath, ['--input-type=module', '-e', program], 8000, (write) => (send = write));
  let answer: Promise<ProbeResult[]> | null = null;
  return {
    results: () => (answer ??= (send?.('go\n'), run.then((r) => parseProbeOutput(r, specs.length)))),
    cancel: () => {
      if (answer) return;
      answer = Promise.resolve([]);
      send?.('');
    },
  };
}

function parseProbeOutput(r: { code: number | null; out: string }, count: number): ProbeResult[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.out.trim());
  } catch {
    throw new Error(`the probe process failed (exit ${r.code}): ${r.out.slice(0, 300)}`);
  }
  if (!Array.isArray(parsed) || parsed.length !== count) throw new Error('the probe process answered something else');
  return parsed.map((p: { outcome?: unknown; detail?: unknown }) => ({
    outcome: isOutcome(p.outcome) ? p.outcome : 'error',
    detail: String(p.detail ?? '').slice(0, 100),
  }));
}

function isOutcome(v: unknown): v is ProbeOutcome {
  return typeof v === 'string' && ['refused', 'dropped', 'sent', 'connected', 'no-route', 'unreachable', 'timeout', 'error'].includes(v);
}

/** One ICMP echo with TTL 1 from a socket bound to `iface` (ping -I: SO_BINDTODEVICE), as `user`. */
export async function pingProbe(user: ProbeUser, family: 4 | 6, iface: string, host: string): Promise<ProbeResult & { hop?: string }> {
  const args = [`-${family}`, '-n', '-c', '1', '-W', '0.25', '-t', '1', '-I', parseIfname(iface), host];
  const r = await runAs(user, 'ping', args, 3000);
  return classifyPing(r.out);
}

/** ping's words → what happened (exported for unit tests). */
export function classifyPing(out: string): ProbeResult & { hop?: string } {
  const line = out.split('\n').find((l) => /From |bytes from|sendmsg|connect:|[Uu]nreachable|[Pp]rohibited|not permitted/.test(l))?.trim() ?? out.trim().split('\n').pop() ?? '';
  const detail = line.slice(0, 200);
  const from = /From (\S+)/.exec(out)?.[1]?.replace(/(?<!:):$/, '');
  if (/Time to live exceeded|Time exceeded/i.test(out)) return { outcome: 'sent', detail, ...(from ? { hop: from } : {}) };
  if (/bytes from/.test(out)) return { outcome: 'connected', detail };
  if (/Operation not permitted/i.test(out)) return { outcome: 'dropped', detail };
  if (/prohibited/i.test(out)) return { outcome: 'refused', detail };
  if (/Network is unreachable/i.test(out)) return { outcome: 'no-route', detail };
  if (/unreachable/i.test(out)) return { outcome: 'unreachable', detail };
  if (/0 received/.test(out)) return { outcome: 'sent', detail: 'no answer' };
  return { outcome: 'error', detail: detail || 'ping printed nothing' };
}

/** The interface the kernel would use for `host` right now; null when there is no route. */
export function routeDevice(host: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('ip', ['-j', 'route', 'get', host], { timeout: 2000 }, (err, stdout) => {
      if (err) return resolve(null);
      try {
        const dev = (JSON.parse(stdout) as { dev?: string }[])[0]?.dev;
        resolve(dev ? parseIfname(dev) : null);
      } catch {
        resolve(null);
      }
    });
  });
}

/** The interface's own IPv4/IPv6 addresses (for the extension's WebRTC check). */
export function interfaceAddresses(iface: string): Promise<string[]> {
  return new Promise((resolve) => {
    execFile('ip', ['-j', 'addr', 'show', 'dev', parseIfname(iface)], { timeout: 2000 }, (err, stdout) => {
      if (err) return resolve([]);
      try {
        const links = JSON.parse(stdout) as { addr_info?: { local?: string }[] }[];
        resolve(links.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (a.local ? [a.local] : []))).slice(0, 64));
      } catch {
        resolve([]);
      }
    });
  });
}

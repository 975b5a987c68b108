// "Test my lock": checks, each with the kernel's evidence, that the lock holds right now (docs/self-test.md).
//   lock      the lock is engaged (off / standby: "Not protected", nothing else is tested)
//   kernel    the kernel holds exactly the rules the daemon applied, the guard too, and nobody changed them
//             since the last test
//   escapes   probes that would leave outside the tunnel (bound to the physical interface, IPv6 outside a
//             v4-only tunnel, DNS to the network's resolver) are refused by *our* reject: the blocked counter
//             moved by at least one per probe, and each probe got the reject's error, not "no route"
//   endpoint  the VPN endpoint exception is closed to an unprivileged program (and to a wrong port)
//   tunnel    an up tunnel carries traffic: a TTL-1 ping through it is answered by the VPN server's hop
// Probes run as the requesting user (the endpoint probe as `nobody`), with TTL 1, towards documentation
// addresses: a broken lock fails a check and nothing goes past the first hop. Pure orchestration: every
// kernel and process access arrives in SelfTestDeps, so unit tests drive it with fakes.
import type { Address, Endpoint } from '../net/values.js';
import type { LockState, SelfTestCheck, SelfTestResult } from '../protocol/schema.js';
import type { PreparedProbes, ProbeResult, ProbeUser, SocketProbe } from './self-test-probes.js';

/** Documentation addresses (RFC 5737 / RFC 3849): never a real host. Port 9 (discard). */
export const PROBE_TARGET4 = '203.0.113.200';
export const PROBE_TARGET6 = '2001:db8::200';
const PROBE_PORT = 9;

export interface SelfTestInput {
  state: LockState;
  /** configured tunnel interfaces, and those up now */
  tunnels: string[];
  tunnelsUp: string[];
  endpoints: Endpoint[];
  /** the network's own resolvers (resolv.conf / the gateway) */
  resolvers: Address[];
  /** uid of an open captive hole (its DNS and web ports are open to that user by design) */
  captiveUid: number | null;
  user: ProbeUser;
  /** an unprivileged account for the endpoint probe */
  nobody: ProbeUser;
}

export interface SelfTestDeps {
  /** compares the kernel with the applied policy; the tamper text when someone changed it since the last test */
  kernel(): Promise<{ ok: boolean; evidence: string }>;
  /** packets refused by our outbound reject rules so far (main + guard table) */
  blockedOut(): Promise<number>;
  /** starts a probe process now (its start-up overlaps the other checks); it probes on results() */
  sockets(user: ProbeUser, specs: SocketProbe[]): PreparedProbes;
  ping(user: ProbeUser, family: 4 | 6, iface: string, host: string): Promise<ProbeResult & { hop?: string }>;
  routeDevice(host: string): Promise<string | null>;
  addresses(iface: string): Promise<string[]>;
  /** wait before the tunnel probe's one retry (ms; default 1000, the routers' ICMP rate-limit interval) */
  retryMs?: number;
  now(): number;
}

interface Probe {
  label: string;
  run: () => Promise<ProbeResult>;
  /**
   * Runs alone between two counter reads. A ping bound to an interface never sees the reject's ICMP answer
   * (it arrives on loopback), so "no reply" is told apart from "left and nobody answered" by our own counter.
   */
  solo?: boolean;
}

const REFUSED = new Set(['refused', 'dropped']);
/** The kernel check's fix: the daemon has already re-applied its rules (like any tampering it finds). */
const TAMPER_FIX = 'nothing to do for now: tunlockd re-applied its rules. If this comes back, another program changes the firewall (firewalld, Docker, a VPN app): find and stop it';
/** A probe got out although the kernel held our rules: not something the user can fix. */
const ESCAPE_FIX = 'run `tunlock doctor`, and switch the lock to `always` meanwhile; if the kernel check passed, this is a tunlock bug: please report it with this output';

export async function runSelfTest(input: SelfTestInput, deps: SelfTestDeps): Promise<SelfTestResult> {
  const started = deps.now();
  const checks: SelfTestCheck[] = [];
  const notes: string[] = [];
  const finish = async (): Promise<SelfTestResult> => {
    const tunnelAddresses = (await Promise.all(input.tunnelsUp.map((t) => deps.addresses(t)))).flat();
    return { ok: checks.every((c) => c.ok), checks, notes, tunnelAddresses, ms: Math.max(0, deps.now() - started) };
  };

  if (input.state === 'off' || input.state === 'standby') {
    checks.push({
      name: 'lock',
      ok: false,
      evidence:
        input.state === 'off'
          ? 'Not protected: the lock is off, traffic may leave through any interface'
          : 'Not protected: the lock was released by a deliberate VPN disconnect (it re-engages when a tunnel comes up)',
      fix: 'turn the lock on: `tunlock lock on` (or the switch in the browser toolbar)',
    });
    return finish();
  }
  checks.push({ name: 'lock', ok: true, evidence: `engaged (state ${input.state})` });

  const isTunnel = (dev: string | null) => dev !== null && input.tunnels.includes(dev);
  const endpoints = endpointProbes(input, deps);
  const escapes = await escapeProbes(input, deps, isTunnel, notes);
  try {
    const kernel = await deps.kernel();
    checks.push({ name: 'kernel', ok: kernel.ok, evidence: kernel.evidence, ...(kernel.ok ? {} : { fix: TAMPER_FIX }) });
    checks.push(await counted('escapes', escapes.probes, deps, 'nothing routes outside the tunnel here: no probe to send'));
    if (endpoints.probes.length) checks.push(await counted('endpoint', endpoints.probes, deps, ''));
  } finally {
    escapes.cancel();
    endpoints.cancel();
  }

  if (input.state === 'protected') checks.push(await tunnelCheck(input, deps));
  else notes.push('No tunnel is up: the tunnel was not tested (the lock blocks everything until it comes back).');
  return finish();
}

interface ProbeSet {
  probes: Probe[];
  cancel: () => void;
}

/** One child runs every socket probe of a set; each probe reads its own slot of the shared answer. */
function socketSet(deps: SelfTestDeps, user: ProbeUser, sockets: { spec: SocketProbe; label: string }[]): ProbeSet {
  const prepared = deps.sockets(user, sockets.map((s) => s.spec));
  return { probes: sockets.map((s, i) => ({ label: s.label, run: async () => (await prepared.results())[i]! })), cancel: () => prepared.cancel() };
}

async function escapeProbes(input: SelfTestInput, deps: SelfTestDeps, isTunnel: (dev: string | null) => boolean, notes: string[]): Promise<ProbeSet> {
  const probes: Probe[] = [];
  const sockets: { spec: SocketProbe; label: string }[] = [];
  const [dev4, dev6] = await Promise.all([deps.routeDevice(PROBE_TARGET4), deps.routeDevice(PROBE_TARGET6)]);
  // The physical uplink: where the v4 default goes when it is not a tunnel; with the tunnel up, the route to the
  // network's resolver (on the LAN) names it.
  const resolverDevs = await Promise.all(input.resolvers.slice(0, 2).map((r) => deps.routeDevice(r.text)));
  const physical = [dev4, ...resolverDevs].find((d) => d !== null && !isTunnel(d)) ?? null;
  if (physical) probes.push({ label: `icmp4 bound to ${physical}`, solo: true, run: () => deps.ping(input.user, 4, physical, PROBE_TARGET4) });
  if (dev4 && !isTunnel(dev4)) {
    for (const proto of ['udp', 'tcp'] as const) sockets.push({ spec: { proto, family: 4, host: PROBE_TARGET4, port: PROBE_PORT }, label: `${proto}4 ${PROBE_TARGET4}:${PROBE_PORT}` });
  }
  if (dev6 && !isTunnel(dev6)) {
    notes.push(`IPv6 is present on ${dev6} and does not go through the tunnel: the lock blocks it, so IPv6-only sites fail until the VPN carries IPv6.`);
    probes.push({ label: `icmp6 bound to ${dev6}`, run: () => deps.ping(input.user, 6, dev6, PROBE_TARGET6) });
    for (const proto of ['udp', 'tcp'] as const) sockets.push({ spec: { proto, family: 6, host: PROBE_TARGET6, port: PROBE_PORT }, label: `${proto}6 [${PROBE_TARGET6}]:${PROBE_PORT}` });
  }
  input.resolvers.slice(0, 2).forEach((r, i) => {
    if (isTunnel(resolverDevs[i] ?? null) || resolverDevs[i] === null) return;
    notes.push(`The resolver ${r.text} is configured outside the tunnel: the lock blocks it (it would see every name you look up); use the VPN's DNS server.`);
    if (input.captiveUid === input.user.uid) {
      notes.push(`DNS to ${r.text} was not tested: the Wi-Fi login hole allows it for you until it closes.`);
      return;
    }
    const host = r.family === 6 ? `[${r.text}]` : r.text;
    for (const proto of ['udp', 'tcp'] as const) sockets.push({ spec: { proto, family: r.family, host: r.text, port: 53 }, label: `dns ${proto} ${host}:53` });
  });
  const set = socketSet(deps, input.user, sockets);
  return { probes: [...probes, ...set.probes], cancel: set.cancel };
}

function endpointProbes(input: SelfTestInput, deps: SelfTestDeps): ProbeSet {
  const seen = new Set<string>();
  const specs: { spec: SocketProbe; label: string }[] = [];
  for (const e of input.endpoints) {
    const key = `${e.address.text} ${e.port} ${e.protocol}`;
    if (seen.has(key) || seen.size >= 4) continue;
    seen.add(key);
    const host = e.address.family === 6 ? `[${e.address.text}]` : e.address.text;
    specs.push({ spec: { proto: e.protocol, family: e.address.family, host: e.address.text, port: e.port }, label: `${e.protocol} ${host}:${e.port} as uid ${input.nobody.uid}` });
    const wrong = e.port === 65535 ? e.port - 1 : e.port + 1;
    specs.push({ spec: { proto: e.protocol, family: e.address.family, host: e.address.text, port: wrong }, label: `${e.protocol} ${host}:${wrong} (wrong port) as uid ${input.nobody.uid}` });
  }
  return socketSet(deps, input.nobody, specs);
}

/** Runs probes between two counter reads: each must be refused, and our counter must account for every one. */
async function counted(name: string, probes: Probe[], deps: SelfTestDeps, nothing: string): Promise<SelfTestCheck> {
  if (probes.length === 0) return { name, ok: true, evidence: nothing };
  const attempt = async (p: Probe): Promise<{ label: string; r: ProbeResult }> => {
    try {
      return { label: p.label, r: await p.run() };
    } catch (e) {
      return { label: p.label, r: { outcome: 'error', detail: (e as Error).message.slice(0, 200) } };
    }
  };
  const before = await deps.blockedOut();
  const results: { label: string; r: ProbeResult }[] = [];
  for (const p of probes.filter((x) => x.solo)) {
    const start = await deps.blockedOut();
    const x = await attempt(p);
    const own = (await deps.blockedOut()) - start;
    const silent = x.r.outcome === 'sent' && !('hop' in x.r && x.r.hop);
    results.push(silent && own >= 1 ? { label: x.label, r: { outcome: 'refused', detail: `no reply; tunlock's reject counter +${own} for this probe alone` } } : x);
  }
  results.push(...(await Promise.all(probes.filter((x) => !x.solo).map(attempt))));
  const moved = (await deps.blockedOut()) - before;
  const escaped = results.filter((x) => !REFUSED.has(x.r.outcome));
  const lines = results.map((x) => `${x.label} → ${x.r.outcome} (${x.r.detail})`);
  const evidence = `${lines.join('; ')}; tunlock's reject counter moved by ${moved} for ${probes.length} probes`;
  if (escaped.length) {
    return {
      name,
      ok: false,
      evidence: `not refused by the lock: ${escaped.map((x) => `${x.label} → ${x.r.outcome} (${x.r.detail})`).join('; ')}. All: ${evidence}`,
      fix: name === 'endpoint' ? `the VPN endpoint is open to every program: ${ESCAPE_FIX}` : ESCAPE_FIX,
    };
  }
  if (moved < probes.length) {
    return { name, ok: false, evidence: `refused, but not by tunlock's rules (another firewall?): ${evidence}`, fix: ESCAPE_FIX };
  }
  return { name, ok: true, evidence };
}

async function tunnelCheck(input: SelfTestInput, deps: SelfTestDeps): Promise<SelfTestCheck> {
  const lines: string[] = [];
  const ping = (iface: string) => deps.ping(input.user, 4, iface, PROBE_TARGET4).catch((e: Error) => ({ outcome: 'error' as const, detail: e.message, hop: undefined }));
  for (const iface of input.tunnelsUp) {
    let r = await ping(iface);
    // Routers send "time exceeded" at a limited rate (Linux: a burst of 6, then one a second per host), so a
    // test repeated at once can go unanswered: ask once more after that second before calling the tunnel dead.
    if (!(r.outcome === 'sent' && r.hop) && r.outcome !== 'connected') {
      await new Promise((resolve) => setTimeout(resolve, deps.retryMs ?? 1000));
      r = await ping(iface);
    }
    // TTL 1: the VPN server's hop answers "time to live exceeded"; the probe goes no further than the server.
    if (r.outcome === 'sent' && r.hop) return { name: 'tunnel', ok: true, evidence: `a TTL-1 probe through ${iface} was answered by the VPN's hop ${r.hop} (${r.detail})` };
    if (r.outcome === 'connected') return { name: 'tunnel', ok: true, evidence: `a probe through ${iface} was answered (${r.detail})` };
    lines.push(`${iface}: ${r.outcome} (${r.detail})`);
  }
  return {
    name: 'tunnel',
    ok: false,
    evidence: `no answer through the tunnel: ${lines.join('; ')}`,
    fix: 'the tunnel is up but carries nothing: reconnect the VPN (your traffic stays blocked meanwhile)',
  };
}

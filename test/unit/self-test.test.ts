// The self-test's decisions, driven with fakes for the kernel and the probes: which checks run in which state,
// what counts as "refused by our rules", and that a probe that left, or a refusal our counter did not see,
// fails its check with the evidence and a fix. The real probes and kernel are tested in test/lab/self-test.test.ts.
import { describe, expect, it } from 'vitest';
import { runSelfTest } from '../../host/src/daemon/self-test.js';
import type { SelfTestDeps, SelfTestInput } from '../../host/src/daemon/self-test.js';
import { classifyPing } from '../../host/src/daemon/self-test-probes.js';
import { guardDifference, guardShare, normalizeListing } from '../../host/src/firewall/nft-guard-diff.js';
import type { ProbeResult } from '../../host/src/daemon/self-test-probes.js';
import { parseAddress, parseEndpoint } from '../../host/src/net/values.js';
import { SelfTestResult } from '../../host/src/protocol/schema.js';

function input(over: Partial<SelfTestInput> = {}): SelfTestInput {
  return {
    state: 'protected',
    tunnels: ['wg0'],
    tunnelsUp: ['wg0'],
    endpoints: [parseEndpoint('198.51.100.10:51820/udp')],
    resolvers: [parseAddress('192.168.1.1')],
    captiveUid: null,
    user: { uid: 1000, gid: 1000 },
    nobody: { uid: 65534, gid: 65534 },
    ...over,
  };
}

/** A kernel that refuses everything outside the tunnel and counts each refusal, like the real lock. */
function fakes(over: Partial<SelfTestDeps> & { leak?: (host: string, port: number) => boolean } = {}) {
  let counter = 0;
  const calls: { user: number; what: string }[] = [];
  const refuse = (r: ProbeResult): ProbeResult => {
    counter++;
    return r;
  };
  const deps: SelfTestDeps = {
    kernel: async () => ({ ok: true, evidence: 'matches' }),
    blockedOut: async () => counter,
    sockets: (user, specs) => ({
      results: async () => {
        calls.push(...specs.map((s) => ({ user: user.uid, what: `${s.proto} ${s.host}:${s.port}` })));
        return specs.map((s) =>
          over.leak?.(s.host, s.port) ? { outcome: 'sent', detail: 'no refusal' } : refuse(s.proto === 'tcp' ? { outcome: 'refused', detail: 'ECONNREFUSED' } : { outcome: 'dropped', detail: 'EPERM' }),
        );
      },
      cancel: () => undefined,
    }),
    ping: async (user, family, iface, host) => {
      calls.push({ user: user.uid, what: `ping ${iface} ${host}` });
      if (iface === 'wg0') return { outcome: 'sent', detail: 'From 10.64.0.1 icmp_seq=1 Time to live exceeded', hop: '10.64.0.1' };
      // as the kernel does: a v4 ping bound to an interface never hears the reject; a v6 one does
      return refuse(family === 4 ? { outcome: 'sent', detail: 'no answer' } : { outcome: 'refused', detail: 'Administratively prohibited' });
    },
    routeDevice: async (host) => (host.includes(':') ? 'eth0' : host.startsWith('192.168.') ? 'eth0' : 'wg0'),
    addresses: async () => ['10.64.0.2'],
    now: () => 1000,
    retryMs: 0,
    ...over,
  };
  return { deps, calls, bump: (n: number) => (counter += n) };
}

describe('self-test', () => {
  it('lock off: "Not protected", one failed check naming the fix, no probe sent', async () => {
    const f = fakes();
    const r = await runSelfTest(input({ state: 'off' }), f.deps);
    expect(r.ok).toBe(false);
    expect(r.checks).toEqual([expect.objectContaining({ name: 'lock', ok: false, fix: expect.stringContaining('tunlock lock on') })]);
    expect(f.calls).toEqual([]);
    expect(SelfTestResult.safeParse(r).success).toBe(true);
  });

  it('protected: lock, kernel, escapes, endpoint and tunnel pass with evidence; probes run as the user, the endpoint as nobody', async () => {
    const f = fakes();
    const r = await runSelfTest(input(), f.deps);
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([['lock', true], ['kernel', true], ['escapes', true], ['endpoint', true], ['tunnel', true]]);
    expect(r.ok).toBe(true);
    expect(r.checks.find((c) => c.name === 'tunnel')!.evidence).toContain('10.64.0.1');
    expect(r.tunnelAddresses).toEqual(['10.64.0.2']);
    // v4 goes through the tunnel, so the v4 escape is the ping bound to the physical interface
    expect(f.calls).toContainEqual({ user: 1000, what: 'ping eth0 203.0.113.200' });
    expect(f.calls).toContainEqual({ user: 1000, what: 'udp 192.168.1.1:53' });
    expect(f.calls).toContainEqual({ user: 65534, what: 'udp 198.51.100.10:51820' });
    expect(f.calls).toContainEqual({ user: 65534, what: 'udp 198.51.100.10:51821' });
    expect(f.calls.some((c) => c.what === 'udp 203.0.113.200:9')).toBe(false);
    expect(r.notes.join(' ')).toMatch(/IPv6 is present on eth0/);
    expect(r.notes.join(' ')).toMatch(/192\.168\.1\.1 is configured outside the tunnel/);
  });

  it('blocking: no tunnel check, direct v4 probes too', async () => {
    const f = fakes({ routeDevice: async () => 'eth0' });
    const r = await runSelfTest(input({ state: 'blocking', tunnelsUp: [] }), f.deps);
    expect(r.checks.map((c) => c.name)).toEqual(['lock', 'kernel', 'escapes', 'endpoint']);
    expect(r.ok).toBe(true);
    expect(f.calls.some((c) => c.what === 'tcp 203.0.113.200:9')).toBe(true);
  });

  it('a probe that left fails "escapes" and names it', async () => {
    const f = fakes({ leak: (host) => host === '192.168.1.1' });
    const r = await runSelfTest(input(), f.deps);
    const c = r.checks.find((x) => x.name === 'escapes')!;
    expect(c.ok).toBe(false);
    expect(c.evidence).toMatch(/not refused by the lock: dns udp 192\.168\.1\.1:53 → sent/);
    expect(c.fix).toBeDefined();
    expect(r.ok).toBe(false);
  });

  it('an endpoint open to an unprivileged program fails "endpoint"', async () => {
    const f = fakes({ leak: (host, port) => host === '198.51.100.10' && port === 51820 });
    const r = await runSelfTest(input(), f.deps);
    expect(r.checks.find((x) => x.name === 'endpoint')).toMatchObject({ ok: false, fix: expect.stringContaining('endpoint') });
  });

  it('a refusal our counter did not see is not ours (another firewall): fails', async () => {
    const f = fakes();
    f.deps.blockedOut = async () => 0;
    const r = await runSelfTest(input(), f.deps);
    expect(r.checks.find((x) => x.name === 'escapes')).toMatchObject({ ok: false, evidence: expect.stringMatching(/counter moved by 0/) });
    expect(r.checks.find((x) => x.name === 'endpoint')).toMatchObject({ ok: false, evidence: expect.stringMatching(/^refused, but not by tunlock's rules/) });
  });

  it('a bound ping with no reply passes only when our counter moved during it alone', async () => {
    let n = 0;
    const f = fakes({ ping: async () => ({ outcome: 'sent', detail: 'no answer' }), blockedOut: async () => n });
    const silent = await runSelfTest(input({ state: 'blocking', tunnelsUp: [], resolvers: [] }), { ...f.deps, routeDevice: async (h) => (h.includes(':') ? null : 'eth0'), sockets: (_u, specs) => ({ results: async () => specs.map(() => (n++, { outcome: 'dropped', detail: 'EPERM' })), cancel: () => undefined }) });
    expect(silent.checks.find((x) => x.name === 'escapes')!.evidence).toMatch(/icmp4 bound to eth0 → sent/);
    expect(silent.ok).toBe(false);
  });

  it('the kernel check fails the test with a fix', async () => {
    const f = fakes({ kernel: async () => ({ ok: false, evidence: '1 change by another program since the last test' }) });
    const r = await runSelfTest(input(), f.deps);
    expect(r.checks.find((x) => x.name === 'kernel')).toMatchObject({ ok: false, fix: expect.any(String) });
  });

  it('an unanswered tunnel probe is asked once more (routers rate-limit "time exceeded")', async () => {
    const f = fakes();
    const ping = f.deps.ping;
    let tries = 0;
    f.deps.ping = async (u, fam, iface, host) => (iface === 'wg0' && ++tries === 1 ? { outcome: 'sent', detail: 'no answer' } : ping(u, fam, iface, host));
    const r = await runSelfTest(input(), f.deps);
    expect(r.checks.find((x) => x.name === 'tunnel')!.ok).toBe(true);
    expect(tries).toBe(2);
  });

  it('an up tunnel that carries nothing fails "tunnel"', async () => {
    const f = fakes();
    const ping = f.deps.ping;
    f.deps.ping = async (u, fam, iface, host) => (iface === 'wg0' ? { outcome: 'sent', detail: 'no answer' } : ping(u, fam, iface, host));
    const r = await runSelfTest(input(), f.deps);
    expect(r.checks.find((x) => x.name === 'tunnel')).toMatchObject({ ok: false, fix: expect.stringContaining('reconnect') });
  });

  it('an open portal hole for this user: DNS to its resolver is not probed, and the note says why', async () => {
    const f = fakes();
    const r = await runSelfTest(input({ state: 'exception', tunnelsUp: [], captiveUid: 1000 }), f.deps);
    expect(f.calls.some((c) => c.what.endsWith(':53'))).toBe(false);
    expect(r.notes.join(' ')).toMatch(/login hole allows it/);
  });
});

describe('classifyPing', () => {
  it.each([
    ['From 10.64.0.1 icmp_seq=1 Time to live exceeded', 'sent', '10.64.0.1'],
    ['From 2001:db8:1::1 icmp_seq=1 Time exceeded: Hop limit', 'sent', '2001:db8:1::1'],
    ['64 bytes from 203.0.113.200: icmp_seq=1 ttl=1', 'connected', undefined],
    ['ping: sendmsg: Operation not permitted', 'dropped', undefined],
    ['From 2001:db8:77::10 icmp_seq=1 Destination unreachable: Administratively prohibited', 'refused', undefined],
    ['ping: connect: Network is unreachable', 'no-route', undefined],
    ['1 packets transmitted, 0 received, 100% packet loss', 'sent', undefined],
  ])('%s → %s', (out, outcome, hop) => {
    const r = classifyPing(`PING x (x) from 192.168.1.2 eth0: 56(84) bytes of data.\n${out}\n`);
    expect(r.outcome).toBe(outcome);
    expect(r.hop).toBe(hop);
  });
});

describe('table content against the guard copy', () => {
  const main = `table inet tunlock {
\tset tunnels {
\t\ttype ifname
\t\telements = { "wg0" }
\t}
\tcounter blocked_out {
\t\tpackets 12 bytes 900
\t}
\tchain output {
\t\ttype filter hook output priority filter; policy drop;
\t\toifname "lo" accept
\t\tcounter name "blocked_out" reject with icmpx admin-prohibited
\t}
}
`;
  const guard = main.replace('table inet tunlock {', 'table inet tunlock_guard {\n\tflags owner').replace('packets 12 bytes 900', 'packets 0 bytes 0');

  it('the same rules, whatever the counters and the owner flag', () => {
    expect(guardDifference(main, guard)).toBeNull();
  });

  it('a replaced rule is named', () => {
    const tampered = main.replace('counter name "blocked_out" reject with icmpx admin-prohibited', 'accept');
    expect(guardDifference(tampered, guard)).toBe('kernel has "accept" where tunlockd\'s guard copy has "counter name "blocked_out" reject with icmpx admin-prohibited"');
  });

  it('an added element is named', () => {
    expect(guardDifference(main.replace('{ "wg0" }', '{ "wg0", "eth0" }'), guard)).toMatch(/"eth0"/);
  });

  it('our input chain is not in the guard (only what leaves is guarded): compared by structure only', () => {
    const withInput = main.replace('\tchain output {', '\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\tiifname "lo" accept\n\t}\n\tchain output {');
    expect(guardDifference(withInput, guard)).toBeNull();
    expect(guardDifference(withInput.replace('oifname "lo" accept', 'accept'), guard)).toMatch(/kernel has "accept"/);
  });

  const post = '\tchain postrouting {\n\t\ttype filter hook postrouting priority filter; policy drop;\n\t\toifname @tunnels accept\n\t\tcounter name "blocked_out" drop\n\t}\n';
  const lock = main.replace(/\}\n$/, `${post}}\n`);

  it('a lock: the guard copy is postrouting alone; a change there is named, output is left to the structure check', () => {
    const share = guardShare(lock.split('\n'));
    expect(share.join('\n')).not.toContain('chain output');
    expect(share.join('\n')).toContain('chain postrouting');
    const lockGuard = share.join('\n').replace('table inet tunlock {', 'table inet tunlock_guard {\n\tflags owner');
    expect(guardDifference(lock, lockGuard)).toBeNull();
    expect(guardDifference(lock.replace('counter name "blocked_out" drop', 'accept'), lockGuard)).toMatch(/kernel has "accept"/);
    // A guard that lost postrouting (or still has the output chain) is not the guard of this table.
    expect(guardDifference(lock, guard)).not.toBeNull();
  });

  it('a lock with a binding keeps output (and the binding chain) in the guard copy', () => {
    const bound = lock.replace('\t\toifname "lo" accept', '\t\toifname "lo" accept\n\t\tmeta skuid 109 jump bind_0');
    const withChain = bound.replace(/\}\n$/, '\tchain bind_0 {\n\t\toifname @tunnels accept\n\t}\n}\n');
    expect(guardShare(withChain.split('\n'))).toEqual(withChain.split('\n'));
  });

  it('handles and expiry times are not content', () => {
    expect(normalizeListing('table x {\n\tchain o { # handle 3\n\t\telements = { "a" timeout 2m expires 1m59s }\n}')).toEqual(['\tchain o {', '\t\telements = { "a" timeout 2m }', '}']);
  });
});

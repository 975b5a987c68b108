// Lab baseline: with NO kill switch, the lab must see leaks. These prove the capture and the probes can
// detect every kind of leak, so a zero-leak run with the kill switch later means something.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Lab, labSkip } from './fixture/lab';
import type { ProbeKind, ProbeResult } from './fixture/probes';
import { describeProbes } from './fixture/probes';
import { ADDR, VIA_LEAK4, VIA_LEAK6, VIA_TUNNEL } from './fixture/topology';

const skip = labSkip('lab-baseline');

/** IPv4 probes to the fake internet (through the tunnel when it is up). */
const INET4: ProbeKind[] = ['tcp4:80', 'tcp4:443', 'tcp4:8080', 'udp4', 'icmp4', 'dns-isp', 'dns-isp-tcp'];
const INET6: ProbeKind[] = ['tcp6:80', 'tcp6:443', 'tcp6:8080', 'udp6', 'icmp6', 'dns6-isp'];

function expectVia(r: Record<string, ProbeResult>, kinds: ProbeKind[], via: string) {
  for (const k of kinds) expect(r[k], `${k}\n${describeProbes(r)}`).toMatchObject({ reached: true, via });
}

const WG_TO_ENDPOINT = new RegExp(`^\\S+ IP ${ADDR.client.lan4.replace(/\./g, '\\.')}\\.\\d+ > 198\\.51\\.100\\.10\\.51820: UDP`);

describe.skipIf(skip)('lab baseline (no kill switch): the lab sees leaks', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.create({ container: true });
  });
  afterAll(async () => {
    await lab?.destroy();
  });
  // Every test starts with the tunnel up and the lab's own NAT in place, whatever ran before it.
  beforeEach(async () => {
    if (lab.vpnPid === undefined || !(await lab.tunnelExists())) await lab.restoreTunnel();
    await lab.restoreLabFirewall();
  });

  it('sets up (setup time printed as a measurement)', () => {
    console.info(`lab setup: ${lab.setupMs} ms`);
    expect(lab.setupMs).toBeGreaterThan(0);
  });

  it('tunnel up: IPv4 reaches the sink via the VPN server and only WireGuard is on the wire', async () => {
    const leaks = await lab.capture();
    const wire = await lab.capture({ filter: 'all' });
    const r = await lab.probeAll({ kinds: INET4 });
    const leaked = await leaks.stop();
    const all = await wire.stop();
    expectVia(r, INET4, VIA_TUNNEL);
    expect(leaked, leaked.join('\n')).toEqual([]);
    // The unfiltered capture does see the tunnel's own packets: the filter hides exactly those.
    expect(all.filter((l) => WG_TO_ENDPOINT.test(l)).length).toBeGreaterThanOrEqual(INET4.length);
    // Everything else the client sent is ARP or ICMPv6 neighbour discovery.
    const other = all.filter((l) => !WG_TO_ENDPOINT.test(l) && !/ ARP, | ICMP6, (neighbor|router) /.test(l));
    expect(other, other.join('\n')).toEqual([]);
  });

  it('tunnel up: the container behind the client goes through the VPN too', async () => {
    const cap = await lab.capture();
    const r = await lab.probeAll({ from: 'container', kinds: INET4 });
    const leaked = await cap.stop();
    expectVia(r, INET4, VIA_TUNNEL);
    expect(leaked, leaked.join('\n')).toEqual([]);
  });

  it('tunnel up: IPv6 bypasses the IPv4-only tunnel — a real leak the capture sees', async () => {
    const cap = await lab.capture();
    const r = await lab.probeAll({ kinds: INET6 });
    const leaked = await cap.stop();
    expectVia(r, INET6, VIA_LEAK6);
    const text = leaked.join('\n');
    for (const re of [
      /IP6 2001:db8:77::10\.\d+ > 2001:db8:ffff::10\.80: Flags \[S\]/,
      /IP6 2001:db8:77::10\.\d+ > 2001:db8:ffff::10\.443: Flags \[S\]/,
      /IP6 2001:db8:77::10\.\d+ > 2001:db8:ffff::10\.5000: UDP/,
      /IP6 2001:db8:77::10 > 2001:db8:ffff::10: ICMP6, echo request/,
      /IP6 2001:db8:77::10\.\d+ > 2001:db8:ffff::53\.53: .*AAAA\? t-/,
    ]) {
      expect(text).toMatch(re);
    }
  });

  it('tunnel up: LAN DNS, the printer and the endpoint on a wrong port are on the wire', async () => {
    const cap = await lab.capture();
    const r = await lab.probeAll({ kinds: ['dns-lan', 'dns-lan-tcp', 'printer-tcp', 'printer-udp', 'endpoint-tcp', 'endpoint-udp'] });
    const leaked = await cap.stop();
    expectVia(r, ['dns-lan', 'dns-lan-tcp', 'printer-tcp', 'printer-udp'], ADDR.client.lan4);
    expectVia(r, ['endpoint-tcp', 'endpoint-udp'], VIA_LEAK4);
    const text = leaked.join('\n');
    expect(text).toMatch(/IP 192\.168\.77\.10\.\d+ > 192\.168\.77\.1\.53: \d+\+ A\? t-/);
    expect(text).toMatch(/IP 192\.168\.77\.10\.\d+ > 192\.168\.77\.1\.53: Flags \[S\]/);
    expect(text).toMatch(/IP 192\.168\.77\.10\.\d+ > 192\.168\.77\.20\.9100: Flags \[S\]/);
    expect(text).toMatch(/IP 192\.168\.77\.10\.\d+ > 192\.168\.77\.20\.9100: UDP/);
    // Only UDP to 198.51.100.10:51820 is excluded from the leak capture, not the endpoint IP as a whole.
    expect(text).toMatch(/IP 192\.168\.77\.10\.\d+ > 198\.51\.100\.10\.51820: Flags \[S\]/);
    expect(text).toMatch(/IP 192\.168\.77\.10\.\d+ > 198\.51\.100\.10\.51821: UDP/);
  });

  it('VPN process SIGKILLed: traffic falls back to the physical route and the capture sees the leaks', async () => {
    await lab.killVpn();
    expect(await lab.tunnelExists()).toBe(false);
    const cap = await lab.capture();
    const r = await lab.probeAll({ kinds: INET4 });
    const rc = await lab.probeAll({ from: 'container', kinds: ['tcp4:443', 'udp4', 'dns-isp'] });
    const leaked = await cap.stop();
    expectVia(r, INET4, VIA_LEAK4);
    expectVia(rc, ['tcp4:443', 'udp4', 'dns-isp'], VIA_LEAK4);
    const text = leaked.join('\n');
    for (const re of [
      /IP 192\.168\.77\.10\.\d+ > 203\.0\.113\.10\.80: Flags \[S\]/,
      /IP 192\.168\.77\.10\.\d+ > 203\.0\.113\.10\.443: Flags \[S\]/,
      /IP 192\.168\.77\.10\.\d+ > 203\.0\.113\.10\.8080: Flags \[S\]/,
      /IP 192\.168\.77\.10\.\d+ > 203\.0\.113\.10\.5000: UDP/,
      /IP 192\.168\.77\.10 > 203\.0\.113\.10: ICMP echo request/,
      /IP 192\.168\.77\.10\.\d+ > 203\.0\.113\.53\.53: \d+\+ A\? t-/,
      /IP 192\.168\.77\.10\.\d+ > 203\.0\.113\.53\.53: Flags \[S\]/,
    ]) {
      expect(text).toMatch(re);
    }
  });

  it('tunnel restored: back through the VPN, nothing leaks', async () => {
    await lab.restoreTunnel();
    const cap = await lab.capture();
    const r = await lab.probeAll({ kinds: INET4 });
    const leaked = await cap.stop();
    expectVia(r, INET4, VIA_TUNNEL);
    expect(leaked, leaked.join('\n')).toEqual([]);
  });

  it('tunnel interface deleted: leaks again; restore works after that too', async () => {
    await lab.deleteTunnel();
    expect(lab.vpnPid).toBeUndefined(); // wireguard-go exits when its interface goes away
    const cap = await lab.capture();
    const r = await lab.probeAll({ kinds: ['tcp4:443', 'udp4', 'dns-isp'] });
    const leaked = await cap.stop();
    expectVia(r, ['tcp4:443', 'udp4', 'dns-isp'], VIA_LEAK4);
    expect(leaked.length).toBeGreaterThan(0);
    await lab.restoreTunnel();
    const back = await lab.probe('tcp4:443');
    expect(back).toMatchObject({ reached: true, via: VIA_TUNNEL });
  });

  it('restoreLabFirewall brings the container NAT back after a ruleset flush', async () => {
    await lab.exec('client', 'nft', ['flush', 'ruleset']);
    const broken = await lab.probe('tcp4:443', { from: 'container' });
    expect(broken.reached).toBe(false);
    await lab.restoreLabFirewall();
    expect(await lab.probe('tcp4:443', { from: 'container' })).toMatchObject({ reached: true, via: VIA_TUNNEL });
  });

  it('blocked probes are bounded: each ends by its own timeout or a kernel refusal', async () => {
    // Nothing listens on 203.0.113.99 (routed, no host): every probe must end on its own.
    const t0 = Date.now();
    const r = await lab.probeMany(
      [
        { proto: 'tcp', host: '203.0.113.99', port: 80 },
        { proto: 'udp', host: '203.0.113.99', port: 5000, svc: 'sink' },
        { proto: 'dns', host: '203.0.113.99' },
        { proto: 'icmp', host: '203.0.113.99' },
      ],
      { timeoutMs: 1000 },
    );
    // Each one ended by its own timer ("timeout") or a refusal from the kernel, and says which: never by the
    // test's timeout. How long they took is printed, not asserted (timing belongs to the bench).
    for (const p of r) expect(p, p.kind).toMatchObject({ reached: false, answered: false, error: expect.stringMatching(/\S/) });
    console.info(`4 blocked probes (timeout 1000 ms each, in parallel) took ${Date.now() - t0} ms: ${r.map((p) => p.error).join(', ')}`);
  });
});

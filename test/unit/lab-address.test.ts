// The namespace fixture puts only addresses on lab interfaces that can never be a real host: documentation,
// benchmarking (RFC 2544), private, loopback and link-local ranges (host/src/process/netns-fixture.ts).
import { describe, expect, it } from 'vitest';
import { isLabAddress } from '../../host/src/process/netns-fixture.js';

describe('isLabAddress', () => {
  it('accepts the documentation, private, loopback and link-local ranges the lab uses', () => {
    for (const a of ['192.0.2.1/24', '198.51.100.10', '203.0.113.53/32', '198.18.0.1/24', '198.19.255.1', '10.64.0.2/32', '192.168.77.10/24', '172.17.0.1/16', '172.31.255.1', '127.0.0.2', '169.254.1.1', '2001:db8:77::10/64', '2001:DB8::1', 'fd00::1/64', 'fe80::1', '::1']) {
      expect(isLabAddress(a), a).toBe(true);
    }
  });
  it('refuses anything that could be a real host', () => {
    for (const a of ['8.8.8.8/32', '192.0.3.1', '198.51.101.1', '203.0.114.1', '198.20.0.1', '198.17.0.1', '172.32.0.1', '172.15.0.1', '11.0.0.1', '100.64.0.1', '2606:4700::1111', '2001:db9::1', 'fe8::1', '::']) {
      expect(isLabAddress(a), a).toBe(false);
    }
  });
});

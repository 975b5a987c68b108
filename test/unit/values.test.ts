import { describe, expect, it } from 'vitest';
import { formatEndpoint, parseAddress, parseCidr, parseEndpoint, parseIfname, parseId, parsePort, ValueError } from '../../host/src/net/values.js';

describe('parseIfname', () => {
  it.each(['wg0', 'tun0', 'eth0.100', 'wg-mullvad', 'a', 'abcdefghijklmno'])('accepts %s', (name) => {
    expect(parseIfname(name)).toBe(name);
  });
  it.each(['', 'abcdefghijklmnop', 'wg0;', 'wg 0', 'wg0"', '.', '..', '-wg', 'wg0\n', 'wg/0', 'é', '$(reboot)', '"lo"'])(
    'rejects %j',
    (name) => {
      expect(() => parseIfname(name)).toThrow(ValueError);
    },
  );
});

describe('parseAddress', () => {
  it('canonicalises IPv4 and IPv6', () => {
    expect(parseAddress('198.51.100.10')).toEqual({ family: 4, text: '198.51.100.10' });
    expect(parseAddress('2001:DB8:0:0:0:0:0:1').text).toBe('2001:db8::1');
    expect(parseAddress('[2001:db8::1]').text).toBe('2001:db8::1');
    expect(parseAddress('2001:db8:0:1:0:0:0:0').text).toBe('2001:db8:0:1::');
    expect(parseAddress('::ffff:192.0.2.1').text).toBe('::ffff:c000:201');
    expect(parseAddress('1:0:0:2:0:0:0:3').text).toBe('1:0:0:2::3');
  });
  it.each(['', '1.2.3', '256.1.1.1', '1.2.3.4.5', '01.2.3.4x', 'fe80::1%eth0', 'example.com', '1.2.3.4/24', ':::', '1.2.3.4 '])(
    'rejects %j',
    (text) => {
      expect(() => parseAddress(text)).toThrow(ValueError);
    },
  );
});

describe('parseCidr', () => {
  it('clears host bits and defaults to a host prefix', () => {
    expect(parseCidr('192.168.1.77/16').text).toBe('192.168.0.0/16');
    expect(parseCidr('10.1.2.3').text).toBe('10.1.2.3/32');
    expect(parseCidr('2001:db8::1/32').text).toBe('2001:db8::/32');
    expect(parseCidr('0.0.0.0/0').text).toBe('0.0.0.0/0');
  });
  it.each(['10.0.0.0/33', '2001:db8::/129', '10.0.0.0/-1', '10.0.0.0/', '10.0.0.0/8/8', 'x/8'])('rejects %j', (t) => {
    expect(() => parseCidr(t)).toThrow(ValueError);
  });
});

describe('parsePort and parseId', () => {
  it('accepts 1-65535 only', () => {
    expect(parsePort('51820')).toBe(51820);
    for (const bad of ['0', '65536', '-1', '1e3', ' 80', '80a', '']) expect(() => parsePort(bad)).toThrow(ValueError);
  });
  it('accepts kernel ids but not -1', () => {
    expect(parseId(1000)).toBe(1000);
    expect(() => parseId(4294967295)).toThrow(ValueError);
    expect(() => parseId('-1')).toThrow(ValueError);
  });
});

describe('parseEndpoint', () => {
  it('parses v4, bracketed v6 and the protocol (udp by default)', () => {
    expect(formatEndpoint(parseEndpoint('198.51.100.10:51820'))).toBe('198.51.100.10:51820/udp');
    expect(formatEndpoint(parseEndpoint('[2001:DB8::10]:443/tcp'))).toBe('[2001:db8::10]:443/tcp');
  });
  it.each(['198.51.100.10', '198.51.100.10:0', '2001:db8::1:443', '[2001:db8::1]', 'host:80/udp', '1.2.3.4:80/sctp', '1.2.3.4:80/udp ', '[1.2.3.4]:80'])(
    'rejects %j',
    (t) => {
      expect(() => parseEndpoint(t)).toThrow(ValueError);
    },
  );
});

// The pure address parser (net/values.ts) against Node's own: the daemon used node:net until the protocol had
// to run in the browser, so the pure parser must accept exactly what node:net accepts (zones aside: an address
// in a rule has none) and print the same canonical text as the WHATWG URL parser (RFC 5952).
import fc from 'fast-check';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseAddress, parseCidr } from '../../host/src/net/values.js';

/** What the parser accepted when it was built on node:net (brackets stripped, dotted quads only, no zone). */
function nodeAccepts(text: string): 4 | 6 | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(bare) && /^\d{1,3}(\.\d{1,3}){3}$/.test(bare)) return 4;
  if (isIPv6(bare) && !bare.includes('%')) return 6;
  return null;
}

function pureAccepts(text: string): 4 | 6 | null {
  try {
    return parseAddress(text).family;
  } catch {
    return null;
  }
}

/** RFC 5952 text as the URL parser writes it (embedded IPv4 becomes two hex groups, as ours). */
function urlCanonical(v6: string): string {
  return new URL(`http://[${v6}]/`).hostname.slice(1, -1);
}

const TABLE = [
  '0.0.0.0', '255.255.255.255', '1.2.3.4', '01.2.3.4', '1.2.3.256', '1.2.3', '1.2.3.4.5', '1..2.3', ' 1.2.3.4', '1.2.3.4\n',
  '0x1.2.3.4', '1e1.2.3.4', '+1.2.3.4', '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
  '1:2:3:4::5:6:7:8', '1:2:3:4:5:6:7:8:9', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:', ':::', '1:::2', '1::2::3', '12345::',
  '::ffff:1.2.3.4', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5::1.2.3.4', '1:2:3:4:5:6::1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4',
  '::ffff:01.2.3.4', '::ffff:1.2.3', '1.2.3.4::', '::1.2.3.4:1', 'fe80::1%eth0', '[::1]', '[1.2.3.4]', '[::1', 'FFFF::ABCD',
  '2001:db8:0:0:1:0:0:1', '2001:0db8:0000:0000:0000:0000:0000:0001', '0:0:0:0:0:0:0:0', 'g::1', '', '[]', ':', '.',
];

describe('pure address parser agrees with node:net', () => {
  it.each(TABLE)('%j: same verdict, canonical text', (text) => {
    const family = nodeAccepts(text);
    expect(pureAccepts(text)).toBe(family);
    if (family === 6) expect(parseAddress(text).text).toBe(urlCanonical(text.replace(/^\[|\]$/g, '')));
    if (family === 4) expect(parseAddress(text).text).toBe(text.replace(/^\[|\]$/g, ''));
  });

  it('on well-formed addresses of every shape (fast-check ipV4/ipV6)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), (text) => {
        const family = nodeAccepts(text);
        expect(pureAccepts(text)).toBe(family);
        if (family === 6) expect(parseAddress(text).text).toBe(urlCanonical(text));
        if (family === 6) expect(parseAddress(text.toUpperCase()).text).toBe(urlCanonical(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('on arbitrary strings from the address alphabet', () => {
    const chars = fc.constantFrom(...'0123456789abcdefABCDEFx:.:.::[]%g '.split(''));
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 42 }), (text) => {
        expect(pureAccepts(text)).toBe(nodeAccepts(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('on near-misses of valid addresses (one character changed, added or removed)', () => {
    const mutate = fc.tuple(fc.oneof(fc.ipV4(), fc.ipV6()), fc.nat(), fc.constantFrom(...'0:.f:1.'.split('')), fc.constantFrom('replace', 'insert', 'delete'));
    fc.assert(
      fc.property(mutate, ([text, at, ch, how]) => {
        const i = at % (text.length + 1);
        const t = how === 'replace' ? text.slice(0, i) + ch + text.slice(i + 1) : how === 'insert' ? text.slice(0, i) + ch + text.slice(i) : text.slice(0, i) + text.slice(i + 1);
        expect(pureAccepts(t)).toBe(nodeAccepts(t));
      }),
      { numRuns: 20_000 },
    );
  });

  it('parseCidr: the network holds the address, has no host bits, and is stable', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })), fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 }))), ([addr, len]) => {
        const c = parseCidr(`${addr}/${len}`);
        const [network, prefix] = c.text.split('/') as [string, string];
        expect(Number(prefix)).toBe(len);
        const family = c.family === 4 ? 'ipv4' : 'ipv6';
        const block = new BlockList();
        block.addSubnet(network, len, family);
        expect(block.check(parseAddress(addr).text, family)).toBe(true);
        expect(parseCidr(c.text)).toEqual(c);
        expect(parseCidr(`${network}/${len}`).text).toBe(c.text);
        if (c.family === 6) expect(network).toBe(urlCanonical(network));
      }),
      { numRuns: 3000 },
    );
  });
});

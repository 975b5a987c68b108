// The nft backend's verdict on a read-back (nft-verify.ts): what the kernel holds against what the last apply
// wrote, with a difference a person can read. Shape and element parsing are tested in parsers.test.ts.
import { describe, expect, it } from 'vitest';
import type { Expected, Observed } from '../../host/src/firewall/nft-verify.js';
import { differenceFromApplied, isLockShape } from '../../host/src/firewall/nft-verify.js';

const content = '\tchain output {\n\t\ttype filter hook output priority filter; policy drop;\n\t\toifname "lo" accept\n\t}';
const shape = { chains: { output: { policy: 'drop' as const, rules: 1 } }, sets: { tunnels: 1, captive_web: 1 }, counters: ['blocked_out'] };
const want: Expected = { shape, content, elements: { tunnels: ['wg0'], captive_web: ['eth0 . 1000'] } };
const observed = (over: Partial<Observed> = {}): Observed => ({
  shape: structuredClone(shape),
  content,
  elements: { tunnels: ['wg0'], captive_web: ['eth0 . 1000'] },
  counters: { blocked_out: 3 },
  guarded: true,
  found: true,
  ...over,
});

describe('differenceFromApplied', () => {
  it('none when the kernel holds what was applied (counters may move)', () => {
    expect(differenceFromApplied(want, observed({ counters: { blocked_out: 99 } }))).toBeNull();
  });

  it('a verdict swapped in a rule keeps every count: named by its line', () => {
    const swapped = observed({ content: content.replace('oifname "lo" accept', 'accept') });
    expect(differenceFromApplied(want, swapped)).toBe('kernel has "accept" where tunlockd applied "oifname "lo" accept"');
  });

  it('an element someone added is named; an expired captive element is not a difference', () => {
    expect(differenceFromApplied(want, observed({ elements: { tunnels: ['eth0'], captive_web: ['eth0 . 1000'] } }))).toBe('set tunnels holds eth0, which tunlockd did not put there');
    expect(differenceFromApplied(want, observed({ elements: { tunnels: ['wg0'], captive_web: [] }, shape: { ...shape, sets: { tunnels: 1, captive_web: 0 } } }))).toBeNull();
  });

  it('a table removed, or one where none should be, differs in shape', () => {
    expect(differenceFromApplied(want, null)).toMatch(/^the kernel differs from the rules tunlockd applied: want .*, kernel has null$/);
    expect(differenceFromApplied({ shape: null, content: null, elements: null }, observed())).toMatch(/want null/);
    expect(differenceFromApplied({ shape: null, content: null, elements: null }, null)).toBeNull();
  });
});

describe('isLockShape', () => {
  it('only input, output and forward all dropping by default is a lock', () => {
    const lock = { chains: { input: { policy: 'drop' as const, rules: 0 }, output: { policy: 'drop' as const, rules: 0 }, forward: { policy: 'drop' as const, rules: 0 } }, sets: {}, counters: [] };
    expect(isLockShape(lock)).toBe(true);
    expect(isLockShape({ ...lock, chains: { ...lock.chains, forward: { policy: 'accept', rules: 0 } } })).toBe(false);
    expect(isLockShape({ ...lock, chains: { output: lock.chains.output } })).toBe(false);
  });
});

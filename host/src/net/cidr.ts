// Arithmetic on canonical CIDRs (net/values.ts): containment, and the smallest list that covers a set of
// ranges. Two prefixes either nest or are disjoint, which keeps every operation here simple and exact.
import { addressValue } from './values.js';
import type { Cidr } from './values.js';

interface Span {
  family: 4 | 6;
  first: bigint;
  last: bigint;
}

function span(c: Cidr): Span {
  const [addr, lenText] = c.text.split('/') as [string, string];
  const bits = c.family === 4 ? 32 : 128;
  const len = BigInt(lenText);
  const value = addressValue({ family: c.family, text: addr });
  const size = 1n << (BigInt(bits) - len);
  return { family: c.family, first: value, last: value + size - 1n };
}

/** `outer` contains all of `inner` (a range contains itself). */
export function covers(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family) return false;
  const o = span(outer);
  const i = span(inner);
  return o.first <= i.first && i.last <= o.last;
}

/** The part of `a` inside `b`: the smaller of the two when they nest, else null. */
export function intersect(a: Cidr, b: Cidr): Cidr | null {
  if (covers(a, b)) return b;
  if (covers(b, a)) return a;
  return null;
}

/**
 * The same addresses with no range inside another and no duplicates, sorted by text (nft interval sets refuse
 * overlaps). One sort and one sweep: after sorting by start (widest first), a range is covered exactly when
 * it ends within the last range kept.
 */
export function withoutCovered(ranges: readonly Cidr[]): Cidr[] {
  const spans = [...new Map(ranges.map((r) => [r.text, r])).values()].map((r) => ({ r, ...span(r) }));
  spans.sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : a.last > b.last ? -1 : a.last < b.last ? 1 : 0));
  const kept: Cidr[] = [];
  let last: (typeof spans)[number] | null = null;
  for (const s of spans) {
    if (last && last.family === s.family && s.last <= last.last) continue;
    kept.push(s.r);
    last = s;
  }
  return kept.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}

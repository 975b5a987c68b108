// The memo behind every set's sorted elements (sorted-elements.ts): an answer it remembers or patches is
// always the answer a fresh sort gives, whatever edits come in between; a changed input is never served stale.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedElements, sortUnique } from '../../host/src/firewall/sorted-elements.js';

const many = (n: number, tag = '') => Array.from({ length: n }, (_, i) => `198.19.${i >> 8}.${i & 255}${tag} . udp . 51820 . 0`);

describe('SortedElements', () => {
  it('the same input again gives the same array, equal to a fresh sort', () => {
    const memo = new SortedElements();
    const items = many(10_000);
    const first = memo.sorted('s', items);
    expect(first).toEqual(sortUnique(items));
    expect(memo.sorted('s', [...items])).toBe(first);
  });

  it('one element more or less, anywhere: the patched answer equals a fresh sort, and the earlier answer is untouched', () => {
    const memo = new SortedElements();
    const items = many(2000);
    const first = memo.sorted('s', items);
    const copy = [...first];
    const added = [...items.slice(0, 700), '192.0.2.77 . udp . 51820 . 0', ...items.slice(700)];
    expect(memo.sorted('s', added)).toEqual(sortUnique(added));
    const removed = added.filter((_, i) => i !== 1500);
    expect(memo.sorted('s', removed)).toEqual(sortUnique(removed));
    expect(first).toEqual(copy);
  });

  it('a changed element at the same length is not served the old answer', () => {
    const memo = new SortedElements();
    const items = many(500);
    memo.sorted('s', items);
    const changed = items.map((e, i) => (i === 250 ? '203.0.113.9 . tcp . 443 . 0' : e));
    expect(memo.sorted('s', changed)).toEqual(sortUnique(changed));
    expect(memo.sorted('s', changed)).not.toContain(items[250]);
  });

  it('duplicates in the input are dropped, also when an edit adds one', () => {
    const memo = new SortedElements();
    const items = many(100);
    expect(memo.sorted('s', [...items, items[3]!])).toEqual(sortUnique(items));
    expect(memo.sorted('s', [...items, items[3]!, items[4]!])).toEqual(sortUnique(items));
    expect(memo.sorted('s', items)).toEqual(sortUnique(items));
    expect(memo.sorted('s', [...items, items[7]!])).toEqual(sortUnique(items));
  });

  it('slots are independent', () => {
    const memo = new SortedElements();
    expect(memo.sorted('a', ['b', 'a'])).toEqual(['a', 'b']);
    expect(memo.sorted('b', ['c'])).toEqual(['c']);
    expect(memo.sorted('a', ['b', 'a', 'd'])).toEqual(['a', 'b', 'd']);
  });

  it('a slot not used for a while is forgotten, and answered afresh', () => {
    const memo = new SortedElements();
    const first = memo.sorted('old', ['b', 'a']);
    for (let i = 0; i < 40; i++) memo.sorted(`s${i}`, [String(i)]);
    const again = memo.sorted('old', ['b', 'a']);
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });

  it('any sequence of edits (insertions, removals, replacements, duplicates) gives what a fresh sort gives', () => {
    // From 200 elements: most inputs hold no duplicates (the patched path), some do (sorted afresh).
    const element = fc.constantFrom(...many(200));
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), e: element }),
      fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 80 }) }),
      fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), e: element }),
      fc.record({ kind: fc.constant('reverse' as const) }),
    );
    fc.assert(
      fc.property(fc.array(element, { maxLength: 120 }), fc.array(edit, { maxLength: 30 }), (start, edits) => {
        const memo = new SortedElements();
        let items = start;
        const answers: [readonly string[], string[]][] = [];
        for (const ed of [null, ...edits]) {
          if (ed?.kind === 'insert') items = [...items.slice(0, ed.at % (items.length + 1)), ed.e, ...items.slice(ed.at % (items.length + 1))];
          if (ed?.kind === 'remove' && items.length) items = items.filter((_, i) => i < ed.at % items.length || i >= (ed.at % items.length) + ed.n);
          if (ed?.kind === 'replace' && items.length) items = items.map((e, i) => (i === ed.at % items.length ? ed.e : e));
          if (ed?.kind === 'reverse') items = [...items].reverse();
          const answer = memo.sorted('s', items);
          expect(answer).toEqual(sortUnique(items));
          answers.push([answer, [...answer]]);
        }
        // No answer was changed by a later call.
        for (const [answer, copy] of answers) expect(answer).toEqual(copy);
      }),
      { numRuns: 200 },
    );
  });
});

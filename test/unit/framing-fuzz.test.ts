// Property tests of the frame codec: random and mutated byte streams, random chunking. Invariants: the
// decoder never throws, never buffers more than one frame, decodes every intact frame exactly, and in resync
// mode recovers at the next frame boundary after any bad frame whose length prefix is intact.
// (node:assert inside the properties: vitest's expect costs more than the code under test.)
import { deepStrictEqual, ok } from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { Decoded } from '../../host/src/protocol/framing';
import { FrameDecoder, encodeFrame } from '../../host/src/protocol/framing';

const MAX = 256;

/** JSON as it comes back from a round trip (-0 → 0, no undefined). */
const jsonish = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

/** Cuts a buffer at random points. */
function chunked(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(data.subarray(last, p));
    last = p;
  }
  out.push(data.subarray(last));
  return out;
}

function decodeAll(d: FrameDecoder, chunks: Buffer[]): Decoded[] {
  const out: Decoded[] = [];
  for (const c of chunks) {
    out.push(...d.decode(c));
    ok(d.pending <= MAX + 4 + 3, `decoder holds ${d.pending} bytes`); // at most one frame (+ a partial header)
  }
  return out;
}

/** A segment of a stream: a good frame, or one kind of bad frame. */
type Segment =
  | { kind: 'good'; value: unknown }
  | { kind: 'oversized'; length: number }
  | { kind: 'notJson'; body: Buffer }
  | { kind: 'notUtf8'; body: Buffer };

const segment: fc.Arbitrary<Segment> = fc.oneof(
  { weight: 4, arbitrary: jsonish.filter((v) => JSON.stringify(v).length <= MAX).map((value) => ({ kind: 'good' as const, value })) },
  { weight: 1, arbitrary: fc.integer({ min: MAX + 1, max: MAX * 8 }).map((length) => ({ kind: 'oversized' as const, length })) },
  { weight: 1, arbitrary: fc.constantFrom('{', '', '[1,', 'nul', '"\\x"', '{"a":1}}', '01', 'NaN').map((t) => ({ kind: 'notJson' as const, body: Buffer.from(t) })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.uint8Array({ maxLength: 20 }), fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]))
      .map(([pre, bad]) => ({ kind: 'notUtf8' as const, body: Buffer.from([0x22, ...pre.filter((b) => b < 0x80 && b !== 0x22 && b !== 0x5c && b >= 0x20), ...bad, 0x22]) })),
  },
);

function encodeSegment(s: Segment): Buffer {
  switch (s.kind) {
    case 'good':
      return encodeFrame(s.value, MAX);
    case 'oversized': {
      const head = Buffer.alloc(4);
      head.writeUInt32LE(s.length, 0);
      return Buffer.concat([head, Buffer.alloc(s.length, 0x7b)]);
    }
    default: {
      const head = Buffer.alloc(4);
      head.writeUInt32LE(s.body.length, 0);
      return Buffer.concat([head, s.body]);
    }
  }
}

const cuts = fc.array(fc.nat(), { maxLength: 12 });

/** Pure noise, or noise behind plausible (small) length prefixes so bodies get decoded too. */
const randomStream = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
  fc
    .array(fc.tuple(fc.integer({ min: 0, max: MAX + 8 }), fc.uint8Array({ maxLength: 64 })), { maxLength: 8 })
    .map((parts) =>
      Buffer.concat(
        parts.flatMap(([length, body]) => {
          const head = Buffer.alloc(4);
          head.writeUInt32LE(length, 0);
          return [head, Buffer.from(body)];
        }),
      ),
    ),
);
const RUNS = { roundTrip: 15_000, resync: 25_000, random: 25_000, mutated: 25_000 };

describe('framing under fuzzing (90,000 cases)', () => {
  it(`round trip: any JSON values, any chunking, strict and resync (${RUNS.roundTrip} runs)`, () => {
    fc.assert(
      fc.property(fc.array(jsonish.filter((v) => JSON.stringify(v).length <= MAX), { maxLength: 8 }), cuts, (values, at) => {
        const stream = Buffer.concat(values.map((v) => encodeFrame(v, MAX)));
        for (const resync of [false, true]) {
          const d = new FrameDecoder(MAX, { resync });
          const got = decodeAll(d, chunked(stream, at));
          deepStrictEqual(got, values.map((value) => ({ ok: true, value })));
          ok(d.pending === 0);
        }
      }),
      { numRuns: RUNS.roundTrip },
    );
  }, 30_000);

  it(`resync: after any mix of bad frames every good frame still decodes, in order (${RUNS.resync} runs)`, () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 10 }), cuts, (segments, at) => {
        const stream = Buffer.concat(segments.map(encodeSegment));
        const d = new FrameDecoder(MAX, { resync: true });
        const got = decodeAll(d, chunked(stream, at));
        deepStrictEqual(
          got.map((g) => (g.ok ? { ok: true, value: g.value } : { ok: false })),
          segments.map((s) => (s.kind === 'good' ? { ok: true, value: s.value } : { ok: false })),
        );
        ok(d.pending === 0);
        // strict mode: the same good prefix, then exactly one error and nothing more
        const strict = new FrameDecoder(MAX);
        const firstBad = segments.findIndex((s) => s.kind !== 'good');
        const sgot = decodeAll(strict, chunked(stream, at)).filter((g, i, all) => g.ok || all.findIndex((x) => !x.ok) === i);
        ok(sgot.filter((g) => g.ok).length === (firstBad === -1 ? segments.length : firstBad));
        ok(sgot.filter((g) => !g.ok).length === (firstBad === -1 ? 0 : 1));
      }),
      { numRuns: RUNS.resync },
    );
  }, 30_000);

  it(`random bytes in random chunks: never throws, bounded memory (${RUNS.random} runs)`, () => {
    fc.assert(
      fc.property(randomStream, cuts, fc.boolean(), (bytes, at, resync) => {
        const d = new FrameDecoder(MAX, { resync });
        decodeAll(d, chunked(bytes, at));
      }),
      { numRuns: RUNS.random },
    );
  }, 30_000);

  it(`mutated valid streams (flipped, replaced, inserted, deleted bytes; truncation): never throws (${RUNS.mutated} runs)`, () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(jsonish.filter((v) => JSON.stringify(v).length <= MAX), { minLength: 1, maxLength: 6 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), cuts, fc.boolean(), (values, mutations, at, resync) => {
        let bytes = Buffer.concat(values.map((v) => encodeFrame(v, MAX)));
        for (const m of mutations) {
          const i = m.at % Math.max(1, bytes.length);
          if (m.op === 'flip' && bytes.length) bytes[i] = bytes[i]! ^ (1 << m.bit);
          else if (m.op === 'set' && bytes.length) bytes[i] = m.byte;
          else if (m.op === 'insert') bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from(m.bytes), bytes.subarray(i)]);
          else if (m.op === 'delete') bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + m.count)]);
          else if (m.op === 'truncate') bytes = bytes.subarray(0, i);
        }
        const d = new FrameDecoder(MAX, { resync });
        const got = decodeAll(d, chunked(bytes, at));
        // Whatever decodes is a JSON value (it came from JSON.parse of valid UTF-8).
        for (const g of got) if (g.ok) JSON.stringify(g.value);
      }),
      { numRuns: RUNS.mutated },
    );
  }, 30_000);
});

// The frame codec: 4-byte little-endian length + UTF-8 JSON, strict (daemon socket) and resync (tunlock-host).
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameError, encodeFrame } from '../../host/src/protocol/framing';

function frame(body: string | Buffer): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const head = Buffer.alloc(4);
  head.writeUInt32LE(b.length, 0);
  return Buffer.concat([head, b]);
}

function header(length: number): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(length, 0);
  return head;
}

describe('encodeFrame', () => {
  it('writes a little-endian length and UTF-8 JSON', () => {
    const f = encodeFrame({ a: 'é' }, 100);
    expect(f.readUInt32LE(0)).toBe(f.length - 4);
    expect(f.subarray(4).toString('utf8')).toBe('{"a":"é"}');
    expect([...f.subarray(0, 4)]).toEqual([10, 0, 0, 0]); // 'é' is 2 bytes: length counts bytes, not characters
  });

  it('refuses a value larger than the limit', () => {
    expect(() => encodeFrame('x'.repeat(100), 50)).toThrow(FrameError);
    expect(() => encodeFrame('x'.repeat(48), 50)).not.toThrow(); // 48 + 2 quotes = exactly 50
  });
});

describe('FrameDecoder (strict)', () => {
  it('decodes frames split at every possible point, including inside a multi-byte character', () => {
    const stream = Buffer.concat([encodeFrame({ id: 1, s: '🔒 tunlock' }, 1000), encodeFrame([1, 2, 3], 1000)]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder(1000);
      const a = d.push(stream.subarray(0, cut));
      const b = d.push(stream.subarray(cut));
      expect([...a.frames, ...b.frames]).toEqual([{ id: 1, s: '🔒 tunlock' }, [1, 2, 3]]);
      expect(a.error ?? b.error).toBeUndefined();
      expect(d.pending).toBe(0);
    }
  });

  it('decodes one byte at a time', () => {
    const d = new FrameDecoder(1000);
    const out: unknown[] = [];
    for (const byte of encodeFrame({ hello: 'world' }, 1000)) out.push(...d.push(Buffer.from([byte])).frames);
    expect(out).toEqual([{ hello: 'world' }]);
  });

  it('rejects an oversized frame from its header alone, before the body arrives', () => {
    const d = new FrameDecoder(10);
    const r = d.push(header(11));
    expect(r.error?.message).toMatch(/frame of 11 bytes exceeds the 10-byte limit/);
    expect(d.push(frame('1')).error?.message).toBe('stream already failed');
  });

  it('returns the frames before a bad one, then fails for good', () => {
    const d = new FrameDecoder(100);
    const r = d.push(Buffer.concat([frame('1'), frame('{'), frame('2')]));
    expect(r.frames).toEqual([1]);
    expect(r.error?.message).toBe('frame is not valid JSON');
    expect(d.pending).toBe(0);
  });

  it('rejects invalid UTF-8 (an overlong encoding, a lone surrogate, a stray continuation byte)', () => {
    for (const bad of [Buffer.from([0x22, 0xc0, 0xaf, 0x22]), Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), Buffer.from([0x22, 0x80, 0x22])]) {
      expect(new FrameDecoder(100).push(frame(bad)).error?.message).toBe('frame is not valid UTF-8');
    }
  });

  it('rejects an empty frame as not JSON', () => {
    expect(new FrameDecoder(100).push(header(0)).error?.message).toBe('frame is not valid JSON');
  });

  it('reports an unfinished frame as pending (a truncated stream)', () => {
    const d = new FrameDecoder(100);
    d.push(Buffer.concat([header(10), Buffer.from('{"a"')]));
    expect(d.pending).toBe(8);
    const e = new FrameDecoder(100);
    e.push(Buffer.from([1, 0]));
    expect(e.pending).toBe(2);
  });

  it('accepts a frame of exactly the limit', () => {
    const body = `"${'x'.repeat(98)}"`;
    expect(new FrameDecoder(100).push(frame(body)).frames).toEqual(['x'.repeat(98)]);
  });
});

describe('FrameDecoder (resync)', () => {
  it('reports each bad frame in order and goes on with the next', () => {
    const d = new FrameDecoder(100, { resync: true });
    const items = d.decode(Buffer.concat([frame('1'), frame('{'), frame(Buffer.from([0xff])), frame('2')]));
    expect(items.map((i) => (i.ok ? i.value : i.error.message))).toEqual([1, 'frame is not valid JSON', 'frame is not valid UTF-8', 2]);
  });

  it('skips an oversized body as it streams in, without buffering it', () => {
    const d = new FrameDecoder(10, { resync: true });
    const first = d.decode(Buffer.concat([header(1000), Buffer.alloc(300, 0x61)]));
    expect(first).toHaveLength(1);
    expect(first[0]!.ok).toBe(false);
    expect(d.pending).toBe(0);
    expect(d.decode(Buffer.alloc(600, 0x61))).toEqual([]);
    expect(d.pending).toBe(0);
    // the last 100 bytes of the oversized body, then a good frame in the same chunk
    const rest = d.decode(Buffer.concat([Buffer.alloc(100, 0x61), frame('[true]')]));
    expect(rest).toEqual([{ ok: true, value: [true] }]);
  });

  it('skips an oversized frame whose body arrived in the same chunk', () => {
    const d = new FrameDecoder(4, { resync: true });
    const items = d.decode(Buffer.concat([frame('"toolong"'), frame('7')]));
    expect(items.map((i) => i.ok)).toEqual([false, true]);
  });

  it('push() in resync mode returns every good frame and the first error', () => {
    const d = new FrameDecoder(100, { resync: true });
    const r = d.push(Buffer.concat([frame('{'), frame('1'), frame('}'), frame('2')]));
    expect(r.frames).toEqual([1, 2]);
    expect(r.error?.message).toBe('frame is not valid JSON');
  });
});

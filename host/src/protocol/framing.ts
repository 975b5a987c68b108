// The frame codec shared by native messaging (browser ↔ tunlock-host) and the daemon socket
// (tunlock-host/CLI ↔ tunlockd): a 4-byte little-endian length, then that many bytes of UTF-8 JSON.
// The decoder is incremental (bytes arrive in arbitrary chunks) and bounded (it never buffers more than one
// frame of at most maxBytes). Two policies for a bad frame (too large, not UTF-8, not JSON):
//   strict (default, the daemon socket): the stream ends with a FrameError; the peer is broken or hostile
//     and gets disconnected.
//   resync (tunlock-host's stdin): the length prefix still says where the next frame starts, and the browser
//     itself writes that prefix, so the bad frame is reported and skipped (an oversized body is discarded
//     as it streams in, never buffered) and decoding goes on.

export class FrameError extends Error {
  override name = 'FrameError';
}

export function encodeFrame(value: unknown, maxBytes: number): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  if (body.length > maxBytes) throw new FrameError(`frame of ${body.length} bytes exceeds the ${maxBytes}-byte limit`);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** One decoded frame, in stream order: its JSON value, or why it was rejected. */
export type Decoded = { ok: true; value: unknown } | { ok: false; error: FrameError };

export interface FrameDecoderOptions {
  /** skip bad frames and go on (see above) instead of failing the stream */
  resync?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class FrameDecoder {
  private buffered: Buffer[] = [];
  private size = 0;
  /** body bytes of an oversized frame still to discard (resync mode) */
  private skipping = 0;
  private failed = false;
  private readonly resync: boolean;

  constructor(
    private readonly maxBytes: number,
    options: FrameDecoderOptions = {},
  ) {
    this.resync = options.resync ?? false;
  }

  /**
   * Feeds bytes; returns the JSON values of every frame completed by them and, if a bad frame followed them,
   * the error (strict mode: after which the decoder accepts nothing more; resync mode: the first of the
   * errors — use decode() to see every one in order).
   */
  push(chunk: Buffer): { frames: unknown[]; error?: FrameError } {
    const frames: unknown[] = [];
    let error: FrameError | undefined;
    for (const d of this.decode(chunk)) {
      if (d.ok) frames.push(d.value);
      else {
        error ??= d.error;
        if (!this.resync) break;
      }
    }
    return error ? { frames, error } : { frames };
  }

  /** Feeds bytes; returns every frame they complete, good or bad, in stream order. */
  decode(chunk: Buffer): Decoded[] {
    const out: Decoded[] = [];
    if (this.failed) {
      out.push({ ok: false, error: new FrameError('stream already failed') });
      return out;
    }
    if (this.skipping > 0) {
      const dropped = Math.min(this.skipping, chunk.length);
      this.skipping -= dropped;
      chunk = chunk.subarray(dropped);
    }
    if (chunk.length) {
      this.buffered.push(chunk);
      this.size += chunk.length;
    }
    while (this.size >= 4 && !this.failed) {
      const length = this.header();
      if (length > this.maxBytes) {
        this.reject(out, `frame of ${length} bytes exceeds the ${this.maxBytes}-byte limit`);
        if (this.resync) {
          // Discard the body: what is already here now, the rest as it arrives.
          const here = Math.min(length, this.size - 4);
          this.drop(4 + here);
          this.skipping = length - here;
        }
        continue;
      }
      // Concatenate only once the whole frame is here: a large frame fed in small chunks stays linear.
      if (this.size < 4 + length) break;
      const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
      const body = all.subarray(4, 4 + length);
      const rest = all.subarray(4 + length);
      this.buffered = rest.length ? [rest] : [];
      this.size = rest.length;
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        this.reject(out, 'frame is not valid UTF-8');
        continue;
      }
      try {
        out.push({ ok: true, value: JSON.parse(text) });
      } catch {
        this.reject(out, 'frame is not valid JSON');
      }
    }
    return out;
  }

  /** Bytes of an unfinished frame (non-zero at end of stream means the last frame was truncated). */
  get pending(): number {
    return this.size;
  }

  /** The length prefix of the next frame (size >= 4). */
  private header(): number {
    if (this.buffered[0]!.length < 4) this.buffered = [Buffer.concat(this.buffered)];
    return this.buffered[0]!.readUInt32LE(0);
  }

  private drop(n: number): void {
    this.size -= n;
    while (n > 0) {
      const first = this.buffered[0]!;
      if (first.length > n) {
        this.buffered[0] = first.subarray(n);
        return;
      }
      this.buffered.shift();
      n -= first.length;
    }
  }

  private reject(out: Decoded[], message: string): void {
    out.push({ ok: false, error: new FrameError(message) });
    if (this.resync) return;
    this.failed = true;
    this.buffered = [];
    this.size = 0;
  }
}

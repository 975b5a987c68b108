// The frame codec shared by native messaging (browser ↔ tunlock-host) and the daemon socket
// (tunlock-host/CLI ↔ tunlockd): a 4-byte little-endian length, then that many bytes of UTF-8 JSON.
// The decoder is incremental (bytes arrive in arbitrary chunks) and strict: a length over the limit, bytes
// that are not UTF-8, or text that is not JSON end the stream with a FrameError, because after a bad frame
// the byte stream can no longer be trusted to be in sync.

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

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class FrameDecoder {
  private buffered: Buffer[] = [];
  private size = 0;
  private failed = false;

  constructor(private readonly maxBytes: number) {}

  /**
   * Feeds bytes; returns the JSON values of every frame completed by them and, if a bad frame followed them,
   * the error (after which the decoder accepts nothing more).
   */
  push(chunk: Buffer): { frames: unknown[]; error?: FrameError } {
    const frames: unknown[] = [];
    try {
      this.decodeInto(chunk, frames);
      return { frames };
    } catch (e) {
      if (e instanceof FrameError) return { frames, error: e };
      throw e;
    }
  }

  private decodeInto(chunk: Buffer, out: unknown[]): void {
    if (this.failed) throw new FrameError('stream already failed');
    this.buffered.push(chunk);
    this.size += chunk.length;
    for (;;) {
      if (this.size < 4) return;
      const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
      this.buffered = [all];
      const length = all.readUInt32LE(0);
      if (length > this.maxBytes) return this.fail(`frame of ${length} bytes exceeds the ${this.maxBytes}-byte limit`);
      if (this.size < 4 + length) return;
      const body = all.subarray(4, 4 + length);
      const rest = all.subarray(4 + length);
      this.buffered = rest.length ? [rest] : [];
      this.size = rest.length;
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        return this.fail('frame is not valid UTF-8');
      }
      try {
        out.push(JSON.parse(text));
      } catch {
        return this.fail('frame is not valid JSON');
      }
    }
  }

  /** Bytes of an unfinished frame (non-zero at end of stream means the last frame was truncated). */
  get pending(): number {
    return this.size;
  }

  private fail(message: string): never {
    this.failed = true;
    this.buffered = [];
    this.size = 0;
    throw new FrameError(message);
  }
}

// tunlock-host's stdio: frames in (bounded in flight, stdin paused while frames wait, a truncated last frame
// reported), frames out (never above native messaging's 1 MB).
import { describe, expect, it } from 'vitest';
import { BrowserInput } from '../../host/src/native-host/browser-input';
import { BrowserOutput } from '../../host/src/native-host/browser-output';
import type { ToBrowser } from '../../host/src/native-host/relay';
import { FrameDecoder, encodeFrame } from '../../host/src/protocol/framing';
import type { FrameError } from '../../host/src/protocol/framing';
import { MAX_MESSAGE_TO_BROWSER_BYTES } from '../../host/src/protocol/schema';
import { sampleStatus, settle } from './native-host-fakes';

function frames(...values: unknown[]): Buffer {
  return Buffer.concat(values.map((v) => encodeFrame(v, 1 << 20)));
}

class Sink {
  readonly seen: Array<unknown> = [];
  readonly release: Array<() => void> = [];
  handleFrame(raw: unknown): Promise<void> {
    this.seen.push(raw);
    return new Promise((r) => this.release.push(r));
  }
  frameError(e: FrameError): void {
    this.seen.push(`error: ${e.message}`);
  }
}

describe('BrowserInput', () => {
  it('keeps at most maxInFlight frames in the relay and pauses the input while others wait', async () => {
    const sink = new Sink();
    const flow: string[] = [];
    const input = new BrowserInput(sink, { pause: () => flow.push('pause'), resume: () => flow.push('resume') }, () => undefined, 3);
    input.push(frames(1, 2, 3, 4, 5));
    expect(sink.seen).toEqual([1, 2, 3]);
    expect(flow).toEqual(['pause']);
    sink.release.shift()!();
    await settle();
    expect(sink.seen).toEqual([1, 2, 3, 4]);
    sink.release.shift()!();
    await settle();
    expect(sink.seen).toEqual([1, 2, 3, 4, 5]);
    expect(flow).toEqual(['pause', 'resume']);
    let idle = false;
    void input.idle().then(() => (idle = true));
    await settle();
    expect(idle).toBe(false);
    for (const r of sink.release.splice(0)) r();
    await settle();
    expect(idle).toBe(true);
  });

  it('reports bad frames in order with the good ones, and a truncated last frame at the end', () => {
    const sink = new Sink();
    const input = new BrowserInput(sink, { pause: () => undefined, resume: () => undefined }, () => undefined, 100);
    const bad = Buffer.from([3, 0, 0, 0, 0x7b, 0x7b, 0x7b]);
    input.push(Buffer.concat([frames(1), bad, frames(2), Buffer.from([50, 0, 0, 0, 0x7b])]));
    input.end();
    expect(sink.seen).toEqual([1, 'error: frame is not valid JSON', 2, 'error: the last frame was truncated: the input ended after 5 bytes of it']);
  });

  it('a complete input reports nothing at the end', () => {
    const sink = new Sink();
    const input = new BrowserInput(sink, { pause: () => undefined, resume: () => undefined }, () => undefined);
    input.push(frames({ id: 1 }));
    input.end();
    expect(sink.seen).toEqual([{ id: 1 }]);
  });
});

describe('BrowserOutput', () => {
  const decode = (buf: Buffer): unknown[] => new FrameDecoder(MAX_MESSAGE_TO_BROWSER_BYTES).push(buf).frames;

  it('writes framed messages', () => {
    const out: Buffer[] = [];
    new BrowserOutput((f) => out.push(f), () => undefined).send({ id: 1, ok: true, result: sampleStatus() });
    expect(decode(Buffer.concat(out))).toEqual([{ id: 1, ok: true, result: sampleStatus() }]);
  });

  it('replaces a response too large for native messaging by a typed error with the same id', () => {
    const out: Buffer[] = [];
    const logs: string[] = [];
    const huge = sampleStatus({ tamper: { count: 1, last: 'x'.repeat(MAX_MESSAGE_TO_BROWSER_BYTES) } });
    new BrowserOutput((f) => out.push(f), (m) => logs.push(m)).send({ id: 9, ok: true, result: huge } as ToBrowser);
    const [msg] = decode(Buffer.concat(out));
    expect(msg).toMatchObject({ id: 9, ok: false, error: { code: 'internal', message: expect.stringMatching(/too large for native messaging/) } });
    expect(Buffer.concat(out).length).toBeLessThan(1000);
    expect(logs[0]).toMatch(/replaced the answer to request 9/);
  });

  it('drops (and logs) an event too large for native messaging', () => {
    const out: Buffer[] = [];
    const logs: string[] = [];
    new BrowserOutput((f) => out.push(f), (m) => logs.push(m), 100).send({ event: 'tamper', detail: 'x'.repeat(200), at: 1 });
    expect(out).toEqual([]);
    expect(logs[0]).toMatch(/dropped a tamper event/);
  });
});

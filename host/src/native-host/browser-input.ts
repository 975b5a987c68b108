// Frames from the browser (stdin): decoded with resynchronisation (a bad frame is answered and skipped),
// handed to the relay in order, with a bounded number in flight. While frames wait, stdin is paused, so a
// browser that sends faster than the daemon answers fills the pipe, not our memory.
import { FrameDecoder, FrameError } from '../protocol/framing.js';
import type { Decoded } from '../protocol/framing.js';
import { MAX_REQUEST_BYTES } from '../protocol/schema.js';

export const MAX_IN_FLIGHT = 16;

export interface FrameSink {
  /** never rejects */
  handleFrame(raw: unknown): Promise<void>;
  frameError(error: FrameError): void;
}

export interface FlowControl {
  pause(): void;
  resume(): void;
}

export class BrowserInput {
  private readonly decoder = new FrameDecoder(MAX_REQUEST_BYTES, { resync: true });
  /** frames not yet handed on: queue[head…] (an index, so a chunk of thousands of tiny frames stays linear) */
  private queue: Decoded[] = [];
  private head = 0;
  private inFlight = 0;
  private paused = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly sink: FrameSink,
    private readonly flow: FlowControl,
    private readonly log: (message: string) => void,
    private readonly maxInFlight = MAX_IN_FLIGHT,
  ) {}

  push(chunk: Buffer): void {
    for (const d of this.decoder.decode(chunk)) this.queue.push(d);
    this.pump();
  }

  /** End of input: a frame cut short is reported after everything before it. */
  end(): void {
    const pending = this.decoder.pending;
    if (pending > 0) {
      this.queue.push({ ok: false, error: new FrameError(`the last frame was truncated: the input ended after ${pending} bytes of it`) });
    }
    this.pump();
  }

  /** Resolves when every frame received so far has been answered. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.waiting() === 0 && this.inFlight === 0;
  }

  private waiting(): number {
    return this.queue.length - this.head;
  }

  private pump(): void {
    while (this.waiting() > 0 && this.inFlight < this.maxInFlight) {
      const d = this.queue[this.head++]!;
      if (!d.ok) {
        this.sink.frameError(d.error);
        continue;
      }
      this.inFlight++;
      this.sink.handleFrame(d.value).then(
        () => this.done(),
        (e: Error) => {
          // handleFrame answers every error itself; reaching this is a bug worth seeing.
          this.log(`internal error handling a request: ${e.stack ?? e.message}`);
          this.done();
        },
      );
    }
    if (this.waiting() === 0) {
      this.queue = [];
      this.head = 0;
    }
    const shouldPause = this.waiting() > 0;
    if (shouldPause !== this.paused) {
      this.paused = shouldPause;
      if (shouldPause) this.flow.pause();
      else this.flow.resume();
    }
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private done(): void {
    this.inFlight--;
    this.pump();
  }
}

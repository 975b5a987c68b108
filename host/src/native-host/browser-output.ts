// Frames to the browser (stdout). Native messaging drops the whole port when a message exceeds 1 MB, so a
// message that would not fit is replaced (a response by a typed error with the same id) or dropped (an
// event), never sent.
import { FrameError, encodeFrame } from '../protocol/framing.js';
import { MAX_MESSAGE_TO_BROWSER_BYTES } from '../protocol/schema.js';
import type { ToBrowser } from './relay.js';

export class BrowserOutput {
  constructor(
    private readonly write: (frame: Buffer) => void,
    private readonly log: (message: string) => void,
    private readonly maxBytes = MAX_MESSAGE_TO_BROWSER_BYTES,
  ) {}

  send(message: ToBrowser): void {
    let frame: Buffer;
    try {
      frame = encodeFrame(message, this.maxBytes);
    } catch (e) {
      if (!(e instanceof FrameError)) throw e;
      if ('event' in message) {
        this.log(`dropped a ${message.event} event: ${e.message}`);
        return;
      }
      this.log(`replaced the answer to request ${message.id}: ${e.message}`);
      frame = encodeFrame(
        {
          id: message.id,
          ok: false,
          error: {
            code: 'internal',
            message: `the answer is too large for native messaging (${e.message})`,
            hint: 'use the CLI for this request: tunlock --json …',
          },
        },
        this.maxBytes,
      );
    }
    this.write(frame);
  }
}

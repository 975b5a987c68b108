// Reconnect delays: start fast (a daemon restart takes well under a second), double up to a cap so a daemon
// that stays down costs one attempt every few seconds.
export const RECONNECT_INITIAL_MS = 250;
export const RECONNECT_MAX_MS = 5000;

export class Backoff {
  private current: number;

  constructor(
    private readonly initialMs = RECONNECT_INITIAL_MS,
    private readonly maxMs = RECONNECT_MAX_MS,
  ) {
    this.current = initialMs;
  }

  /** The delay before the next attempt; each call doubles the one after, up to the cap. */
  next(): number {
    const delay = this.current;
    this.current = Math.min(this.current * 2, this.maxMs);
    return delay;
  }

  reset(): void {
    this.current = this.initialMs;
  }
}

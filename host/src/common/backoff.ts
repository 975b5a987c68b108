// Reconnect delays, for both reconnecting sides: tunlock-host to the daemon (native-host/relay.ts) and the
// extension to tunlock-host (background/native-client.ts). Start fast, double after each failed attempt up to a
// cap, back to the start after a success. Each side picks its own bounds (and says why, where it does).
export class Backoff {
  private current: number;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
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

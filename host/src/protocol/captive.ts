// The captive-portal hole's facts, once for every side: how long a client may ask for (the schema validates
// it, the CLI and the popup offer it) and how many seconds are left (the daemon's status, the popup's
// countdown, the toolbar badge). The daemon owns the deadline (`expiresAt`, ms since the epoch); everyone
// counts down from it with the same rounding.

/** Shorter than this is no time to log in (and a hole that closes while the page loads helps nobody). */
export const CAPTIVE_MIN_SECONDS = 10;
export const CAPTIVE_DEFAULT_SECONDS = 120;
/** The longest a hole stays open, extensions included. */
export const CAPTIVE_MAX_SECONDS = 600;

/**
 * Whole seconds until the hole closes, rounded up: while any part of a second is left the hole is still open
 * (the kernel's element timeouts are whole seconds, rounded up the same way), and 0 means closed.
 */
export function captiveSecondsLeft(hole: { expiresAt: number }, now: number): number {
  return Math.max(0, Math.ceil((hole.expiresAt - now) / 1000));
}

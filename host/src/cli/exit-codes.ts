// The CLI's exit codes: one table, documented in docs/cli.md (test/unit/cli-docs.test.ts runs the real CLI
// for every row there).
import type { ErrorCode } from '../protocol/schema.js';

export const EXIT = {
  /** done (status: whatever the state) */
  ok: 0,
  /** the daemon refused or could not do it; doctor found a problem */
  failed: 1,
  /** the command line is wrong, a value is invalid, or a choice is needed, e.g. which tunnel (nothing was changed) */
  usage: 2,
  /** the daemon cannot be reached: not running, no socket, no answer, or an impostor socket */
  unreachable: 3,
  /** the daemon is there but this user may not use it (not in group tunlock) */
  denied: 4,
} as const;

export function exitFor(code: ErrorCode): number {
  switch (code) {
    case 'daemon_unavailable':
      return EXIT.unreachable;
    case 'not_permitted':
      return EXIT.denied;
    // The daemon's own refusals (invalid_value: e.g. "eth0 is not a VPN tunnel") are 1; 2 is for what the
    // CLI catches before sending, and for a choice the user must make.
    case 'needs_choice':
      return EXIT.usage;
    default:
      return EXIT.failed;
  }
}

// tunlock-host's one write: "the extension talked to us now" (the file named by common/paths.ts
// lastContactPath, read by `tunlock doctor`).
import { closeSync, mkdirSync, openSync, utimesSync } from 'node:fs';
import { dirname } from 'node:path';

/** Best effort: never throws. */
export function touchLastContact(path: string, now: Date = new Date()): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
    utimesSync(path, now, now);
  } catch {
    // A read-only home must not break the browser connection.
  }
}

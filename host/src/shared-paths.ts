// Paths more than one tunlock program agrees on: the installer writes them, the daemon, the CLI (`tunlock
// doctor`) and tunlock-host read or touch them. Pure constants and tiny helpers, no side effects on import.
import { mkdirSync, utimesSync, closeSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Default install prefix (packagers pass --prefix /usr). */
export const DEFAULT_PREFIX = '/usr/local';
/** Where the built files live under a prefix. */
export function libDir(prefix: string = DEFAULT_PREFIX): string {
  return join(prefix, 'lib', 'tunlock');
}
/** The installer's record of every path it created (uninstall removes exactly these). */
export function installRecordPath(prefix: string = DEFAULT_PREFIX): string {
  return join(libDir(prefix), 'installed.json');
}
export const DEFAULT_SOCKET_PATH = '/run/tunlock/tunlockd.sock';
export const DEFAULT_STATE_DIR = '/var/lib/tunlock';
export const SOCKET_GROUP_NAME = 'tunlock';
export const UNIT_DIR = '/etc/systemd/system';
export const DAEMON_UNIT = 'tunlockd.service';
export const BOOT_UNIT = 'tunlock-boot.service';

/**
 * The extension's last contact: tunlock-host (running as the user, started by the browser) touches this file
 * whenever the extension connects; `tunlock doctor` reads its mtime. Per user, in the XDG state directory
 * ($XDG_STATE_HOME/tunlock/last-contact, default ~/.local/state/tunlock/last-contact).
 */
export function lastContactPath(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(home, '.local', 'state');
  return join(base, 'tunlock', 'last-contact');
}

/**
 * The last-contact file of the user this process runs for, from the environment alone: a browser always
 * passes HOME to the hosts it starts. Without HOME (a stripped test environment, a service) there is no
 * browser user to speak of: null, and nothing is written (no fallback to the passwd home).
 */
export function lastContactPathFromEnv(env: NodeJS.ProcessEnv): string | null {
  const xdg = env.XDG_STATE_HOME?.startsWith('/') ? env.XDG_STATE_HOME : null;
  const home = env.HOME?.startsWith('/') ? env.HOME : null;
  return xdg || home ? lastContactPath(env, home ?? '/') : null;
}

/** For tunlock-host: record "the extension talked to us now". Best effort: never throws. */
export function touchLastContact(path: string, now: Date = new Date()): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
    utimesSync(path, now, now);
  } catch {
    // A read-only home must not break the browser connection.
  }
}

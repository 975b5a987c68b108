// Paths and names more than one tunlock program agrees on: the installer writes them, the daemon, the CLI
// (`tunlock doctor`) and tunlock-host read or touch them. Pure constants and string functions (no Node
// built-ins: common/ is importable anywhere, the extension included).

/** Default install prefix (packagers pass --prefix /usr). */
export const DEFAULT_PREFIX = '/usr/local';
export const DEFAULT_SOCKET_PATH = '/run/tunlock/tunlockd.sock';
/** The socket's directory: root:tunlock 0750, so only members can even see the socket. */
export const RUN_DIR = '/run/tunlock';
export const DEFAULT_STATE_DIR = '/var/lib/tunlock';
export const SOCKET_GROUP_NAME = 'tunlock';
export const UNIT_DIR = '/etc/systemd/system';
export const DAEMON_UNIT = 'tunlockd.service';
export const BOOT_UNIT = 'tunlock-boot.service';

/**
 * node:path's posix.join without node:path: joins with '/', then normalises ('//', '.', '..'), so every
 * part computes the same path from the same pieces (test/unit/paths.test.ts compares the two).
 */
export function joinPath(...parts: string[]): string {
  const joined = parts.filter((p) => p !== '').join('/');
  if (joined === '') return '.';
  const absolute = joined.startsWith('/');
  const out: string[] = [];
  for (const seg of joined.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
    } else out.push(seg);
  }
  const body = out.join('/');
  const trailing = joined.endsWith('/') && body !== '' ? '/' : '';
  return absolute ? `/${body}${trailing}` : body === '' ? '.' + (joined.endsWith('/') ? '/' : '') : `${body}${trailing}`;
}

/** Where the built files live under a prefix. */
export function libDir(prefix: string = DEFAULT_PREFIX): string {
  return joinPath(prefix, 'lib', 'tunlock');
}
/** The installer's record of every path it created (uninstall removes exactly these). */
export function installRecordPath(prefix: string = DEFAULT_PREFIX): string {
  return joinPath(libDir(prefix), 'installed.json');
}

/** The environment variables the paths below read (process.env fits). */
export type PathEnv = Readonly<Record<string, string | undefined>>;

/**
 * The extension's last contact: tunlock-host (running as the user, started by the browser) touches this file
 * whenever the extension connects; `tunlock doctor` reads its mtime. Per user, in the XDG state directory
 * ($XDG_STATE_HOME/tunlock/last-contact, default ~/.local/state/tunlock/last-contact).
 */
export function lastContactPath(env: PathEnv, home: string): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : joinPath(home, '.local', 'state');
  return joinPath(base, 'tunlock', 'last-contact');
}

/**
 * The last-contact file of the user this process runs for, from the environment alone: a browser always
 * passes HOME to the hosts it starts. Without HOME (a stripped test environment, a service) there is no
 * browser user to speak of: null, and nothing is written (no fallback to the passwd home).
 */
export function lastContactPathFromEnv(env: PathEnv): string | null {
  const xdg = env.XDG_STATE_HOME?.startsWith('/') ? env.XDG_STATE_HOME : null;
  const home = env.HOME?.startsWith('/') ? env.HOME : null;
  return xdg || home ? lastContactPath(env, home ?? '/') : null;
}

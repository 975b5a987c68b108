// Where everything goes. Every path here is the path on the installed system ("target path"); `at()` maps it
// under --root (DESTDIR) when the installer writes it. Files that name other files (units, wrappers,
// manifests, hooks) always name target paths, never root-prefixed ones.
import { isAbsolute, join, resolve } from 'node:path';
import { BOOT_UNIT, DAEMON_UNIT, DEFAULT_PREFIX, DEFAULT_SOCKET_PATH, DEFAULT_STATE_DIR, RUN_DIR, UNIT_DIR, installRecordPath, libDir } from '../../host/src/common/paths.js';

export interface LayoutOptions {
  /** DESTDIR: everything is written below it (default /) */
  root?: string;
  /** default /usr/local: files in PREFIX/lib/tunlock, the command in PREFIX/bin */
  prefix?: string;
  /** default /etc/systemd/system */
  unitDir?: string;
  /** the node binary the wrappers and the unit run (default: the one running the installer) */
  node?: string;
}

export class Layout {
  readonly root: string;
  readonly prefix: string;
  readonly libDir: string;
  readonly binDir: string;
  readonly hooksDir: string;
  readonly unitDir: string;
  readonly tmpfilesFile = '/etc/tmpfiles.d/tunlock.conf';
  readonly stateDir = DEFAULT_STATE_DIR;
  readonly runDir = RUN_DIR;
  readonly socket = DEFAULT_SOCKET_PATH;
  readonly nmDir = '/etc/NetworkManager';
  readonly nmDispatcher = '/etc/NetworkManager/dispatcher.d/90-tunlock';
  readonly nmPreDown = '/etc/NetworkManager/dispatcher.d/pre-down.d/90-tunlock';
  readonly node: string;

  constructor(opts: LayoutOptions = {}) {
    this.root = resolve(opts.root ?? '/');
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    if (!isAbsolute(prefix)) throw new Error(`--prefix must be an absolute path, not ${JSON.stringify(prefix)}`);
    this.prefix = resolve(prefix);
    this.libDir = libDir(this.prefix);
    this.binDir = join(this.prefix, 'bin');
    this.hooksDir = join(this.libDir, 'hooks');
    this.unitDir = resolve(opts.unitDir ?? UNIT_DIR);
    this.node = opts.node ?? process.execPath;
    for (const [what, p] of [['node', this.node], ['--unit-dir', this.unitDir]] as const) {
      if (!isAbsolute(p) || /[\s'"\\$`]/.test(p)) throw new Error(`${what}: ${JSON.stringify(p)} must be an absolute path without spaces or quotes`);
    }
    if (/[\s'"\\$`]/.test(this.prefix)) throw new Error(`--prefix: ${JSON.stringify(this.prefix)} must not contain spaces or quotes`);
  }

  get isRealRoot(): boolean {
    return this.root === '/';
  }
  /** A target path as the installer sees it (under --root). */
  at(target: string): string {
    return this.isRealRoot ? target : join(this.root, target);
  }
  get record(): string {
    return installRecordPath(this.prefix);
  }
  get daemonUnit(): string {
    return join(this.unitDir, DAEMON_UNIT);
  }
  get bootUnit(): string {
    return join(this.unitDir, BOOT_UNIT);
  }
  get cli(): string {
    return join(this.binDir, 'tunlock');
  }
  /** bash-completion loads completions/NAME on demand from PREFIX/share (/usr/local/share is searched too) */
  get bashCompletion(): string {
    return join(this.prefix, 'share', 'bash-completion', 'completions', 'tunlock');
  }
  /** Debian's zsh reads /usr/share/zsh/vendor-completions; /usr/local/share/zsh/site-functions everywhere */
  get zshCompletion(): string {
    return this.prefix === '/usr' ? '/usr/share/zsh/vendor-completions/_tunlock' : join(this.prefix, 'share', 'zsh', 'site-functions', '_tunlock');
  }
  get hostWrapper(): string {
    return join(this.libDir, 'bin', 'tunlock-host');
  }
  get installWrapper(): string {
    return join(this.libDir, 'bin', 'tunlock-install');
  }
  js(name: 'tunlockd' | 'tunlock' | 'tunlock-host' | 'tunlock-install'): string {
    return join(this.libDir, `${name}.js`);
  }
}

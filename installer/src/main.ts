// tunlock-install: install | uninstall | start | stop | demo. Built to host/dist/tunlock-install.js by
// host/build.mjs; also copied into PREFIX/lib/tunlock so uninstall works without the source tree.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DAEMON_UNIT } from '../../host/src/common/paths.js';
import { startDaemon, stopDaemon, systemctl, systemdRunning } from './control.js';
import { install, plan } from './install.js';
import { Layout } from './layout.js';
import { readRecord } from './record.js';
import { uninstall } from './uninstall.js';

const USAGE = `usage: tunlock-install COMMAND [options]
  install      copy the built files, units, hooks and browser manifests; create group tunlock
  uninstall    stop the daemon, remove our firewall table and every path the install recorded
  start        start the installed daemon (systemctl when systemd runs; else our own detached process)
  stop         stop it (the firewall rules stay: use \`tunlock lock off\` or \`tunlock reset\` first)
  plan         print what install would create, and exit
  demo         a safe lab demo in a throwaway network namespace (root; touches nothing else)
options:
  --root DIR       install below DIR (DESTDIR, for packagers and tests); group changes go to DIR/etc/group
  --prefix DIR     default /usr/local (files in PREFIX/lib/tunlock, command in PREFIX/bin)
  --unit-dir DIR   default /etc/systemd/system
  --user NAME      add NAME to group tunlock, per-user browser manifests for NAME (default: $SUDO_USER)
  --dist DIR       the built files (default: the directory of this script)
  --live           with --root: also act on the running system (start/stop the daemon, remove our table)
  --offline        never act on the running system
  --no-start       without systemd, do not start the daemon after install (it is started by default)
  --force          take over files at our paths that tunlock did not install`;

/** The directory of this program's file (host/dist, PREFIX/lib/tunlock): the bundle is CommonJS (host/bundle.mjs). */
function distDir(): string {
  return __dirname;
}

/** '/usr' when this program is the Debian package's /usr/lib/tunlock/tunlock-install.js, else null. */
function packagePrefix(): string | null {
  const here = distDir();
  return here === '/usr/lib/tunlock' && existsSync(join(here, 'tunlockd.js')) ? '/usr' : null;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      root: { type: 'string' },
      prefix: { type: 'string' },
      'unit-dir': { type: 'string' },
      user: { type: 'string' },
      dist: { type: 'string' },
      live: { type: 'boolean' },
      offline: { type: 'boolean' },
      'no-start': { type: 'boolean' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const cmd = positionals[0];
  if (values.help || !cmd) {
    process.stdout.write(`${USAGE}\n`);
    return cmd || values.help ? 0 : 2;
  }
  if (values.live && values.offline) throw new Error('--live and --offline exclude each other');
  const live = values.live ? true : values.offline ? false : undefined;
  const base = {
    ...(values.root !== undefined ? { root: values.root } : {}),
    ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
    ...(values['unit-dir'] !== undefined ? { unitDir: values['unit-dir'] } : {}),
  };
  const needRoot = () => {
    if (process.getuid?.() !== 0) throw new Error(`${cmd} must run as root (sudo)`);
  };
  switch (cmd) {
    case 'install':
    case 'plan': {
      const opts = {
        ...base,
        dist: values.dist ?? distDir(),
        ...(values.user !== undefined ? { user: values.user } : {}),
        ...(live !== undefined ? { live } : {}),
        start: values['no-start'] !== true,
        force: !!values.force,
      };
      if (cmd === 'plan') {
        const p = plan(opts);
        for (const o of p.ops) process.stdout.write(`${o.op.padEnd(8)} ${'path' in o ? p.layout.at(o.path) : o.op === 'group' ? o.name : `${o.user} → ${o.group}`}\n`);
        for (const n of p.notes) process.stdout.write(`note: ${n}\n`);
        return 0;
      }
      needRoot();
      await install(opts);
      return 0;
    }
    case 'uninstall':
      needRoot();
      if (base.root === undefined && !readRecord(new Layout(base)) && packagePrefix()) {
        throw new Error('tunlock was installed by the Debian package: remove it with: sudo apt remove tunlock (apt purge also removes the settings)');
      }
      await uninstall({ ...base, ...(live !== undefined ? { live } : {}) });
      return 0;
    case 'start':
    case 'stop': {
      needRoot();
      const record = readRecord(new Layout(base));
      // The Debian package has no install record (dpkg keeps its own): its init script runs the copy of this
      // program in /usr/lib/tunlock, whose location gives the prefix.
      const packaged = !record && base.root === undefined ? packagePrefix() : null;
      const l = new Layout({ ...base, ...(record ? { prefix: record.prefix, unitDir: record.unitDir } : packaged ? { prefix: packaged } : {}) });
      if (!record && !packaged) throw new Error(`tunlock is not installed here (no ${l.at(l.record)})`);
      if (l.isRealRoot && systemdRunning()) {
        systemctl([cmd, DAEMON_UNIT]);
        process.stdout.write(`${cmd === 'start' ? 'started' : 'stopped'} ${DAEMON_UNIT}\n`);
      } else if (cmd === 'start') process.stdout.write(`tunlockd running (pid ${await startDaemon(l)})\n`);
      else process.stdout.write((await stopDaemon(l)) ? 'stopped tunlockd (firewall rules stay)\n' : 'tunlockd was not running\n');
      return 0;
    }
    case 'demo': {
      needRoot();
      const { demo } = await import('./demo.js');
      return demo({ dist: values.dist ?? distDir() });
    }
    default:
      process.stderr.write(`tunlock-install: unknown command ${JSON.stringify(cmd)}\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`tunlock-install: ${e.message}\n`);
    process.exit(1);
  },
);

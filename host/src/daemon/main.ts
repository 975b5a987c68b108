// tunlockd: the root daemon, the only tunlock process that touches the firewall. Runs in the foreground
// (systemd supervises it), logs to stderr. Enforces the saved policy before it accepts any client.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { systemFirewall } from '../firewall/system.js';
import { Daemon } from './daemon.js';
import { checkRootOnlyDir } from './secure-path.js';
import { DEFAULT_SOCKET_PATH, DEFAULT_STATE_DIR, SOCKET_GROUP_NAME } from '../common/paths.js';
import { claimSocketPath, listen } from './server.js';
import { StateStore } from './state-store.js';

const USAGE = `usage: tunlockd [--socket PATH] [--state-dir DIR] [--group NAME] [--resolv-conf PATH]
  --socket PATH       unix socket for clients (default ${DEFAULT_SOCKET_PATH})
  --state-dir DIR     saved settings and early-boot rules (default ${DEFAULT_STATE_DIR})
  --group NAME        members of this group may use the socket (default ${SOCKET_GROUP_NAME})
  --resolv-conf PATH  where this network's resolvers are listed (default /etc/resolv.conf)`;

function log(message: string): void {
  process.stderr.write(`tunlockd: ${message}\n`);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        socket: { type: 'string', default: DEFAULT_SOCKET_PATH },
        'state-dir': { type: 'string', default: DEFAULT_STATE_DIR },
        'resolv-conf': { type: 'string' },
        group: { type: 'string', default: SOCKET_GROUP_NAME },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`tunlockd: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('tunlockd: must run as root (it manages the kernel firewall)\n');
    process.exit(1);
  }
  // Before anything touches the firewall: a second daemon must not rewrite the first one's rules.
  mkdirSync(dirname(values.socket), { recursive: true, mode: 0o755 });
  mkdirSync(values['state-dir'], { recursive: true, mode: 0o700 });
  checkRootOnlyDir(dirname(values.socket), 'the socket directory');
  checkRootOnlyDir(values['state-dir'], 'the state directory');
  await claimSocketPath(values.socket);
  const store = new StateStore(values['state-dir']);
  const firewall = systemFirewall({ warn: log, workDir: values['state-dir'] });
  const daemon = new Daemon({ firewall, store, log, ...(values['resolv-conf'] ? { resolvConf: values['resolv-conf'] } : {}) });
  await daemon.start();
  const server = await listen({ socketPath: values.socket, daemon, log, group: values.group });
  log(`listening on ${values.socket} (state in ${values['state-dir']})`);
  const shutdown = (signal: string) => {
    // The rules stay in the kernel: stopping the daemon never unlocks.
    log(`${signal}: exiting; firewall rules stay in place`);
    daemon.stop();
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((e: Error) => {
  // Startup failed (e.g. nft missing): whatever rules the kernel holds stay; say why and exit non-zero.
  log(`fatal: ${e.message}`);
  process.exit(1);
});

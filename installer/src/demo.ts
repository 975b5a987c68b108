// `npm run demo`: the installer, for real, in a throwaway network namespace. Installs into a temporary root,
// starts the daemon with the installer's own command inside the namespace, shows lock on / status / off with
// a ping to a neighbour namespace, uninstalls, and checks nothing is left. Never touches the machine's own
// firewall, /etc, users or services.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { NetnsLab, PEER_ADDR } from './netns-lab.js';

export interface DemoOptions {
  dist: string;
  out?: (line: string) => void;
}

export async function demo(opts: DemoOptions): Promise<number> {
  const out = opts.out ?? ((s: string) => process.stdout.write(`${s}\n`));
  for (const tool of ['ip', 'nft', 'ping']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`the demo needs ${tool}`);
  }
  const lab = new NetnsLab();
  const say = (s: string) => out(`\n▶ ${s}`);
  const show = (r: { stdout: string; stderr: string }) => {
    const text = `${r.stdout}${r.stderr}`.trimEnd();
    if (text) out(text.replace(/^/gm, '  '));
  };
  try {
    lab.seedRoot();
    lab.up();
    const installer = join(opts.dist, 'tunlock-install.js');
    const node = process.execPath;
    const lib = join(lab.root, 'usr/local/lib/tunlock');
    const tunlock = (...args: string[]) => lab.exec([node, join(lib, 'tunlock.js'), '--socket', join(lab.root, 'run/tunlock/tunlockd.sock'), ...args]);
    const ping = () => out(`  ping ${PEER_ADDR}: ${lab.canReachPeer() ? 'answered' : 'BLOCKED'}`);

    say(`namespace ${lab.client} (peer ${lab.peer}), install root ${lab.root}`);
    ping();
    say('install into the temporary root, start the daemon with the installer\'s own command (no systemd)');
    const inst = lab.exec([node, installer, 'install', '--root', lab.root, '--user', 'labuser', '--dist', opts.dist, '--live']);
    show(inst);
    if (inst.status !== 0) throw new Error('install failed');
    say('tunlock lock always  (blocked unless a VPN tunnel is up; there is none here)');
    show(tunlock('lock', 'always'));
    ping();
    say('tunlock status');
    show(tunlock('status'));
    say('tunlock lock off');
    show(tunlock('lock', 'off'));
    ping();
    say('tunlock lock always again, then uninstall: the lock must go with it');
    show(tunlock('lock', 'always'));
    ping();
    const un = lab.exec([node, join(lib, 'tunlock-install.js'), 'uninstall', '--root', lab.root, '--live']);
    show(un);
    if (un.status !== 0) throw new Error('uninstall failed');
    ping();
    const left = lab.table();
    out(`  table inet tunlock after uninstall: ${left === null ? 'gone' : 'STILL THERE'}`);
    return left === null && lab.canReachPeer() ? 0 : 1;
  } finally {
    lab.cleanup();
    out(`\ncleaned up: namespaces ${lab.client}, ${lab.peer} and ${lab.root} removed`);
  }
}

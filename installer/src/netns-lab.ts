// A throwaway two-namespace lab for the installer demo and test/lab/installer.test.ts: namespace "client"
// (where the installed daemon runs and locks) joined by a veth pair to namespace "peer", documentation
// addresses only, no link to the machine's own network. Every firewall command runs inside the namespaces.
// The namespaces, the install root and everything running inside them (the installed daemon too) belong to
// the shared namespace fixture (host/src/process/netns-fixture.ts), torn down on every exit path.
import type { SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetnsFixture } from '../../host/src/process/netns-fixture.js';

export const CLIENT_ADDR = '198.51.100.1';
export const PEER_ADDR = '198.51.100.2';
export const CLIENT_ADDR6 = '2001:db8:7::1';
export const PEER_ADDR6 = '2001:db8:7::2';

export class NetnsLab {
  private readonly fx = NetnsFixture.create({ namespaces: ['client', 'peer'], tag: 'lab' });
  readonly id = this.fx.id;
  readonly client = this.fx.ns('client');
  readonly peer = this.fx.ns('peer');
  /** the install root (DESTDIR) */
  readonly root = this.fx.tmp;

  /** A minimal root: /etc/passwd and /etc/group with root and one user, so group changes stay in here. */
  seedRoot(user = 'labuser', uid = 4242): void {
    mkdirSync(join(this.root, 'etc'), { recursive: true });
    writeFileSync(join(this.root, 'etc/passwd'), `root:x:0:0:root:/root:/bin/sh\n${user}:x:${uid}:${uid}::/home/${user}:/bin/sh\n`);
    writeFileSync(join(this.root, 'etc/group'), `root:x:0:\n${user}:x:${uid}:\n`);
    mkdirSync(join(this.root, 'home', user), { recursive: true });
  }

  /** Links the two namespaces with a veth pair and gives both ends their addresses. */
  up(): void {
    const [a, b] = [`tl${this.id}a`, `tl${this.id}b`];
    this.fx.ipSync(this.client, this.fx.vethLine(a, { ns: this.peer, dev: b }).split(' '));
    for (const [ns, dev, a4, a6] of [
      [this.client, a, CLIENT_ADDR, CLIENT_ADDR6],
      [this.peer, b, PEER_ADDR, PEER_ADDR6],
    ] as const) {
      this.fx.ipSync(ns, ['addr', 'add', `${a4}/24`, 'dev', dev]);
      this.fx.ipSync(ns, ['addr', 'add', `${a6}/64`, 'dev', dev, 'nodad']);
      this.fx.ipSync(ns, ['link', 'set', dev, 'up']);
    }
  }

  /** Runs argv inside the client namespace. */
  exec(argv: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
    return this.fx.execSync(this.client, argv, { ...opts, env: { ...process.env, ...opts.env } });
  }

  /** One ICMP echo from client to peer (v4 or v6): true when answered. */
  canReachPeer(v6 = false): boolean {
    // Up to three echoes, any reply counts: one reply lost on a loaded machine is no verdict either way.
    return this.exec(['ping', v6 ? '-6' : '-4', '-c', '3', '-i', '0.2', '-W', '1', v6 ? PEER_ADDR6 : PEER_ADDR], { timeoutMs: 5000 }).status === 0;
  }

  /** Our table in the client namespace, or null. */
  table(): string | null {
    const r = this.exec(['nft', 'list', 'table', 'inet', 'tunlock']);
    return r.status === 0 ? r.stdout : null;
  }

  tables(): string {
    return this.exec(['nft', 'list', 'tables']).stdout;
  }

  /** Idempotent: kills everything running in the namespaces (the installed daemon included), deletes them and the root. */
  cleanup(): void {
    this.fx.destroySync();
  }
}

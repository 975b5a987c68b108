// The Debian package, built with dpkg-deb from the prebuilt bundles in host/dist: the same files the
// installer would put under --prefix /usr (one plan, installer/src/install.ts), units in /lib/systemd/system,
// an init script for machines without systemd, and the maintainer scripts in installer/debian/. Installing
// it needs no npm and no build. Nothing here touches the running system: it only writes below `work`.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { plan } from '../install.js';

/** Maintainer scripts and the init script, as shipped (installer/debian/). */
export const MAINTAINER_SCRIPTS = ['postinst', 'prerm', 'postrm'] as const;

export interface DebOptions {
  /** host/dist: the built programs, hooks and completions */
  dist: string;
  /** installer/debian */
  debianDir: string;
  version: string;
  /** dpkg architecture (amd64, arm64, …) */
  arch: string;
  /** scratch directory for the package tree */
  work: string;
  /** where the .deb goes */
  out: string;
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (dpkg-deb comes with dpkg: build on Debian or Ubuntu)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

export function control(version: string, arch: string, installedKb: number): string {
  return `Package: tunlock
Version: ${version}
Architecture: ${arch}
Maintainer: tunlock developers <tunlock@tunlock.dev>
Installed-Size: ${installedKb}
Depends: nodejs (>= 20), nftables, iproute2, passwd
Recommends: wireguard-tools
Section: net
Priority: optional
Homepage: https://github.com/tunlock/tunlock
Description: VPN kill switch: a kernel firewall lock driven from the browser toolbar
 tunlock keeps traffic inside the VPN tunnel with nftables rules that hold even
 when the VPN client, the browser or tunlock's own daemon crash. It works with
 any VPN (WireGuard, OpenVPN, a provider's app) and is driven from a browser
 extension (Chromium and Firefox) or the tunlock command.
`;
}

/** Builds tunlock_<version>_<arch>.deb in opts.out; returns its path. */
export function buildDeb(opts: DebOptions): string {
  const name = `tunlock_${opts.version}_${opts.arch}`;
  const root = join(opts.work, name);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  // The installer writes the NetworkManager hook only where NetworkManager is; the package always ships it
  // (NetworkManager may come later; without it the script is never run).
  mkdirSync(join(root, 'etc/NetworkManager'), { recursive: true });

  const p = plan({ dist: opts.dist, root, prefix: '/usr', unitDir: '/lib/systemd/system', node: '/usr/bin/node', user: '', live: false });
  const enableLinks = /\.wants\//;
  for (const o of p.ops) {
    if (o.op === 'file') {
      const at = p.layout.at(o.path);
      mkdirSync(dirname(at), { recursive: true });
      writeFileSync(at, o.content);
      chmodSync(at, o.mode);
    } else if (o.op === 'symlink' && !enableLinks.test(o.path)) {
      // (enabling is the postinst's job: systemctl enable, where systemd runs)
      mkdirSync(dirname(p.layout.at(o.path)), { recursive: true });
      symlinkSync(o.target, p.layout.at(o.path));
    }
  }
  mkdirSync(join(root, 'etc/init.d'), { recursive: true });
  copyFileSync(join(opts.debianDir, 'tunlockd.init'), join(root, 'etc/init.d/tunlockd'));
  chmodSync(join(root, 'etc/init.d/tunlockd'), 0o755);
  mkdirSync(join(root, 'usr/share/doc/tunlock'), { recursive: true });
  copyFileSync(join(opts.debianDir, 'copyright'), join(root, 'usr/share/doc/tunlock/copyright'));
  for (const d of ['etc/NetworkManager', 'etc/NetworkManager/dispatcher.d']) chmodSync(join(root, d), 0o755);

  const debian = join(root, 'DEBIAN');
  mkdirSync(debian);
  const kb = Number(sh('du', ['-sk', '--exclude=DEBIAN', root]).split('\t')[0]);
  writeFileSync(join(debian, 'control'), control(opts.version, opts.arch, kb));
  // /etc/init.d/tunlockd is the only file an administrator is expected to edit.
  writeFileSync(join(debian, 'conffiles'), '/etc/init.d/tunlockd\n');
  for (const s of MAINTAINER_SCRIPTS) {
    copyFileSync(join(opts.debianDir, s), join(debian, s));
    chmodSync(join(debian, s), 0o755);
  }
  mkdirSync(opts.out, { recursive: true });
  const deb = join(opts.out, `${name}.deb`);
  sh('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb]);
  return deb;
}

export function readVersion(packageJson: string): string {
  const v = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown }).version;
  if (typeof v !== 'string' || !/^\d+\.\d+\.\d+([~+.-][A-Za-z0-9.~+-]+)?$/.test(v)) throw new Error(`package.json version ${JSON.stringify(v)} is not a Debian-compatible version`);
  return v;
}

export function dpkgArch(): string {
  return sh('dpkg', ['--print-architecture']).trim();
}

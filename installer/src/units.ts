// The systemd units and the tmpfiles entry, rendered from the layout (so --prefix and --unit-dir land in
// them). Checked with `systemd-analyze verify` by test/unit/installer-install.test.ts.
import { SOCKET_GROUP_NAME } from '../../host/src/common/paths.js';
import type { Layout } from './layout.js';

/** tunlockd: the root daemon, restarted whenever it dies (the kernel keeps the rules meanwhile). */
export function daemonUnit(l: Layout): string {
  return `# Installed by tunlock; removed by: ${l.installWrapper} uninstall
[Unit]
Description=tunlock daemon (VPN kill switch: keeps the kernel firewall lock)
Documentation=https://github.com/tunlock/tunlock
# The saved block is loaded first (mode "always"); the daemon then takes over without a gap.
After=${l.bootUnit.split('/').pop()} nftables.service firewalld.service
Wants=${l.bootUnit.split('/').pop()}
StartLimitIntervalSec=60
StartLimitBurst=10

[Service]
Type=simple
ExecStart=${l.node} ${l.js('tunlockd')} --socket ${l.socket} --state-dir ${l.stateDir}
Restart=on-failure
RestartSec=1
# Stopping the daemon never unlocks: the rules stay in the kernel until a client changes them.
KillSignal=SIGTERM
UMask=0077
NoNewPrivileges=yes
ProtectHome=read-only
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
`;
}

/**
 * The early-boot block: before any network is configured, load the rules the daemon saved with nothing but
 * nft (no Node yet). Ordered after nftables.service/firewalld.service, whose start flushes the ruleset and
 * would remove our table. The daemon keeps boot.nft exactly while there is something to enforce from boot
 * (mode "always", bound users and groups) and deletes it otherwise, so the unit is skipped (not failed)
 * when the file is absent.
 */
export function bootUnit(l: Layout): string {
  return `# Installed by tunlock; removed by: ${l.installWrapper} uninstall
[Unit]
Description=tunlock early-boot rules (lock mode "always", bound apps)
Documentation=https://github.com/tunlock/tunlock
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target shutdown.target ${l.daemonUnit.split('/').pop()}
After=nftables.service firewalld.service
Conflicts=shutdown.target
RequiresMountsFor=${l.stateDir}
ConditionPathExists=${l.stateDir}/boot.nft

[Service]
Type=oneshot
RemainAfterExit=yes
StandardInput=null
ExecStart=/usr/sbin/nft -f ${l.stateDir}/boot.nft

[Install]
WantedBy=sysinit.target
`;
}

/** The socket directory: only root and the tunlock group may even look inside. */
export function tmpfilesConf(l: Layout): string {
  return `# Installed by tunlock: the daemon's socket directory.
d ${l.runDir} 0750 root ${SOCKET_GROUP_NAME} -
`;
}

/** Where `systemctl enable` would put the symlinks (we create them ourselves: works under --root too). */
export function enableLinks(l: Layout): { link: string; target: string }[] {
  return [
    { link: `${l.unitDir}/multi-user.target.wants/${l.daemonUnit.split('/').pop()}`, target: l.daemonUnit },
    { link: `${l.unitDir}/sysinit.target.wants/${l.bootUnit.split('/').pop()}`, target: l.bootUnit },
  ];
}

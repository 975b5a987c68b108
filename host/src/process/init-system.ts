// Which init system runs this machine, and how to start tunlockd under it: every "start the daemon" hint
// (CLI errors, doctor, the installer, tunlock-host's popup hint) comes from here so none says `systemctl` on
// a machine without systemd (containers, WSL, OpenRC, runit).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_DIR } from '../common/paths.js';

export type InitSystem = 'systemd' | 'openrc' | 'none';

/** systemd's own test (sd_booted): /run/systemd/system exists only when systemd is PID 1. */
export function detectInit(exists: (p: string) => boolean = existsSync): InitSystem {
  if (exists('/run/systemd/system')) return 'systemd';
  if (exists('/run/openrc/softlevel')) return 'openrc';
  return 'none';
}

/** Where the installer's own start/stop command lives: the package installs below /usr, setup below /usr/local. */
export function installCommand(exists: (p: string) => boolean = existsSync): string {
  const candidates = ['/usr/lib/tunlock/bin/tunlock-install', '/usr/local/lib/tunlock/bin/tunlock-install'];
  return candidates.find((c) => exists(c)) ?? candidates[1]!;
}

/** The package's init script, for machines without systemd. */
export const INIT_SCRIPT = '/etc/init.d/tunlockd';

/** The command that starts the installed daemon now. */
export function startCommand(init: InitSystem = detectInit(), exists: (p: string) => boolean = existsSync): string {
  if (init === 'systemd') return 'sudo systemctl start tunlockd';
  return exists(INIT_SCRIPT) ? 'sudo service tunlockd start' : `sudo ${installCommand(exists)} start`;
}

/** How the daemon comes back after a reboot under this init system (shown by setup, doctor, status). */
export function bootAdvice(init: InitSystem = detectInit(), exists: (p: string) => boolean = existsSync): string {
  const start = installCommand(exists);
  switch (init) {
    case 'systemd':
      return 'systemd starts tunlockd at boot (tunlockd.service, enabled)';
    case 'openrc':
      return `OpenRC is not set up by tunlock: add "${start} start" to /etc/local.d/tunlock.start (chmod +x) and run: rc-update add local default`;
    case 'none':
      if (exists(INIT_SCRIPT)) {
        return `${INIT_SCRIPT} starts tunlockd at boot where init scripts run (sysvinit); in a container or WSL run "sudo service tunlockd start" from its start-up command (WSL: [boot] command="service tunlockd start" in /etc/wsl.conf)`;
      }
      return `no init system that tunlock knows runs here (container, WSL): nothing starts tunlockd at boot; run "sudo ${start} start" from your start-up script (WSL: [boot] command="${start} start" in /etc/wsl.conf)`;
  }
}

export function logAdvice(init: InitSystem = detectInit(), stateDir = RUN_DIR): string {
  return init === 'systemd' ? 'journalctl -u tunlockd says why it stopped' : `${join(stateDir, 'tunlockd.log')} says why it stopped`;
}

// Tunnel link state, live. `ip monitor link address` streams the kernel's netlink link and address events (no
// event we re-read the few interfaces we care about from sysfs, which is cheap and synchronous.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseIfname } from '../net/values.js';
import { spawnTied, stopTied } from '../process/spawn-tied.js';

const IFF_UP = 0x1;

/** An interface counts as up when it exists, is administratively up and its operstate is up or unknown (tun). */
export function isLinkUp(iface: string, sysClassNet = '/sys/class/net'): boolean {
  const dir = `${sysClassNet}/${parseIfname(iface)}`;
  try {
    const flags = parseInt(readFileSync(`${dir}/flags`, 'utf8').trim(), 16);
    const oper = readFileSync(`${dir}/operstate`, 'utf8').trim();
    return (flags & IFF_UP) !== 0 && (oper === 'up' || oper === 'unknown');
  } catch {
    return false;
  }
}

/** The interface exists in this network namespace (whatever its kind or state). */
export function linkExists(iface: string, sysClassNet = '/sys/class/net'): boolean {
  return existsSync(`${sysClassNet}/${parseIfname(iface)}`);
}

export class LinkWatcher {
  private child: ChildProcess | null = null;
  private closed = false;

  /** Calls onEvent for every link event; onExit if the monitor dies (the daemon then restarts it). */
  start(onEvent: () => void, onExit: (why: string) => void): void {
    const child = spawnTied('ip', ['-o', 'monitor', 'link', 'address']);
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', onEvent);
    child.on('error', (e) => onExit(`ip monitor failed: ${e.message}`));
    child.on('exit', (code, signal) => {
      if (!this.closed && this.child === child) onExit(`ip monitor exited (${signal ?? code})`);
    });
  }

  close(): void {
    this.closed = true;
    if (this.child) stopTied(this.child);
    this.child = null;
  }
}

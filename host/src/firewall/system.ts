// The one place that chooses the firewall backend for this system (like Mullvad's per-OS firewall module):
// the daemon's entry point and the installer get a Firewall from here and never name a backend.
import type { Firewall } from './firewall.js';
import { NftFirewall, removeNftTable } from './nft-firewall.js';

export interface SystemFirewallOptions {
  /** a private directory for the backend's files (the daemon passes its state directory) */
  workDir: string;
  /** problems that do not stop the rules from being enforced */
  warn?: (message: string) => void;
}

/** This system's firewall (Linux: nftables). */
export function systemFirewall(opts: SystemFirewallOptions): Firewall {
  return new NftFirewall(opts);
}

/**
 * Removes our rules (and nothing else) with no daemon running — what the uninstaller does once the daemon is
 * stopped, so the machine is not left locked. Returns what it did, for the installer's log.
 */
export function resetSystemFirewall(): string {
  return removeNftTable();
}

// What `status` shows, derived in one place from what the daemon holds: the saved settings, the observed
// links, the state machine's verdict (shownState), the firewall's refused counts. Pure: daemon.ts gathers the
// inputs, and every client (CLI, browser, history) sees the same projection.
import type { RefusedCounts } from '../firewall/firewall.js';
import type { BoundAccount } from '../firewall/policy.js';
import { bindingKey } from '../firewall/policy.js';
import { captiveSecondsLeft } from '../protocol/captive.js';
import { formatEndpoint } from '../net/values.js';
import type { DetectedTunnel, ErrorBody, Status } from '../protocol/schema.js';
import type { Observations } from './lock-machine.js';
import { shownState } from './lock-machine.js';
import type { SavedState } from './state-store.js';

export interface StatusInput {
  saved: SavedState;
  obs: Observations;
  /** the saved settings were unreadable (the error shown until the user chooses a setting) */
  stateError: ErrorBody | null;
  /** the last apply failed (the previous rules stay in force) */
  applyError: ErrorBody | null;
  /** rules are in force: ours, or the lock the daemon kept while its state is unreadable */
  enforced: boolean;
  detected: DetectedTunnel[];
  /** the account each saved binding names now, in the same order (undefined: none) */
  accounts: (BoundAccount | undefined)[];
  counts: RefusedCounts;
  tamper: { count: number; last: string | null };
  verifiedAt: number | null;
}

export function projectStatus(i: StatusInput): Status {
  const config = i.saved.config;
  const state = shownState(config, i.obs, i.stateError ? { enforced: i.enforced } : null);
  const hole = state === 'exception' ? i.saved.captive : null;
  return {
    mode: config.mode,
    state,
    lan: config.allowLan ? 'allow' : 'block',
    lanRanges: config.lanRanges.map((r) => r.text),
    tunnels: config.tunnels.map((t) => {
      const problem = i.obs.refused.get(t.iface);
      return {
        iface: t.iface,
        up: i.obs.tunnelsUp.has(t.iface),
        endpoints: t.endpoints.map(formatEndpoint),
        learned: t.learned.map(formatEndpoint),
        endpointOwner: t.fwmark !== null ? `fwmark 0x${t.fwmark.toString(16)}` : `uid ${t.endpointUid}`,
        ...(problem ? { problem } : {}),
      };
    }),
    detected: i.detected.filter((d) => !config.tunnels.some((t) => t.iface === d.iface)),
    captive: hole && {
      uid: hole.uid,
      iface: hole.iface,
      resolvers: hole.resolvers.map((r) => r.text),
      expiresAt: hole.expiresAt,
      secondsLeft: captiveSecondsLeft(hole, i.obs.now),
    },
    bindings: i.saved.bindings.map((target, n) => {
      const account = i.accounts[n];
      return {
        target,
        id: account && account.kind !== 'cgroup' ? (account.kind === 'user' ? account.uid : account.gid) : null,
        blockedPackets: account ? (i.counts.perBinding.get(bindingKey(account)) ?? 0) : 0,
      };
    }),
    blockedPackets: i.counts.blocked,
    tamper: { ...i.tamper },
    error: i.stateError ?? i.applyError,
    verifiedAt: i.verifiedAt,
  };
}

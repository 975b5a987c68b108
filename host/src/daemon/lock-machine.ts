// The lock as a closed set of states. The state is derived, never stored: it follows from the chosen mode,
// whether any tunnel interface is up, a deliberate-disconnect flag, and an open captive hole.
//
//                    lock on / always
//        ┌─────┐ ───────────────────────────► ┌────────────┐  tunnel link up   ┌───────────┐
//        │ off │                               │  blocking  │ ─────────────────► │ protected │
//        └─────┘ ◄─────────────────────────── └────────────┘ ◄───────────────── └───────────┘
//            ▲            lock off               │      ▲     link down / VPN       │
//            │                       captive open│      │captive expires,           │ tunnel down
//            │                                   ▼      │closed, or tunnel up       │ --intentional
//            │                              ┌───────────┐                           ▼ (mode on only)
//            └──────── lock off ──────────  │ exception │                     ┌──────────┐
//                                           └───────────┘                     │ standby  │
//                                                                             └──────────┘
//   standby → protected when a tunnel comes up again; mode `always` never enters standby.
//
// In `protected` and `blocking` the kernel holds the same rules: traffic may leave only through the tunnel
// interfaces (by name), so a tunnel that dies is blocked by the kernel at once, with no daemon involved.
import type { LockState, Mode } from '../protocol/schema.js';
import type { Cidr, Endpoint } from '../net/values.js';
import type { BoundAccount, CaptiveHole, EndpointOwner, Policy } from '../firewall/policy.js';
import { lanRangesFor } from '../firewall/policy.js';

export interface TunnelConfig {
  iface: string;
  /** configured with `tunnel add` */
  endpoints: Endpoint[];
  /** learned from the interface (WireGuard peers) and kept across restarts */
  learned: Endpoint[];
  /** the interface's own fwmark (WireGuard), learned with its peers: its packets to the servers carry it */
  fwmark: number | null;
  /** without a fwmark, the account whose sockets may reach the servers (0: root; another only if root says so) */
  endpointUid: number;
}

export interface LockConfig {
  mode: Mode;
  allowLan: boolean;
  /** ranges the user added to "LAN access" (lan add); the private ranges are added where directly connected */
  lanRanges: Cidr[];
  tunnels: TunnelConfig[];
  /** set by `tunnel down --intentional`, cleared when a tunnel comes up or the mode changes */
  deliberateDisconnect: boolean;
}

export interface Observations {
  /** trusted tunnel interfaces that exist and are up */
  tunnelsUp: ReadonlySet<string>;
  /**
   * configured names that exist as something other than a tunnel (an Ethernet card, a veth, a bridge…), with
   * the reason: they are never allowed out, and status warns about them
   */
  refused: ReadonlyMap<string, string>;
  /** subnets directly connected to the non-tunnel interfaces (from their addresses) */
  onLink: readonly Cidr[];
  captive: CaptiveHole | null;
  now: number;
}

export function lockState(config: LockConfig, obs: Observations): LockState {
  if (config.mode === 'off') return 'off';
  const anyUp = config.tunnels.some((t) => obs.tunnelsUp.has(t.iface) && !obs.refused.has(t.iface));
  if (anyUp) return 'protected';
  if (config.mode === 'on' && config.deliberateDisconnect) return 'standby';
  if (obs.captive && obs.captive.expiresAt > obs.now) return 'exception';
  return 'blocking';
}

/**
 * The state every client is shown (status, history, self-test): the state machine's, derived here and nowhere
 * else. `unreadable`: the saved settings could not be read, so the daemon fails closed — it enforces the full
 * block or keeps the lock it found (blocking) — and when not even that is in force, nothing protects (off).
 */
export function shownState(config: LockConfig, obs: Observations, unreadable: { enforced: boolean } | null): LockState {
  if (unreadable) return unreadable.enforced ? 'blocking' : 'off';
  return lockState(config, obs);
}

export function isLocked(state: LockState): boolean {
  return state === 'protected' || state === 'blocking' || state === 'exception';
}

export function policyFor(config: LockConfig, obs: Observations, bindings: BoundAccount[]): Policy {
  const state = lockState(config, obs);
  // Fail closed: a configured name that turned out to be a physical link is not a tunnel, nor are its servers.
  const trusted = config.tunnels.filter((t) => !obs.refused.has(t.iface));
  const tunnels = trusted.map((t) => t.iface);
  const lanRanges = lanRangesFor(obs.onLink, config.lanRanges);
  const open = { bindings, tunnels, allowLan: config.allowLan, lanRanges };
  if (!isLocked(state)) return { kind: 'open', ...open };
  return {
    kind: 'locked',
    ...open,
    endpoints: trusted.flatMap((t) => {
      const owner: EndpointOwner = t.fwmark !== null ? { kind: 'mark', mark: t.fwmark } : { kind: 'uid', uid: t.endpointUid };
      return [...t.endpoints, ...t.learned].map((endpoint) => ({ endpoint, owner }));
    }),
    onLink: [...obs.onLink],
    captive: state === 'exception' ? obs.captive : null,
  };
}

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
import type { BoundAccount, CaptiveHole, Policy } from '../firewall/policy.js';

export interface TunnelConfig {
  iface: string;
  /** configured with `tunnel add` */
  endpoints: Endpoint[];
  /** learned from the interface (WireGuard peers) and kept across restarts */
  learned: Endpoint[];
}

export interface LockConfig {
  mode: Mode;
  allowLan: boolean;
  lanRanges: Cidr[];
  tunnels: TunnelConfig[];
  /** set by `tunnel down --intentional`, cleared when a tunnel comes up or the mode changes */
  deliberateDisconnect: boolean;
}

export interface Observations {
  /** tunnel interfaces that exist and are up */
  tunnelsUp: ReadonlySet<string>;
  captive: CaptiveHole | null;
  now: number;
}

export function lockState(config: LockConfig, obs: Observations): LockState {
  if (config.mode === 'off') return 'off';
  const anyUp = config.tunnels.some((t) => obs.tunnelsUp.has(t.iface));
  if (anyUp) return 'protected';
  if (config.mode === 'on' && config.deliberateDisconnect) return 'standby';
  if (obs.captive && obs.captive.expiresAt > obs.now) return 'exception';
  return 'blocking';
}

export function isLocked(state: LockState): boolean {
  return state === 'protected' || state === 'blocking' || state === 'exception';
}

export function policyFor(config: LockConfig, obs: Observations, bindings: BoundAccount[]): Policy {
  const state = lockState(config, obs);
  const tunnels = config.tunnels.map((t) => t.iface);
  return {
    lock: isLocked(state)
      ? {
          tunnels,
          endpoints: config.tunnels.flatMap((t) => [...t.endpoints, ...t.learned]),
          allowLan: config.allowLan,
          lanRanges: config.lanRanges,
          captive: state === 'exception' ? obs.captive : null,
        }
      : null,
    bindings,
    tunnels,
    allowLan: config.allowLan,
    lanRanges: config.lanRanges,
  };
}

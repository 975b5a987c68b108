// Decides which lock changes deserve a desktop notification. Pure: takes the previous and the new status.
import type { Event, LockState, StatusT } from '../shared/protocol.js';
import type { Settings } from '../shared/settings.js';
import type { BrowserPortalState } from '../shared/snapshot.js';

export interface Notice {
  id: string;
  title: string;
  message: string;
}

/** The tunnel dropped while locked: protected → blocking (a deliberate disconnect goes to standby instead). */
export function tunnelDropNotice(prev: StatusT | null, next: StatusT, settings: Settings): Notice | null {
  if (!settings.notifyTunnelDrop || prev?.state !== 'protected' || next.state !== 'blocking') return null;
  const names = prev.tunnels.filter((t) => t.up).map((t) => t.iface);
  return {
    id: 'tunnel-drop',
    title: 'VPN dropped — traffic blocked',
    message: `${names.length ? names.join(', ') : 'The tunnel'} went down. tunlock blocks all traffic until it is back.`,
  };
}

export function tamperNotice(event: Event, settings: Settings): Notice | null {
  if (!settings.notifyTamper || event.event !== 'tamper') return null;
  return {
    id: 'tamper',
    title: 'Firewall rules restored',
    message: `Something changed tunlock's firewall rules (${event.detail}); the daemon put them back.`,
  };
}

/**
 * Firefox's own detection says this network has a login page, and the lock blocks it: offer the button.
 * Once per arrival in that situation (not again on every status while it lasts).
 */
export function portalNotice(prev: { portal: BrowserPortalState | null; lock: LockState | null }, next: { portal: BrowserPortalState | null; lock: LockState | null }, settings: Settings): Notice | null {
  const offer = (s: typeof next) => s.portal === 'locked_portal' && s.lock === 'blocking';
  if (!settings.notifyPortal || !offer(next) || offer(prev)) return null;
  return {
    id: 'portal',
    title: 'This network has a login page',
    message: 'tunlock blocks it while the VPN is down. Open the tunlock button and choose "Log in to this network" to open a short, narrow hole for it.',
  };
}

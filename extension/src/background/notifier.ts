// Decides which lock changes deserve a desktop notification. Pure: takes the previous and the new status.
import type { Event, StatusT } from '../shared/protocol.js';
import type { Settings } from '../shared/settings.js';

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

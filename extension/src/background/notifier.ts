// Decides which lock changes deserve a desktop notification. Pure: takes the previous and the new status.
import { formatList, t } from '../shared/i18n.js';
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
    title: t('noticeDropTitle'),
    message: names.length ? t('noticeDrop', formatList(names)) : t('noticeDropUnnamed'),
  };
}

export function tamperNotice(event: Event, settings: Settings): Notice | null {
  if (!settings.notifyTamper || event.event !== 'tamper') return null;
  return {
    id: 'tamper',
    title: t('noticeTamperTitle'),
    message: t('noticeTamper', event.detail),
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
    title: t('noticePortalTitle'),
    message: t('noticePortal'),
  };
}

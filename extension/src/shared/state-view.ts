// State → what the user sees: toolbar icon, badge, title, and the sentence at the top of the popup. Pure, so
// every state is unit-tested; the toolbar and the popup both render from here, so they never disagree.
import type { StatusT } from './protocol.js';
import type { Connection } from './snapshot.js';

/** Each icon has its own shape, so the state reads without colour (see extension/scripts/icons.mjs). */
export type IconKind = 'off' | 'standby' | 'protected' | 'blocking' | 'exception' | 'error';
export const ICON_KINDS: readonly IconKind[] = ['off', 'standby', 'protected', 'blocking', 'exception', 'error'];
export const ICON_SIZES = [16, 32] as const;

export interface StateView {
  icon: IconKind;
  /** short state name: "Protected", "Blocking", … */
  label: string;
  /** the sentence under the label */
  detail: string;
  /** a command or step that fixes an error state */
  fix: string | null;
  badgeText: string;
  badgeColor: string;
  /** the toolbar tooltip, which screen readers announce for the button */
  title: string;
}

const BADGE_BLOCKING = '#b00020';
const BADGE_EXCEPTION = '#8a5a00';

export function iconPaths(kind: IconKind): Record<string, string> {
  return Object.fromEntries(ICON_SIZES.map((s) => [String(s), `icons/${kind}-${s}.png`]));
}

/** 0 → "0:00", 125 → "2:05" (fits the 4-character badge up to 9:59; the daemon caps holes at 10 min). */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function list(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function tunnelWord(names: string[]): string {
  return names.length === 1 ? `tunnel ${names[0]}` : `tunnels ${list(names)}`;
}

function errorView(label: string, detail: string, fix: string | null): StateView {
  return { icon: 'error', label, detail, fix, badgeText: '', badgeColor: BADGE_BLOCKING, title: `tunlock: ${label} — ${detail}` };
}

/**
 * @param secondsLeft the live countdown of a captive exception (the background ticks it between status
 *   events); defaults to the status's own value
 */
export function stateView(connection: Connection, status: StatusT | null, secondsLeft?: number): StateView {
  switch (connection.kind) {
    case 'connecting':
      return {
        icon: 'standby',
        label: 'Connecting',
        detail: 'Connecting to tunlock-host…',
        fix: null,
        badgeText: '…',
        badgeColor: BADGE_EXCEPTION,
        title: 'tunlock: connecting to tunlock-host',
      };
    case 'host_missing':
      return errorView('Not installed', 'tunlock-host is not installed for this browser, so the lock cannot be shown or changed.', connection.fix);
    case 'host_forbidden':
      return errorView('Host refuses this extension', connection.message, connection.fix);
    case 'host_failed':
      return errorView('Host failed', connection.message, connection.fix);
    case 'daemon_down':
      return errorView('Daemon not running', `${connection.message}. The firewall rules already in the kernel stay as they were.`, connection.fix);
    case 'incompatible':
      return errorView('Version mismatch', connection.message, connection.fix);
    case 'ready':
      break;
  }
  if (!status) return stateView({ kind: 'connecting', since: 0 }, null);
  if (status.error) {
    return errorView(`Error (${status.state})`, `${status.error.message}. The lock stays fail-closed.`, status.error.hint ?? null);
  }
  const all = status.tunnels.map((t) => t.iface);
  const up = status.tunnels.filter((t) => t.up).map((t) => t.iface);
  const base = { fix: null, badgeText: '', badgeColor: BADGE_BLOCKING };
  let view: Omit<StateView, 'title'>;
  switch (status.state) {
    case 'off':
      view = { ...base, icon: 'off', label: 'Off', detail: 'The lock is off: if the VPN drops, traffic goes out unprotected.' };
      break;
    case 'standby':
      view = {
        ...base,
        icon: 'standby',
        label: 'Standby',
        detail: `The VPN was disconnected on purpose, so the lock is released until ${all.length ? tunnelWord(all) : 'a tunnel'} comes up again.`,
      };
      break;
    case 'protected':
      view = { ...base, icon: 'protected', label: 'Protected', detail: `Locked to ${tunnelWord(up)}: traffic can leave only through it.` };
      break;
    case 'blocking':
      view = {
        ...base,
        icon: 'blocking',
        label: 'Blocking',
        detail: all.length
          ? `${tunnelWord(all)} ${all.length === 1 ? 'is' : 'are'} down; nothing leaves this computer.`
          : 'No tunnel is configured; nothing leaves this computer.',
        fix: all.length ? null : 'tunlock tunnel add wg0 --endpoint ADDR:PORT/udp',
        badgeText: 'BLK',
      };
      break;
    case 'exception': {
      const left = secondsLeft ?? status.captive?.secondsLeft ?? 0;
      view = {
        ...base,
        icon: 'exception',
        label: 'Portal exception',
        detail: `A hole for the Wi-Fi login page is open${status.captive ? ` on ${status.captive.iface}` : ''}; the kernel closes it in ${formatCountdown(left)}.`,
        badgeText: formatCountdown(left),
        badgeColor: BADGE_EXCEPTION,
      };
      break;
    }
  }
  return { ...view, title: `tunlock: ${view.label} — ${view.detail}` };
}

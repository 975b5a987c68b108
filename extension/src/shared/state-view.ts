// State → what the user sees: toolbar icon, badge, title, and the state card at the top of the popup. Pure
// (strings through i18n.ts), so every state is unit-tested; the toolbar and the popup both render from here, so
// they never disagree.
//
// Honesty rules this file keeps (issue 13): a state that lets traffic out without the VPN never looks calm
// (Standby is "Not protected", warning tone and badge); "only through the VPN" names the local network when
// LAN access is on, and a note lists what else may leave; the Wi-Fi login hole says that all web traffic of
// this account leaves outside the VPN; when the service is down the card says what the kernel still holds.
// Commands, errno texts and socket paths go to `technical`, shown only behind a details toggle.
import { badgeCountdown, formatCountdown, formatList, t } from './i18n.js';
import type { StatusT } from './protocol.js';
import { captiveSecondsLeft } from './protocol.js';
import type { Connection } from './snapshot.js';

/** Each icon has its own shape, so the state reads without colour (see extension/scripts/icons.mjs). */
export type IconKind = 'off' | 'standby' | 'protected' | 'blocking' | 'exception' | 'error';
export const ICON_KINDS: readonly IconKind[] = ['off', 'standby', 'protected', 'blocking', 'exception', 'error'];
/** Icons with a badge keep the badge's corner free (icons.mjs draws their padlock smaller, top left). */
export const BADGED_ICONS: readonly IconKind[] = ['standby', 'exception'];
export const ICON_SIZES = [16, 32] as const;
/** `light`: the icon for a light toolbar (dark glyph); `dark`: for a dark toolbar (light glyph). */
export type ToolbarTheme = 'light' | 'dark';

/** The colour family of a state (ui.css tokens --ok, --block, --warn, --neutral, --error). */
export type Tone = 'ok' | 'block' | 'warn' | 'neutral' | 'error';

export interface StateView {
  icon: IconKind;
  tone: Tone;
  /** short state name: "Protected", "Not protected", … */
  label: string;
  /** the sentence under the label */
  detail: string;
  /** a second, smaller line: what else may leave, or what the kernel still holds */
  note: string | null;
  /** the next step, in plain words (null: nothing to do) */
  fix: string | null;
  /** the fix is "install the tunlock app": link to the setup instructions */
  fixLink: 'install' | null;
  /** commands, error texts, socket paths: behind a details toggle, never in the main text */
  technical: string | null;
  /** at most 3 characters; '' for none */
  badgeText: string;
  badgeColor: string;
  /** the toolbar tooltip, which screen readers announce for the button */
  title: string;
}

export const BADGE_WARN = '#b45309';
export const BADGE_ERROR = '#b3261e';

export function iconPaths(kind: IconKind, theme: ToolbarTheme = 'light'): Record<string, string> {
  const suffix = theme === 'dark' ? '-dark' : '';
  return Object.fromEntries(ICON_SIZES.map((s) => [String(s), `icons/${kind}${suffix}-${s}.png`]));
}

export { formatCountdown };

type Body = Omit<StateView, 'title'>;

const base = { note: null, fix: null, fixLink: null, technical: null, badgeText: '', badgeColor: BADGE_ERROR } as const;

function finish(v: Body): StateView {
  return { ...v, title: t('toolbarTitle', v.label, v.detail) };
}

function tunnels(names: string[]): string {
  return formatList(names);
}

/** What besides the tunnel may leave while locked (docs/security.md): the VPN server, DHCP, and the LAN if allowed. */
function alsoAllowed(status: StatusT): string {
  return status.lan === 'allow' ? t('noteAlsoAllowedLan') : t('noteAlsoAllowed');
}

function linkError(c: Exclude<Connection, { kind: 'ready' } | { kind: 'connecting' }>, status: StatusT | null, now: number): Body {
  const technical = `${c.message}\n${c.fix}`;
  const err = { ...base, icon: 'error' as const, tone: 'error' as const, technical };
  switch (c.kind) {
    case 'host_missing':
      return { ...err, label: t('stateNotInstalled'), detail: t('detailNotInstalled'), fix: t('fixInstall'), fixLink: 'install' };
    case 'host_forbidden':
      return { ...err, label: t('stateHostForbidden'), detail: t('detailHostForbidden'), fix: t('fixReinstall'), fixLink: 'install' };
    case 'host_failed':
      return { ...err, label: t('stateHostFailed'), detail: t('detailHostFailed'), fix: t('fixDoctor') };
    case 'incompatible':
      return { ...err, label: t('stateIncompatible'), detail: t('detailIncompatible'), fix: t('fixUpdate'), fixLink: 'install' };
    case 'daemon_down':
      return { ...err, label: t('stateServiceDown'), detail: lastKnown(status, now), note: holeLeft(status, now), fix: t('fixStartService') };
  }
}

/** The service is down: the kernel holds the last rules it applied. Say what they were. */
function lastKnown(status: StatusT | null, now: number): string {
  if (!status) return t('lastKnownUnknown');
  switch (status.state) {
    case 'off':
      return t('lastKnownOff');
    case 'standby':
      return t('lastKnownStandby');
    case 'protected':
      return t('lastKnownProtected');
    case 'blocking':
    case 'exception':
      return holeLeft(status, now) ? t('lastKnownException') : t('lastKnownBlocking');
  }
}

/** An open login hole outlives the service: the kernel closes it on its own timer. */
function holeLeft(status: StatusT | null, now: number): string | null {
  const c = status?.captive;
  if (!c || c.expiresAt <= now) return null;
  return t('lastKnownHole', formatCountdown(captiveSecondsLeft(c, now)));
}

/**
 * @param secondsLeft the live countdown of a captive exception (the background ticks it between status
 *   events); defaults to the status's own value
 * @param now the clock the daemon-down hole countdown is measured against
 */
export function stateView(connection: Connection, status: StatusT | null, secondsLeft?: number, now = Date.now()): StateView {
  if (connection.kind === 'connecting' || (connection.kind === 'ready' && !status)) {
    return finish({ ...base, icon: 'off', tone: 'neutral', label: t('stateConnecting'), detail: t('detailConnecting') });
  }
  if (connection.kind !== 'ready') return finish(linkError(connection, status, now));
  const st = status!;
  if (st.error) {
    return finish({ ...base, icon: 'error', tone: 'error', label: t('stateLockError'), detail: t('detailLockError'), fix: t('fixDoctor'), technical: [st.error.message, st.error.hint].filter(Boolean).join('\n') });
  }
  const all = st.tunnels.map((x) => x.iface);
  const up = st.tunnels.filter((x) => x.up).map((x) => x.iface);
  switch (st.state) {
    case 'off':
      return finish({ ...base, icon: 'off', tone: 'neutral', label: t('stateOff'), detail: t('detailOff') });
    case 'standby':
      return finish({ ...base, icon: 'standby', tone: 'warn', label: t('stateStandby'), detail: t('detailStandby'), note: all.length ? t('noteStandby', tunnels(all)) : null, badgeText: '!', badgeColor: BADGE_WARN });
    case 'protected':
      return finish({
        ...base,
        icon: 'protected',
        tone: 'ok',
        label: t('stateProtected'),
        detail: st.lan === 'allow' ? t('detailProtectedLan', tunnels(up)) : t('detailProtected', tunnels(up)),
        note: alsoAllowed(st),
      });
    case 'blocking':
      if (!all.length) {
        return finish({ ...base, icon: 'blocking', tone: 'block', label: t('stateBlocking'), detail: t('detailBlockingNoTunnel'), fix: t('fixAddTunnel'), technical: 'tunlock tunnel add wg0 --endpoint ADDR:PORT/udp' });
      }
      return finish({
        ...base,
        icon: 'blocking',
        tone: 'block',
        label: t('stateBlocking'),
        detail: st.lan === 'allow' ? t('detailBlockingLan', tunnels(all)) : t('detailBlocking', tunnels(all)),
        note: alsoAllowed(st),
      });
    case 'exception': {
      const left = secondsLeft ?? st.captive?.secondsLeft ?? 0;
      return finish({
        ...base,
        icon: 'exception',
        tone: 'warn',
        label: t('stateException'),
        detail: t('detailException', formatCountdown(left)),
        note: st.captive ? t('noteException', st.captive.iface) : null,
        badgeText: badgeCountdown(left),
        badgeColor: BADGE_WARN,
      });
    }
  }
}

// The welcome page (opened once, on install): is the tunlock app reachable, how to install it on this OS and
// browser, what each toolbar icon means, and whether the button is pinned. Pure; Onboarding.svelte renders it.
import type { MessageKey } from '../shared/i18n.js';
import { t } from '../shared/i18n.js';
import type { Snapshot } from '../shared/snapshot.js';
import type { IconKind, Tone } from '../shared/state-view.js';
import { stateView } from '../shared/state-view.js';

export interface HostCheck {
  tone: Tone;
  title: string;
  text: string;
  /** the app is missing or refuses this browser: show the install steps first */
  needsInstall: boolean;
}

export function hostCheck(s: Snapshot | null): HostCheck {
  if (!s || s.connection.kind === 'connecting') return { tone: 'neutral', title: t('checkRunning'), text: t('checkRunningText'), needsInstall: false };
  if (s.connection.kind === 'ready') return { tone: 'ok', title: t('checkOk'), text: t('checkOkText'), needsInstall: false };
  const v = stateView(s.connection, s.status);
  const needsInstall = s.connection.kind === 'host_missing' || s.connection.kind === 'host_forbidden' || s.connection.kind === 'incompatible';
  return { tone: 'error', title: v.label, text: `${v.detail} ${v.fix ?? ''}`.trim(), needsInstall };
}

/** runtime.getPlatformInfo().os */
export type PlatformOs = 'linux' | 'mac' | 'win' | 'android' | 'cros' | 'openbsd' | 'fuchsia';

export interface InstallGuide {
  supported: boolean;
  intro: string;
  /** commands, one per step, shown as code */
  steps: { text: string; command: string | null }[];
  browserNote: string;
}

export function installGuide(os: PlatformOs | null, browser: 'chrome' | 'firefox'): InstallGuide {
  const browserNote = browser === 'firefox' ? t('installFirefoxNote') : t('installChromiumNote');
  if (os !== 'linux') return { supported: false, intro: t('installUnsupported'), steps: [], browserNote };
  return {
    supported: true,
    intro: t('installLinuxIntro'),
    steps: [
      { text: t('installStepGet'), command: null },
      { text: t('installStepSetup'), command: 'sudo npm run setup' },
      { text: t('installStepDoctor'), command: 'tunlock doctor' },
      { text: t('installStepRelogin'), command: null },
    ],
    browserNote,
  };
}

/** The legend: every state with its real icon (and the badge the toolbar adds), in the order a user meets them. */
export const LEGEND: { icon: IconKind; name: MessageKey; text: MessageKey; badge?: string }[] = [
  { icon: 'protected', name: 'stateProtected', text: 'legendProtected' },
  { icon: 'blocking', name: 'stateBlocking', text: 'legendBlocking' },
  { icon: 'standby', name: 'stateStandby', text: 'legendStandby', badge: '!' },
  { icon: 'exception', name: 'stateException', text: 'legendException', badge: '2m' },
  { icon: 'off', name: 'stateOff', text: 'legendOff' },
  { icon: 'error', name: 'legendErrorName', text: 'legendError' },
];

/** action.getUserSettings().isOnToolbar: null where the browser cannot tell. */
export type PinState = boolean | null;

export function pinPrompt(pinned: PinState, browser: 'chrome' | 'firefox'): { show: boolean; title: string; steps: string[] } {
  if (pinned === true) return { show: false, title: t('pinDone'), steps: [] };
  return {
    show: true,
    title: t('pinTitle'),
    steps: browser === 'firefox' ? [t('pinFirefoxStep1'), t('pinFirefoxStep2')] : [t('pinChromeStep1'), t('pinChromeStep2')],
  };
}

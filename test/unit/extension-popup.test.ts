// The popup's and the onboarding page's models: the switch caption in each state, the theme message, the pin
// prompt and the install guide.
import { describe, expect, it } from 'vitest';
import { hostCheck, installGuide, LEGEND, pinPrompt } from '../../extension/src/onboarding/onboarding-model.js';
import { popupModel } from '../../extension/src/popup/popup-model.js';
import { DEFAULT_SETTINGS } from '../../extension/src/shared/settings.js';
import type { StatusT } from '../../extension/src/shared/protocol.js';
import type { Snapshot } from '../../extension/src/shared/snapshot.js';
import { ICON_KINDS } from '../../extension/src/shared/state-view.js';
import { parseUiMessage } from '../../extension/src/shared/ui-messages.js';
import { status } from './extension-fixtures.js';

const down = () => [{ iface: 'wg0', up: false, endpoints: ['198.51.100.10:51820/udp'], learned: [] }];
function snap(st: StatusT | null, over: Partial<Snapshot> = {}): Snapshot {
  const webrtc = { policy: null, levelOfControl: null, peerConnectionBlocked: false, relaxed: false, captiveForced: false, reason: '', problem: null };
  return { connection: { kind: 'ready' }, status: st, webrtc, settings: { ...DEFAULT_SETTINGS }, browser: 'chrome', portalState: null, ...over };
}

describe('popupModel: the switch', () => {
  it('is on in Standby but says it waits for the VPN', () => {
    const m = popupModel(snap(status({ state: 'standby', tunnels: down() })));
    expect(m).toMatchObject({ lockOn: true, live: true, switchCaption: 'On, waits for VPN' });
    expect(m.view.label).toBe('Not protected');
  });
  it('on/off captions; the last known position (not live) while the service is down', () => {
    expect(popupModel(snap(status())).switchCaption).toBe('Lock on');
    expect(popupModel(snap(status({ mode: 'off', state: 'off' }))).switchCaption).toBe('Lock off');
    const dead = popupModel(snap(status({ state: 'blocking', tunnels: down() }), { connection: { kind: 'daemon_down', message: 'm', fix: 'f' } }));
    expect(dead).toMatchObject({ live: false, lockOn: true, switchCaption: 'Last known' });
    expect(dead.view.detail).toMatch(/^Still blocked by the firewall/);
  });
  it('tunnel lines and the blocked counter are words, numbers through Intl', () => {
    const m = popupModel(snap(status({ blockedPackets: 1234 })));
    expect(m.tunnels).toEqual([{ iface: 'wg0', up: true, state: 'connected', endpoints: '198.51.100.10:51820/udp' }]);
    expect(m.blocked).toBe('1,234 packets blocked since the service started');
  });
  it('pages report their colour scheme; anything else is refused', () => {
    expect(parseUiMessage({ kind: 'theme', dark: true })).toEqual({ kind: 'theme', dark: true });
    expect(parseUiMessage({ kind: 'theme', dark: 'yes' })).toBeNull();
  });
});

describe('onboarding', () => {
  it('host check: connected, missing (install first), checking', () => {
    expect(hostCheck(snap(status()))).toMatchObject({ tone: 'ok', title: 'Connected', needsInstall: false });
    expect(hostCheck(snap(null, { connection: { kind: 'host_missing', message: 'x', fix: 'y' } }))).toMatchObject({ tone: 'error', needsInstall: true });
    expect(hostCheck(null).tone).toBe('neutral');
  });
  it('install guide per OS and browser', () => {
    const linux = installGuide('linux', 'chrome');
    expect(linux.supported).toBe(true);
    expect(linux.steps.map((s) => s.command)).toContain('sudo npm run setup');
    expect(linux.browserNote).toContain('Brave');
    expect(installGuide('linux', 'firefox').browserNote).toContain('Snap');
    expect(installGuide('mac', 'chrome')).toMatchObject({ supported: false, steps: [] });
  });
  it('pin prompt only when the button is not on the toolbar (or the browser cannot tell)', () => {
    expect(pinPrompt(true, 'chrome').show).toBe(false);
    expect(pinPrompt(false, 'chrome')).toMatchObject({ show: true, steps: [expect.stringContaining('puzzle'), expect.stringContaining('pin')] });
    expect(pinPrompt(null, 'firefox').show).toBe(true);
  });
  it('the legend explains every icon', () => {
    expect(LEGEND.map((l) => l.icon).sort()).toEqual([...ICON_KINDS].sort());
  });
});

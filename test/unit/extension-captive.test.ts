// The captive-portal button's model, the UI messages it sends, the WebRTC override while a hole is open, the
// Firefox detection notice, and the options page's bindings list.
import { describe, expect, it } from 'vitest';
import { decideWebrtc, STRICT_POLICY } from '../../extension/src/background/webrtc-decide.js';
import { portalNotice } from '../../extension/src/background/notifier.js';
import { captiveModel, closeRequest, extendRequest, openRequest } from '../../extension/src/popup/captive-model.js';
import { popupModel } from '../../extension/src/popup/popup-model.js';
import { bindingRows } from '../../extension/src/options/options-model.js';
import { DEFAULT_SETTINGS } from '../../extension/src/shared/settings.js';
import type { LockState, StatusT } from '../../extension/src/shared/protocol.js';
import type { BrowserPortalState, Snapshot, WebrtcView } from '../../extension/src/shared/snapshot.js';
import { parseUiMessage } from '../../extension/src/shared/ui-messages.js';
import { status } from './extension-fixtures.js';

const NOW = 1_700_000_000_000;
const down = () => [{ iface: 'wg0', up: false, endpoints: ['198.51.100.10:51820/udp'], learned: [] }];
const webrtc = (over: Partial<WebrtcView> = {}): WebrtcView => ({
  policy: 'disable_non_proxied_udp',
  levelOfControl: 'controlled_by_this_extension',
  peerConnectionBlocked: false,
  relaxed: false,
  captiveForced: false,
  reason: '',
  problem: null,
  ...over,
});
function snap(st: StatusT | null, over: Partial<Snapshot> = {}): Snapshot {
  return { connection: { kind: 'ready' }, status: st, webrtc: webrtc(), settings: { ...DEFAULT_SETTINGS }, browser: 'chrome', portalState: null, ...over };
}
const hole = (secondsLeft: number) => ({ uid: 1000, iface: 'eth0', resolvers: ['192.168.1.1'], expiresAt: NOW + secondsLeft * 1000, secondsLeft });

describe('captiveModel', () => {
  it('offers the button only while blocking and the daemon answers', () => {
    const states: LockState[] = ['off', 'standby', 'protected', 'blocking'];
    for (const state of states) {
      const m = captiveModel(snap(status(state === 'protected' ? { state } : { state, tunnels: down() })), NOW);
      expect(m.kind, state).toBe(state === 'blocking' ? 'offer' : 'none');
    }
    const blocking = status({ state: 'blocking', tunnels: down() });
    expect(captiveModel(snap(blocking, { connection: { kind: 'daemon_down', message: 'x', fix: 'y' } }), NOW).kind).toBe('none');
    expect(captiveModel(snap(null), NOW).kind).toBe('none');
  });
  it('Chromium (no detection): always offered, not highlighted; Firefox locked_portal: highlighted', () => {
    const blocking = status({ state: 'blocking', tunnels: down() });
    expect(captiveModel(snap(blocking), NOW)).toMatchObject({ kind: 'offer', highlight: false });
    for (const portalState of ['unknown', 'not_captive', 'unlocked_portal'] as BrowserPortalState[]) {
      expect(captiveModel(snap(blocking, { browser: 'firefox', portalState }), NOW)).toMatchObject({ kind: 'offer', highlight: false });
    }
    const m = captiveModel(snap(blocking, { browser: 'firefox', portalState: 'locked_portal' }), NOW);
    expect(m).toMatchObject({ kind: 'offer', highlight: true });
    expect(m.kind === 'offer' && m.lead).toContain('Firefox found a Wi-Fi login page');
    expect(m.kind === 'offer' && m.note).toContain('Opens a hole for 2 minutes: web traffic of this account');
  });
  it('exception: live countdown from expiresAt, +1 minute within the 10-minute cap; the WebRTC row says it is forced', () => {
    const st = status({ state: 'exception', tunnels: down(), captive: hole(90) });
    expect(captiveModel(snap(st), NOW)).toMatchObject({ kind: 'open', secondsLeft: 90, countdown: '1:30', canExtend: true, extendNote: null });
    expect(captiveModel(snap(st), NOW + 31_000)).toMatchObject({ countdown: '0:59' });
    expect(captiveModel(snap(st), NOW + 200_000)).toMatchObject({ secondsLeft: 0, countdown: '0:00' });
    const long = status({ state: 'exception', tunnels: down(), captive: hole(560) });
    expect(captiveModel(snap(long), NOW)).toMatchObject({ canExtend: false, extendNote: 'A hole lasts at most 10 minutes.' });
    const off = snap(st, { webrtc: webrtc({ captiveForced: true, peerConnectionBlocked: true }) });
    expect(popupModel(off, NOW).webrtc.text).toMatch(/^Forced off in every page while the Wi-Fi login hole is open/);
  });
  it('the popup says WebRTC is forced while the hole is open', () => {
    const st = status({ state: 'exception', tunnels: down(), captive: hole(90) });
    const s = snap(st, { webrtc: webrtc({ captiveForced: true }), settings: { ...DEFAULT_SETTINGS, webrtc: 'off' } });
    expect(popupModel(s, NOW).webrtc.text).toMatch(/^Forced to no UDP outside a proxy while the Wi-Fi login hole is open/);
  });
  it('requests: open 120 s, extend 60 s, close; the background accepts exactly these', () => {
    expect(openRequest()).toEqual({ type: 'captiveOpen', seconds: 120 });
    expect(extendRequest()).toEqual({ type: 'captiveExtend', seconds: 60 });
    expect(closeRequest()).toEqual({ type: 'captiveClose' });
    for (const request of [openRequest(), extendRequest(), closeRequest()]) {
      expect(parseUiMessage({ kind: 'daemon', id: 1, request })).toEqual({ kind: 'daemon', id: 1, request });
    }
    for (const seconds of [9, 601, 1.5, '120', null]) {
      expect(parseUiMessage({ kind: 'daemon', id: 1, request: { type: 'captiveOpen', seconds } }), String(seconds)).toBeNull();
    }
    expect(parseUiMessage({ kind: 'daemon', id: 1, request: { type: 'bindAdd', target: { kind: 'user', name: 'x' } } })).toBeNull();
    expect(parseUiMessage({ kind: 'openPortal', id: 2 })).toEqual({ kind: 'openPortal', id: 2 });
  });
});

describe('WebRTC while a captive hole is open', () => {
  it('forces the strictest setting whatever the user chose, and gives the choice back after', () => {
    for (const mode of ['protect', 'block', 'off'] as const) {
      for (const canBlockPeerConnection of [false, true]) {
        const d = decideWebrtc({ mode, lockState: 'exception', allowedSiteOpen: true, captiveHoleOpen: true, canBlockPeerConnection });
        expect(d, `${mode} ${canBlockPeerConnection}`).toMatchObject({ policy: STRICT_POLICY, blockPeerConnection: canBlockPeerConnection, relaxed: false, captiveForced: true });
      }
    }
    // Firefox's strict value is proxy_only; peerConnectionEnabled=false comes from blockPeerConnection.
    expect(decideWebrtc({ mode: 'protect', lockState: 'exception', allowedSiteOpen: false, strict: 'proxy_only', captiveHoleOpen: true, canBlockPeerConnection: true })).toMatchObject({
      policy: 'proxy_only',
      blockPeerConnection: true,
    });
    // Closed again: each mode is back to what it was before the hole.
    expect(decideWebrtc({ mode: 'off', lockState: 'blocking', allowedSiteOpen: false, captiveHoleOpen: false })).toMatchObject({ policy: null, blockPeerConnection: false, captiveForced: false });
    expect(decideWebrtc({ mode: 'protect', lockState: 'blocking', allowedSiteOpen: false })).toMatchObject({ policy: STRICT_POLICY, blockPeerConnection: false, captiveForced: false });
    expect(decideWebrtc({ mode: 'block', lockState: 'blocking', allowedSiteOpen: false })).toMatchObject({ blockPeerConnection: true, captiveForced: false });
  });
});

describe('portalNotice (Firefox detection)', () => {
  const at = (portal: BrowserPortalState | null, lock: LockState | null) => ({ portal, lock });
  it('once when a login page is detected while blocking; respects the setting', () => {
    expect(portalNotice(at(null, 'blocking'), at('locked_portal', 'blocking'), DEFAULT_SETTINGS)).toMatchObject({ id: 'portal' });
    expect(portalNotice(at('locked_portal', 'protected'), at('locked_portal', 'blocking'), DEFAULT_SETTINGS)).toMatchObject({ id: 'portal' });
    expect(portalNotice(at('locked_portal', 'blocking'), at('locked_portal', 'blocking'), DEFAULT_SETTINGS)).toBeNull();
    expect(portalNotice(at(null, 'blocking'), at('locked_portal', 'protected'), DEFAULT_SETTINGS)).toBeNull();
    expect(portalNotice(at(null, 'blocking'), at('unlocked_portal', 'blocking'), DEFAULT_SETTINGS)).toBeNull();
    expect(portalNotice(at(null, 'blocking'), at('locked_portal', 'blocking'), { ...DEFAULT_SETTINGS, notifyPortal: false })).toBeNull();
  });
});

describe('bindingRows (options page)', () => {
  it('lists kind, name, id and blocked packets', () => {
    const st = status({
      bindings: [
        { target: { kind: 'user', name: 'debian-transmission' }, id: 112, blockedPackets: 1234 },
        { target: { kind: 'group', name: 'torrent' }, id: 1001, blockedPackets: 1 },
        { target: { kind: 'cgroup', name: 'run-42' }, id: null, blockedPackets: 0 },
        { target: { kind: 'user', name: 'gone' }, id: null, blockedPackets: 0 },
      ],
    });
    expect(bindingRows(st)).toEqual([
      { kind: 'User', name: 'debian-transmission', id: 'uid 112', blocked: '1,234 packets blocked' },
      { kind: 'Group', name: 'torrent', id: 'gid 1001', blocked: '1 packet blocked' },
      { kind: 'Program (tunlock run)', name: 'run-42', id: 'own cgroup', blocked: '0 packets blocked' },
      { kind: 'User', name: 'gone', id: 'no such account on this system', blocked: '0 packets blocked' },
    ]);
    expect(bindingRows(null)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { BrowserSettingLike } from '../../extension/src/background/webrtc-apply.js';
import { applyWebrtc } from '../../extension/src/background/webrtc-apply.js';
import { decideWebrtc, RELAXED_POLICY, STRICT_POLICY } from '../../extension/src/background/webrtc-decide.js';
import { tamperNotice, tunnelDropNotice } from '../../extension/src/background/notifier.js';
import { DEFAULT_SETTINGS } from '../../extension/src/shared/settings.js';
import type { LockState } from '../../extension/src/shared/protocol.js';
import { status } from './extension-fixtures.js';

function fakeSetting(level = 'controllable_by_this_extension') {
  const s = { value: 'default' as unknown, level, held: false, calls: [] as string[] };
  const api: BrowserSettingLike = {
    get: async () => ({ value: s.value, levelOfControl: s.held ? 'controlled_by_this_extension' : s.level }),
    set: async ({ value }) => {
      s.calls.push(`set ${String(value)}`);
      if (s.level === 'controlled_by_other_extensions') return;
      s.value = value;
      s.held = true;
    },
    clear: async () => {
      s.calls.push('clear');
      s.value = 'default';
      s.held = false;
    },
  };
  return { s, api };
}
const noBlocker = { setBlocked: async () => null };

describe('decideWebrtc', () => {
  it('protect is strict (disable_non_proxied_udp) whenever no relaxation applies', () => {
    expect(decideWebrtc({ mode: 'protect', lockState: null, allowedSiteOpen: false })).toMatchObject({ policy: STRICT_POLICY, relaxed: false });
    expect(STRICT_POLICY).toBe('disable_non_proxied_udp');
  });
  it('relaxes only while protected AND an allowed site is open', () => {
    const states: (LockState | null)[] = ['off', 'standby', 'protected', 'blocking', 'exception', null];
    for (const lockState of states) {
      for (const allowedSiteOpen of [false, true]) {
        const d = decideWebrtc({ mode: 'protect', lockState, allowedSiteOpen });
        const relaxed = lockState === 'protected' && allowedSiteOpen;
        expect(d.relaxed, `${lockState} ${allowedSiteOpen}`).toBe(relaxed);
        expect(d.policy).toBe(relaxed ? RELAXED_POLICY : STRICT_POLICY);
      }
    }
    expect(decideWebrtc({ mode: 'protect', lockState: 'exception', allowedSiteOpen: true }).reason).toContain('exception, not protected');
  });
  it('block never relaxes; off gives the setting back', () => {
    expect(decideWebrtc({ mode: 'block', lockState: 'protected', allowedSiteOpen: true })).toMatchObject({ policy: STRICT_POLICY, blockPeerConnection: true, relaxed: false });
    expect(decideWebrtc({ mode: 'off', lockState: 'protected', allowedSiteOpen: true })).toMatchObject({ policy: null, blockPeerConnection: false });
  });
});

describe('applyWebrtc', () => {
  it('sets, reads back and reports control', async () => {
    const { s, api } = fakeSetting();
    const v = await applyWebrtc({ ipHandling: api, blocker: noBlocker }, decideWebrtc({ mode: 'protect', lockState: null, allowedSiteOpen: false }));
    expect(s.calls).toEqual(['set disable_non_proxied_udp']);
    expect(v).toMatchObject({ policy: 'disable_non_proxied_udp', levelOfControl: 'controlled_by_this_extension', problem: null });
  });
  it('turning protection off calls clear(), not set(default)', async () => {
    const { s, api } = fakeSetting();
    await applyWebrtc({ ipHandling: api, blocker: noBlocker }, decideWebrtc({ mode: 'off', lockState: null, allowedSiteOpen: false }));
    expect(s.calls).toEqual(['clear']);
  });
  it('says so when another extension controls the setting', async () => {
    const { api } = fakeSetting('controlled_by_other_extensions');
    const v = await applyWebrtc({ ipHandling: api, blocker: noBlocker }, decideWebrtc({ mode: 'protect', lockState: null, allowedSiteOpen: false }));
    expect(v.problem).toMatch(/Another extension controls/);
  });
  it('reports a blocker that could not block (Chromium without the permission)', async () => {
    const { api } = fakeSetting();
    const v = await applyWebrtc({ ipHandling: api, blocker: { setBlocked: async () => 'needs permission' } }, decideWebrtc({ mode: 'block', lockState: null, allowedSiteOpen: false }));
    expect(v).toMatchObject({ peerConnectionBlocked: false, problem: 'needs permission', policy: 'disable_non_proxied_udp' });
  });
});

describe('notifications', () => {
  it('notifies protected → blocking only, naming the tunnel', () => {
    const blocking = status({ state: 'blocking', tunnels: [{ iface: 'wg0', up: false, endpoints: [], learned: [] }] });
    expect(tunnelDropNotice(status(), blocking, DEFAULT_SETTINGS)).toMatchObject({ title: 'VPN dropped — traffic blocked', message: expect.stringContaining('wg0') });
    expect(tunnelDropNotice(status(), status({ state: 'standby' }), DEFAULT_SETTINGS)).toBeNull();
    expect(tunnelDropNotice(blocking, blocking, DEFAULT_SETTINGS)).toBeNull();
    expect(tunnelDropNotice(null, blocking, DEFAULT_SETTINGS)).toBeNull();
    expect(tunnelDropNotice(status(), blocking, { ...DEFAULT_SETTINGS, notifyTunnelDrop: false })).toBeNull();
  });
  it('notifies tamper events unless turned off', () => {
    const e = { event: 'tamper', detail: 'table flushed', at: 1 } as const;
    expect(tamperNotice(e, DEFAULT_SETTINGS)?.message).toContain('table flushed');
    expect(tamperNotice(e, { ...DEFAULT_SETTINGS, notifyTamper: false })).toBeNull();
  });
});

describe('per-browser strict value', () => {
  it('uses the browser strict value in protect and block (Firefox: proxy_only)', () => {
    expect(decideWebrtc({ mode: 'protect', lockState: 'blocking', allowedSiteOpen: true, strict: 'proxy_only' }).policy).toBe('proxy_only');
    expect(decideWebrtc({ mode: 'block', lockState: null, allowedSiteOpen: false, strict: 'proxy_only' }).policy).toBe('proxy_only');
    expect(decideWebrtc({ mode: 'protect', lockState: 'protected', allowedSiteOpen: true, strict: 'proxy_only' }).policy).toBe(RELAXED_POLICY);
  });
});

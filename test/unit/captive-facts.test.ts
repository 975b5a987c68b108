// The captive hole's facts live once (host/src/protocol/captive.ts): the bounds a client may ask for and the
// seconds left, counted down from the daemon's expiresAt with one rounding rule. Every side is checked here
// against that one module, so a copy that drifts fails.
import { describe, expect, it } from 'vitest';
import { main } from '../../host/src/cli/cli';
import type { CliIo } from '../../host/src/cli/cli';
import { CAPTIVE_DEFAULT_SECONDS, CAPTIVE_MAX_SECONDS, CAPTIVE_MIN_SECONDS, captiveSecondsLeft } from '../../host/src/protocol/captive';
import { Request } from '../../host/src/protocol/schema';
import { captiveModel } from '../../extension/src/popup/captive-model.js';
import { popupModel } from '../../extension/src/popup/popup-model.js';
import { DEFAULT_SETTINGS } from '../../extension/src/shared/settings.js';
import type { StatusT } from '../../extension/src/shared/protocol.js';
import type { Snapshot } from '../../extension/src/shared/snapshot.js';
import { parseUiMessage } from '../../extension/src/shared/ui-messages.js';
import { status } from './extension-fixtures.js';

const NOW = 1_700_000_000_000;

async function cliAccepts(seconds: number): Promise<boolean> {
  let sent = false;
  const io = {
    out: () => {},
    err: () => {},
    env: {},
    connect: async () => ({
      request: async () => {
        sent = true;
        return status();
      },
      onEvent: () => {},
      onClose: () => {},
      close: () => {},
    }),
  } as unknown as CliIo;
  await main(['captive', 'open', '--seconds', String(seconds)], io);
  return sent;
}

describe('captive bounds: one range for the schema, the CLI and the extension', () => {
  it.each([CAPTIVE_MIN_SECONDS - 1, CAPTIVE_MIN_SECONDS, CAPTIVE_DEFAULT_SECONDS, CAPTIVE_MAX_SECONDS, CAPTIVE_MAX_SECONDS + 1])('%i seconds', async (seconds) => {
    const ok = seconds >= CAPTIVE_MIN_SECONDS && seconds <= CAPTIVE_MAX_SECONDS;
    expect(Request.safeParse({ type: 'captiveOpen', seconds, id: 1 }).success).toBe(ok);
    expect(parseUiMessage({ kind: 'daemon', id: 1, request: { type: 'captiveExtend', seconds } }) !== null).toBe(ok);
    expect(await cliAccepts(seconds)).toBe(ok);
  });
});

describe('seconds left: one rounding rule (up) from expiresAt', () => {
  it.each([
    [120_000, 120],
    [119_001, 120],
    [119_000, 119],
    [500, 1],
    [1, 1],
    [0, 0],
    [-5000, 0],
  ])('%i ms before expiresAt → %i s', (ms, s) => {
    expect(captiveSecondsLeft({ expiresAt: NOW + ms }, NOW)).toBe(s);
  });

  it('the popup and the captive button count down by it (not by their own rounding)', () => {
    const ms = 119_400; // rounding to nearest would say 119
    const st: StatusT = status({ state: 'exception', captive: { uid: 1000, iface: 'eth0', resolvers: ['192.168.1.1'], expiresAt: NOW + ms, secondsLeft: 120 } });
    const snap: Snapshot = { connection: { kind: 'ready' }, status: st, webrtc: { policy: 'disable_non_proxied_udp', levelOfControl: 'controlled_by_this_extension', peerConnectionBlocked: false, relaxed: false, captiveForced: true, reason: '', problem: null }, settings: { ...DEFAULT_SETTINGS }, browser: 'chrome', portalState: null };
    const m = captiveModel(snap, NOW);
    expect(m.kind === 'open' && m.secondsLeft).toBe(120);
    expect(popupModel(snap, NOW).captiveSecondsLeft).toBe(120);
  });
});

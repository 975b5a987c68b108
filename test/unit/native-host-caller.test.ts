// tunlock-host's caller check: exactly our Chromium origin or our Firefox add-on ID, nothing else.
import { describe, expect, it } from 'vitest';
import { checkCaller, identifyCaller } from '../../host/src/native-host/caller';
import { CHROMIUM_ORIGIN, FIREFOX_ADDON_ID } from '../../host/src/common/extension-ids';
import { ProtocolError } from '../../host/src/protocol/schema';

const FF_MANIFEST = '/usr/lib/mozilla/native-messaging-hosts/dev.tunlock.host.json';

function refusal(args: string[]): ProtocolError {
  try {
    checkCaller(args);
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(args)}`);
}

describe('caller check', () => {
  it('accepts our Chromium origin (with the Windows --parent-window flag too)', () => {
    expect(checkCaller([CHROMIUM_ORIGIN])).toEqual({ browser: 'chromium', origin: CHROMIUM_ORIGIN });
    expect(checkCaller([CHROMIUM_ORIGIN, '--parent-window=0'])).toEqual({ browser: 'chromium', origin: CHROMIUM_ORIGIN });
  });

  it("accepts Firefox's manifest path + our add-on ID", () => {
    expect(checkCaller([FF_MANIFEST, FIREFOX_ADDON_ID])).toEqual({ browser: 'firefox', addonId: FIREFOX_ADDON_ID, manifest: FF_MANIFEST });
  });

  it.each([
    ['no argument', []],
    ['another extension', ['chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/']],
    ['our ID without the trailing slash', [CHROMIUM_ORIGIN.slice(0, -1)]],
    ['our ID in upper case', [CHROMIUM_ORIGIN.toUpperCase()]],
    ['our origin with a path', [`${CHROMIUM_ORIGIN}x`]],
    ['our origin plus a positional argument', [CHROMIUM_ORIGIN, 'extra']],
    ['another Firefox add-on', [FF_MANIFEST, 'evil@example.com']],
    ['our add-on ID alone', [FIREFOX_ADDON_ID]],
    ['Firefox arguments plus one', [FF_MANIFEST, FIREFOX_ADDON_ID, 'extra']],
    ['a Chromium origin in the add-on position', [FF_MANIFEST, CHROMIUM_ORIGIN]],
    ['an empty argument', ['']],
    ['a web origin', ['https://tunlock.dev/']],
    ['a moz-extension origin', ['moz-extension://tunlock@tunlock.dev/']],
  ])('refuses %s', (_why, args) => {
    const e = refusal(args);
    expect(e.code).toBe('not_permitted');
    expect(e.message).toMatch(/^tunlock-host refuses /);
    expect(e.hint).toBeTruthy();
  });

  it('says what it refused, bounded', () => {
    expect(refusal([]).message).toMatch(/no caller/);
    expect(refusal(['chrome-extension://x/']).message).toContain('"chrome-extension://x/"');
    expect(refusal([FF_MANIFEST, 'evil@example.com']).message).toContain('Firefox add-on "evil@example.com"');
    expect(refusal(['a'.repeat(10_000), 'b', 'c', 'd', 'e']).message.length).toBeLessThan(1000);
  });

  it('identifies without judging', () => {
    expect(identifyCaller(['chrome-extension://other/'])).toEqual({ browser: 'chromium', origin: 'chrome-extension://other/' });
    expect(identifyCaller(['x'])).toBeNull();
  });
});

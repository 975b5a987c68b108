// common/paths.ts is pure (importable by the extension), so it joins paths itself: it must agree with
// node:path's posix.join, which the installer, the doctor and tunlock-host used before.
import fc from 'fast-check';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { joinPath, lastContactPath, lastContactPathFromEnv } from '../../host/src/common/paths.js';

describe('joinPath agrees with posix.join', () => {
  it.each([
    [['/home/ann', '.mozilla/native-messaging-hosts', 'dev.tunlock.host.json']],
    [['/home/ann/', '/.config//chromium/']],
    [['/', '..', 'etc']],
    [['a', '..', '..', 'b']],
    [['', '']],
    [['.', './']],
    [['/usr/local', 'lib', 'tunlock']],
    [['a/b/../../..', 'c/']],
  ])('%j', (parts) => {
    expect(joinPath(...parts)).toBe(posix.join(...parts));
  });

  it('on arbitrary pieces of paths', () => {
    const piece = fc.string({ unit: fc.constantFrom('/', '.', '..', 'a', 'b', 'x.json'), maxLength: 8 });
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 5 }), (parts) => {
        expect(joinPath(...parts)).toBe(posix.join(...parts));
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('lastContactPath', () => {
  it('lives in the XDG state directory, else ~/.local/state', () => {
    expect(lastContactPath({}, '/home/ann')).toBe('/home/ann/.local/state/tunlock/last-contact');
    expect(lastContactPath({ XDG_STATE_HOME: '/var/x' }, '/home/ann')).toBe('/var/x/tunlock/last-contact');
    expect(lastContactPath({ XDG_STATE_HOME: 'relative' }, '/home/ann')).toBe('/home/ann/.local/state/tunlock/last-contact');
    expect(lastContactPathFromEnv({})).toBeNull();
    expect(lastContactPathFromEnv({ HOME: '/home/ann' })).toBe('/home/ann/.local/state/tunlock/last-contact');
  });
});

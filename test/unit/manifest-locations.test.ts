// The one table of native-messaging manifest locations, and the manifests rendered from it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_ORIGIN, FIREFOX_ADDON_ID, NATIVE_HOST_NAME } from '../../host/src/common/extension-ids';
import { BROWSERS, hostManifest, manifestProblems, manifestTargets, registryTargets, renderHostManifest } from '../../host/src/common/manifest-locations';

describe('manifest locations table', () => {
  it('covers Chrome, Chromium, Brave, Edge, Vivaldi, Opera and Firefox on Linux, macOS and Windows', () => {
    expect(BROWSERS.map((b) => b.id).sort()).toEqual(['brave', 'chrome', 'chromium', 'edge', 'firefox', 'opera', 'vivaldi']);
    for (const b of BROWSERS) {
      expect(b.linux.user.length, b.id).toBeGreaterThan(0);
      expect(b.darwin.user.length, b.id).toBeGreaterThan(0);
      expect(b.win32.key, b.id).toMatch(/^Software\\.+\\NativeMessagingHosts$/);
      expect(b.flavour).toBe(b.id === 'firefox' ? 'firefox' : 'chromium');
    }
  });

  it('has every Linux directory the browsers document', () => {
    const user = manifestTargets('linux', 'user', '/home/u').map((t) => t.path);
    for (const d of [
      '.config/google-chrome/NativeMessagingHosts',
      '.config/chromium/NativeMessagingHosts',
      '.config/microsoft-edge/NativeMessagingHosts',
      '.config/BraveSoftware/Brave-Browser/NativeMessagingHosts',
      '.config/vivaldi/NativeMessagingHosts',
      '.config/opera/NativeMessagingHosts',
      '.mozilla/native-messaging-hosts',
    ]) {
      expect(user).toContain(`/home/u/${d}/${NATIVE_HOST_NAME}.json`);
    }
    const system = manifestTargets('linux', 'system', '/');
    expect(system.map((t) => t.path).sort()).toEqual(
      [
        '/etc/chromium/native-messaging-hosts',
        '/etc/opt/chrome/native-messaging-hosts',
        '/etc/opt/vivaldi/native-messaging-hosts',
        '/usr/lib/mozilla/native-messaging-hosts',
        '/usr/lib64/mozilla/native-messaging-hosts',
      ].map((d) => `${d}/${NATIVE_HOST_NAME}.json`),
    );
    // Brave reads Chrome's system directory: one file serves both.
    expect(system.find((t) => t.path.startsWith('/etc/opt/chrome/'))?.browsers).toEqual(['chrome', 'brave']);
  });

  it('has macOS locations and Windows registry keys for user and system', () => {
    const mac = manifestTargets('darwin', 'user', '/Users/u').map((t) => t.path);
    expect(mac).toContain(`/Users/u/Library/Application Support/Google/Chrome/NativeMessagingHosts/${NATIVE_HOST_NAME}.json`);
    expect(mac).toContain(`/Users/u/Library/Application Support/Mozilla/NativeMessagingHosts/${NATIVE_HOST_NAME}.json`);
    expect(manifestTargets('darwin', 'system', '/').map((t) => t.path)).toContain(`/Library/Google/Chrome/NativeMessagingHosts/${NATIVE_HOST_NAME}.json`);
    const keys = [...registryTargets('user'), ...registryTargets('system')].map((r) => r.key);
    expect(keys).toContain(`HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\${NATIVE_HOST_NAME}`);
    expect(keys).toContain(`HKLM\\Software\\Mozilla\\NativeMessagingHosts\\${NATIVE_HOST_NAME}`);
    expect(keys).toContain(`HKCU\\Software\\Opera Software\\Opera Stable\\NativeMessagingHosts\\${NATIVE_HOST_NAME}`);
    expect(keys).toHaveLength(14);
  });

  it('renders Firefox manifests with allowed_extensions and Chromium ones with the fixed origin', () => {
    expect(hostManifest('firefox', '/x/tunlock-host')).toEqual({
      name: NATIVE_HOST_NAME,
      description: expect.any(String),
      path: '/x/tunlock-host',
      type: 'stdio',
      allowed_extensions: [FIREFOX_ADDON_ID],
    });
    expect(hostManifest('chromium', '/x/tunlock-host')).toEqual({
      name: NATIVE_HOST_NAME,
      description: expect.any(String),
      path: '/x/tunlock-host',
      type: 'stdio',
      allowed_origins: [CHROMIUM_ORIGIN],
    });
    expect(CHROMIUM_ORIGIN).toMatch(/^chrome-extension:\/\/[a-p]{32}\/$/);
    expect(manifestProblems(renderHostManifest('firefox', '/x/h'), 'firefox')).toEqual([]);
    expect(manifestProblems(renderHostManifest('chromium', '/x/h'), 'chromium')).toEqual([]);
    expect(manifestProblems(renderHostManifest('chromium', '/x/h'), 'firefox')).toEqual([`allowed_extensions lacks ${FIREFOX_ADDON_ID}`]);
    expect(manifestProblems('{', 'chromium')[0]).toMatch(/not valid JSON/);
    expect(manifestProblems(JSON.stringify({ name: 'x', type: 'stdio', path: 'rel' }), 'chromium')).toHaveLength(3);
  });

  it('is the only place that knows a browser path: install, uninstall and doctor hold none and branch on no platform', () => {
    for (const f of ['installer/src/install.ts', 'installer/src/uninstall.ts', 'host/src/cli/doctor.ts']) {
      const src = readFileSync(f, 'utf8');
      expect(src, f).not.toMatch(/NativeMessagingHosts|native-messaging-hosts|google-chrome|\.mozilla/);
      expect(src, f).not.toMatch(/switch \(\s*(process\.)?platform/);
    }
  });
});

// The one table of where browsers look for native-messaging host manifests, for every browser × OS. Install,
// uninstall and `tunlock doctor` all read it; nothing else in tunlock knows a browser path.
// Sources: Chrome/Chromium, Firefox (MDN), Edge, Brave, Vivaldi, Opera docs, collected in /work/shared/TOOLCHAIN.md.
import { CHROMIUM_ORIGIN, FIREFOX_ADDON_ID, NATIVE_HOST_NAME } from './extension-ids.js';
import { joinPath } from './paths.js';

export type Platform = 'linux' | 'darwin' | 'win32';
export type Scope = 'user' | 'system';
export type ManifestFlavour = 'chromium' | 'firefox';
export type BrowserId = 'chrome' | 'chromium' | 'brave' | 'edge' | 'vivaldi' | 'opera' | 'firefox';

/** Directory locations: user ones are relative to the home directory, system ones absolute. */
interface DirLocations {
  user: string[];
  system: string[];
}

export interface BrowserLocations {
  id: BrowserId;
  name: string;
  flavour: ManifestFlavour;
  linux: DirLocations;
  darwin: DirLocations;
  /** Registry key (under HKCU for the user, HKLM for the system) whose default value is the manifest path. */
  win32: { key: string };
  /** How to tell the browser is present on Linux: programs on PATH, or its profile directory (home-relative). */
  detect: { programs: string[]; profile: string };
}

const MAC_USER = 'Library/Application Support';

export const BROWSERS: readonly BrowserLocations[] = [
  {
    id: 'chrome',
    name: 'Google Chrome',
    flavour: 'chromium',
    linux: { user: ['.config/google-chrome/NativeMessagingHosts'], system: ['/etc/opt/chrome/native-messaging-hosts'] },
    darwin: { user: [`${MAC_USER}/Google/Chrome/NativeMessagingHosts`], system: ['/Library/Google/Chrome/NativeMessagingHosts'] },
    win32: { key: 'Software\\Google\\Chrome\\NativeMessagingHosts' },
    detect: { programs: ['google-chrome', 'google-chrome-stable', 'google-chrome-beta'], profile: '.config/google-chrome' },
  },
  {
    id: 'chromium',
    name: 'Chromium',
    flavour: 'chromium',
    linux: { user: ['.config/chromium/NativeMessagingHosts'], system: ['/etc/chromium/native-messaging-hosts'] },
    darwin: {
      user: [`${MAC_USER}/Chromium/NativeMessagingHosts`],
      system: ['/Library/Application Support/Chromium/NativeMessagingHosts'],
    },
    win32: { key: 'Software\\Chromium\\NativeMessagingHosts' },
    detect: { programs: ['chromium', 'chromium-browser'], profile: '.config/chromium' },
  },
  {
    id: 'brave',
    name: 'Brave',
    flavour: 'chromium',
    // Brave reads Chrome's system directory; the shared file is written once.
    linux: { user: ['.config/BraveSoftware/Brave-Browser/NativeMessagingHosts'], system: ['/etc/opt/chrome/native-messaging-hosts'] },
    darwin: { user: [`${MAC_USER}/BraveSoftware/Brave-Browser/NativeMessagingHosts`], system: [] },
    win32: { key: 'Software\\BraveSoftware\\Brave-Browser\\NativeMessagingHosts' },
    detect: { programs: ['brave-browser', 'brave'], profile: '.config/BraveSoftware/Brave-Browser' },
  },
  {
    id: 'edge',
    name: 'Microsoft Edge',
    flavour: 'chromium',
    linux: { user: ['.config/microsoft-edge/NativeMessagingHosts'], system: [] },
    darwin: { user: [`${MAC_USER}/Microsoft Edge/NativeMessagingHosts`], system: ['/Library/Microsoft/Edge/NativeMessagingHosts'] },
    win32: { key: 'Software\\Microsoft\\Edge\\NativeMessagingHosts' },
    detect: { programs: ['microsoft-edge', 'microsoft-edge-stable'], profile: '.config/microsoft-edge' },
  },
  {
    id: 'vivaldi',
    name: 'Vivaldi',
    flavour: 'chromium',
    linux: { user: ['.config/vivaldi/NativeMessagingHosts'], system: ['/etc/opt/vivaldi/native-messaging-hosts'] },
    darwin: { user: [`${MAC_USER}/Vivaldi/NativeMessagingHosts`], system: [] },
    win32: { key: 'Software\\Vivaldi\\NativeMessagingHosts' },
    detect: { programs: ['vivaldi', 'vivaldi-stable'], profile: '.config/vivaldi' },
  },
  {
    id: 'opera',
    name: 'Opera',
    flavour: 'chromium',
    linux: { user: ['.config/opera/NativeMessagingHosts'], system: [] },
    darwin: { user: [`${MAC_USER}/com.operasoftware.Opera/NativeMessagingHosts`], system: [] },
    win32: { key: 'Software\\Opera Software\\Opera Stable\\NativeMessagingHosts' },
    detect: { programs: ['opera'], profile: '.config/opera' },
  },
  {
    id: 'firefox',
    name: 'Firefox',
    flavour: 'firefox',
    // /usr/lib64 is used only where the distribution has that directory (see `requiresExisting`).
    linux: {
      user: ['.mozilla/native-messaging-hosts'],
      system: ['/usr/lib/mozilla/native-messaging-hosts', '/usr/lib64/mozilla/native-messaging-hosts'],
    },
    darwin: {
      user: [`${MAC_USER}/Mozilla/NativeMessagingHosts`],
      system: ['/Library/Application Support/Mozilla/NativeMessagingHosts'],
    },
    win32: { key: 'Software\\Mozilla\\NativeMessagingHosts' },
    detect: { programs: ['firefox', 'firefox-esr'], profile: '.mozilla/firefox' },
  },
];

/**
 * A system directory whose first component must already exist for us to use it: we never create
 * `/usr/lib64` on a distribution that has none.
 */
export function requiresExisting(dir: string): string | null {
  return dir.startsWith('/usr/lib64/') ? '/usr/lib64' : null;
}

export const MANIFEST_FILE = `${NATIVE_HOST_NAME}.json`;

export interface ManifestTarget {
  /** the browsers that read this file (Chrome and Brave share a system directory) */
  browsers: BrowserId[];
  flavour: ManifestFlavour;
  scope: Scope;
  /** absolute path of the manifest file (as the browser sees it, without any install root) */
  path: string;
}

export interface RegistryTarget {
  browsers: BrowserId[];
  scope: Scope;
  /** full key, e.g. HKCU\Software\Google\Chrome\NativeMessagingHosts\dev.tunlock.host */
  key: string;
}

/** Every manifest file location for one platform and scope, deduplicated (one file may serve several browsers). */
export function manifestTargets(
  platform: Exclude<Platform, 'win32'>,
  scope: Scope,
  home: string,
  only?: readonly BrowserId[],
): ManifestTarget[] {
  const byPath = new Map<string, ManifestTarget>();
  for (const b of BROWSERS) {
    if (only && !only.includes(b.id)) continue;
    for (const dir of b[platform][scope]) {
      const path = joinPath(scope === 'user' ? joinPath(home, dir) : dir, MANIFEST_FILE);
      const t = byPath.get(path);
      if (t) {
        if (t.flavour !== b.flavour) throw new Error(`${path}: shared by browsers with different manifest flavours`);
        t.browsers.push(b.id);
      } else byPath.set(path, { browsers: [b.id], flavour: b.flavour, scope, path });
    }
  }
  return [...byPath.values()];
}

/** The Windows registry entries (the default value of each key is the manifest's path). */
export function registryTargets(scope: Scope): RegistryTarget[] {
  const hive = scope === 'user' ? 'HKCU' : 'HKLM';
  return BROWSERS.map((b) => ({ browsers: [b.id], scope, key: [hive, b.win32.key, NATIVE_HOST_NAME].join('\\') }));
}

export interface HostManifest {
  name: string;
  description: string;
  path: string;
  type: 'stdio';
  allowed_origins?: string[];
  allowed_extensions?: string[];
}

/** The manifest text: Chromium browsers name the exact extension origin, Firefox the add-on ID. */
export function hostManifest(flavour: ManifestFlavour, hostPath: string): HostManifest {
  const base = { name: NATIVE_HOST_NAME, description: 'tunlock: the VPN kill switch (native host)', path: hostPath, type: 'stdio' as const };
  return flavour === 'firefox' ? { ...base, allowed_extensions: [FIREFOX_ADDON_ID] } : { ...base, allowed_origins: [CHROMIUM_ORIGIN] };
}

export function renderHostManifest(flavour: ManifestFlavour, hostPath: string): string {
  return `${JSON.stringify(hostManifest(flavour, hostPath), null, 2)}\n`;
}

/** Problems with a manifest someone else may have written (doctor): empty when it would work for us. */
export function manifestProblems(text: string, flavour: ManifestFlavour): string[] {
  let m: Partial<HostManifest>;
  try {
    m = JSON.parse(text) as Partial<HostManifest>;
  } catch (e) {
    return [`not valid JSON (${(e as Error).message})`];
  }
  const problems: string[] = [];
  if (m.name !== NATIVE_HOST_NAME) problems.push(`name is ${JSON.stringify(m.name)}, not ${NATIVE_HOST_NAME}`);
  if (m.type !== 'stdio') problems.push('type is not "stdio"');
  if (typeof m.path !== 'string' || !m.path.startsWith('/')) problems.push('path is not an absolute path');
  if (flavour === 'firefox' && !m.allowed_extensions?.includes(FIREFOX_ADDON_ID)) problems.push(`allowed_extensions lacks ${FIREFOX_ADDON_ID}`);
  if (flavour === 'chromium' && !m.allowed_origins?.includes(CHROMIUM_ORIGIN)) problems.push(`allowed_origins lacks ${CHROMIUM_ORIGIN}`);
  return problems;
}

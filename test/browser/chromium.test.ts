// The built extension in headless Chromium, with the real tunlock-host and a real tunlockd in a lab
// namespace. Needs root (namespaces, nftables): skipped loudly otherwise, a failure under CI.
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHROMIUM_EXTENSION_ID } from '../../host/src/common/extension-ids.js';
import type { StatusT } from '../../extension/src/shared/protocol.js';
import { BrowserLab, canRunRootTier, CLIENT_V4, CLIENT_V6, ROOT, STABLE_DIR, STUN_PORT, STUN_V4, STUN_V6, TUN } from './browser-lab.js';
import type { ExtGlobal, IceResult } from './helpers.js';
import { CHROME_DIST, CHROMIUM_ARGS, percentile, registerChromiumHost, revealing, SCREENSHOTS, stabilizeForScreenshot, waitFor } from './helpers.js';
import type { CheckedPage, Theme } from './ui-checks.js';
import { axeViolations, both, PopupChecks } from './ui-checks.js';

const RUN = canRunRootTier('browser tests (Chromium)');
const EXT = `chrome-extension://${CHROMIUM_EXTENSION_ID}`;
const REAL = [CLIENT_V4, CLIENT_V6];
const ICE = [`stun:${STUN_V4}:${STUN_PORT}`, `stun:[${STUN_V6}]:${STUN_PORT}`];
const DROPS = Number(process.env.TUNLOCK_DROPS ?? 20);
const LOADS = Number(process.env.TUNLOCK_LOADS ?? 40);
/** The test-only build with `<all_urls>` required (extension/build.mjs, TUNLOCK_TEST_GRANT_ALL_URLS=1). */
const CHROME_TEST_DIST = join(ROOT, 'extension/dist/chrome-test');

describe.runIf(RUN)('Chromium: extension + tunlock-host + tunlockd', () => {
  let lab: BrowserLab;
  let ctx: BrowserContext;
  let popup: Page;
  /** the same popup with prefers-color-scheme: dark */
  let popupDark: Page;
  const checks = new PopupChecks('chromium');
  /** The WebRTC policy the extension set on its first start, before any test touched the setting. */
  let firstStartPolicy: string;
  const checking = checks.checking.bind(checks);

  async function launch(userDataDir: string, dist = CHROME_DIST, lang?: string): Promise<BrowserContext> {
    return chromium.launchPersistentContext(userDataDir, {
      executablePath: lab.browserWrapper('chromium'),
      headless: true,
      viewport: { width: 380, height: 640 },
      args: [...CHROMIUM_ARGS, `--disable-extensions-except=${dist}`, `--load-extension=${dist}`, ...(lang ? [`--lang=${lang}`] : [])],
      // Chromium on Linux takes its UI language from the environment; --lang is for the other platforms.
      ...(lang ? { env: { ...process.env, LANGUAGE: lang, LANG: `${lang}_DE.UTF-8` } } : {}),
    });
  }
  const checked = (page: Page): CheckedPage => ({
    run: (script) => page.evaluate(script),
    shot: async (path) => void (await page.locator('main').screenshot({ path })),
  });
  async function openPopup(theme: Theme, c = ctx): Promise<Page> {
    const p = await c.newPage();
    await p.emulateMedia({ colorScheme: theme });
    await p.goto(`${EXT}/src/popup/index.html`);
    return p;
  }
  const title = () => popup.evaluate(() => (globalThis as unknown as ExtGlobal).chrome.action.getTitle({}));
  const badge = () => popup.evaluate(() => (globalThis as unknown as ExtGlobal).chrome.action.getBadgeText({}));
  const label = () => popup.getByTestId('state-label').textContent();
  /** Every check of ui-checks.ts on this state, light and dark (the dark page must show the same state). */
  async function shot(name: string, pages: [Page, Page] = [popup, popupDark]) {
    const want = await pages[0].getByTestId('state-label').textContent();
    for (const [page, theme] of [[pages[0], 'light'], [pages[1], 'dark']] as const) {
      await waitFor(`${theme} popup shows ${want}`, async () => (await page.getByTestId('state-label').textContent()) === want);
      // No request in flight (controls disabled while one is): the picture must not depend on reply timing.
      await page.locator('main[aria-busy="false"]').waitFor();
      await page.evaluate(stabilizeForScreenshot, [lab.dir, STABLE_DIR] as [string, string]);
      await checks.check(name, theme, checked(page));
    }
  }
  async function gather(page: Page): Promise<IceResult> {
    return page.evaluate((servers) => (window as unknown as { gather: (s: string[]) => Promise<IceResult> }).gather(servers), ICE);
  }
  const webrtcPolicy = () => popup.evaluate(() => (globalThis as unknown as ExtGlobal).chrome.privacy.network.webRTCIPHandlingPolicy.get({}).then((d) => d.value as string));

  beforeAll(async () => {
    lab = await BrowserLab.create();
    lab.tunlock('tunnel', 'add', TUN, '--endpoint', '198.51.100.10:51820/udp');
    const dir = join(lab.dir, 'chromium-profile');
    registerChromiumHost(dir, lab.hostPath);
    ctx = await launch(dir);
    await (ctx.serviceWorkers()[0] ?? ctx.waitForEvent('serviceworker'));
    popup = await openPopup('light');
    await waitFor('first start: Off', async () => (await label()) === 'Off');
    firstStartPolicy = await webrtcPolicy();
  });
  // Every test starts from the same state: daemon up, tunnel down, lock off, WebRTC protection on, and fresh
  // popups (nothing left over from an earlier test's page: open details, a verdict, a countdown).
  beforeEach(async () => {
    await lab.reset();
    await popup?.close();
    await popupDark?.close();
    popup = await openPopup('light');
    popupDark = await openPopup('dark');
    await waitFor('Off', async () => (await label()) === 'Off', 40_000);
    await popup.locator('main[aria-busy="false"]').waitFor();
    await popup.getByTestId('webrtc-protect').click();
    await waitFor('WebRTC protected', async () => (await webrtcPolicy()) === 'disable_non_proxied_udp');
  });
  /** Locks (tunnel down): the popup shows Blocking. */
  async function blocking(): Promise<void> {
    lab.tunlock('lock', 'on');
    await waitFor('Blocking', async () => (await label()) === 'Blocking');
  }
  afterAll(async () => {
    await ctx?.close().catch(() => undefined);
    lab?.closeSync();
  });

  it('opens the onboarding page on install: app reachable, icons explained, a pin prompt with a picture (button not pinned yet)', async () => {
    const welcome = await waitFor('onboarding tab', () => ctx.pages().find((p) => p.url().startsWith(`${EXT}/src/onboarding/index.html`)));
    await welcome.setViewportSize({ width: 900, height: 900 });
    await welcome.emulateMedia({ colorScheme: 'light' });
    await waitFor('host check', async () => (await welcome.getByTestId('host-check').getAttribute('data-tone')) === 'ok');
    expect(await welcome.getByTestId('host-check').textContent()).toContain('Connected');
    const unpinned = await welcome.evaluate(() => (globalThis as unknown as { chrome: { action: { getUserSettings(): Promise<{ isOnToolbar: boolean }> } } }).chrome.action.getUserSettings());
    expect(unpinned.isOnToolbar).toBe(false);
    expect(await welcome.getByTestId('pin-prompt').textContent()).toContain('Pin the tunlock button');
    expect(await welcome.locator('[data-testid=pin-section] svg[role=img]').count()).toBe(1);
    expect(await welcome.locator('[data-testid=legend] img').count()).toBe(12); // 6 states × light and dark icon
    expect(await welcome.getByTestId('install-intro').textContent()).toContain('Linux');
    for (const theme of ['light', 'dark'] as const) {
      await welcome.emulateMedia({ colorScheme: theme });
      expect(await axeViolations(checked(welcome)), `onboarding (${theme})`).toEqual([]);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await welcome.screenshot({ path: join(SCREENSHOTS, `chromium-onboarding-${theme}.png`), fullPage: true });
    }
    await welcome.close();
  });

  it('has the fixed extension ID and reaches the daemon: state Off', checking(both('off'), async () => {
    expect(ctx.serviceWorkers()[0]!.url()).toContain(CHROMIUM_EXTENSION_ID);
    await waitFor('Off', async () => (await label()) === 'Off');
    expect(await title()).toMatch(/^tunlock: Off — /);
    await shot('off');
  }));

  it('protects WebRTC from the first start: disable_non_proxied_udp', async () => {
    expect(firstStartPolicy).toBe('disable_non_proxied_udp');
  });

  it('the toggle locks and unlocks (checked in the namespace ruleset)', checking(both('blocking'), async () => {
    await popup.getByTestId('lock-toggle').click();
    await waitFor('nft table with policy drop', () => /policy drop/.test(lab.nft()));
    await waitFor('Blocking', async () => (await label()) === 'Blocking');
    expect(await title()).toBe(`tunlock: Blocking — The VPN (${TUN}) is down: nothing leaves this computer except to your local network.`);
    expect(await badge()).toBe(''); // the icon (closed padlock with a bar) says enough
    await shot('blocking');
    await popup.getByTestId('lock-toggle').click();
    await waitFor('table removed', () => lab.nft() === '');
    await waitFor('Off', async () => (await label()) === 'Off');
  }));

  it(`icon, title and popup follow a tunnel drop (${DROPS} drops, latency measured)`, checking(both('protected'), async () => {
    await popup.getByTestId('lock-toggle').click();
    await waitFor('locked', () => /policy drop/.test(lab.nft()));
    const latencies: number[] = [];
    for (let i = 0; i < DROPS; i++) {
      await lab.tunUp();
      await waitFor('Protected', async () => (await title()).startsWith('tunlock: Protected'), 5000, 5);
      if (i === 0) {
        await waitFor('popup Protected', async () => (await label()) === 'Protected');
        await shot('protected');
      }
      const t0 = performance.now();
      lab.tunDown();
      await waitFor('Blocking', async () => (await title()).startsWith('tunlock: Blocking'), 5000, 2);
      latencies.push(performance.now() - t0);
    }
    await waitFor('popup Blocking', async () => (await label()) === 'Blocking');
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    console.log(`[measure] Chromium tunnel drop → toolbar title: n=${DROPS} p50=${p50.toFixed(1)} ms p95=${p95.toFixed(1)} ms max=${Math.max(...latencies).toFixed(1)} ms`);
    // The figure is a measurement (the bar, p95 < 250 ms, is judged by the bench on a quiet machine); the test
    // asserts the behaviour: every drop reached the toolbar.
    expect(latencies).toHaveLength(DROPS);
  }));

  it('standby after a deliberate disconnect: "Not protected", in the warning colour, with a badge', checking(both('standby'), async () => {
    await blocking();
    await lab.tunUp();
    await waitFor('Protected', async () => (await label()) === 'Protected');
    lab.tunlock('tunnel', 'down', TUN, '--intentional');
    lab.tunDown();
    await waitFor('Standby', async () => (await label()) === 'Not protected');
    expect(await popup.getByTestId('state-detail').textContent()).toBe('VPN disconnected; the lock returns when the VPN reconnects.');
    expect(await popup.getByTestId('state').getAttribute('data-tone')).toBe('warn');
    const warn = (p: Page) => p.evaluate(() => [getComputedStyle(document.querySelector('[data-testid=state-label]')!).color, getComputedStyle(document.documentElement).getPropertyValue('--warn').trim()]);
    const [lightColour, lightToken] = await warn(popup);
    expect(lightToken).toBe('#8f4300');
    expect(lightColour).toBe('rgb(143, 67, 0)');
    expect((await warn(popupDark))[0]).toBe('rgb(255, 189, 92)');
    expect(await badge()).toBe('!');
    expect(await title()).toBe('tunlock: Not protected — VPN disconnected; the lock returns when the VPN reconnects.');
    expect(await popup.getByTestId('switch-caption').textContent()).toBe('On, waits for VPN');
    await shot('standby');
    lab.tunlock('lock', 'on');
    await waitFor('Blocking', async () => (await label()) === 'Blocking');
  }));

  it('captive portal: blocked while locked; "Log in to this network" loads it in a tab with WebRTC forced strict; "Close now" restores', checking(both('exception'), async () => {
    await blocking();
    // The lab's portal instead of detectportal.firefox.com (outside the lab), set where a user would.
    const options = await ctx.newPage();
    await options.goto(`${EXT}/src/options/index.html`);
    await options.getByTestId('portal-url').fill(lab.portalUrl);
    await options.getByTestId('portal-save').click();
    await waitFor('portal URL saved', async () => {
      const got = await options.evaluate(() => (globalThis as unknown as ExtGlobal).chrome.storage.local.get('settings'));
      return (got.settings as { portalUrl?: string } | undefined)?.portalUrl === lab.portalUrl;
    });
    await options.close();
    // WebRTC protection off, so forcing and restoring are visible in the browser's setting.
    await popup.getByTestId('webrtc-off').click();
    await waitFor('WebRTC given back', async () => (await webrtcPolicy()) === 'default');

    expect(await label()).toBe('Blocking');
    const probe = await ctx.newPage();
    const portalLoads = () =>
      probe.goto(lab.portalUrl, { timeout: 5000 }).then(
        async () => ((await probe.locator('h1').textContent({ timeout: 1000 }).catch(() => null)) ?? '').includes('Lab Wi-Fi login'),
        () => false,
      );
    expect(await portalLoads()).toBe(false); // locked, tunnel down: the kernel rejects it

    await popup.getByTestId('captive-open').click();
    await waitFor('Portal exception', async () => (await label()) === 'Wi-Fi login open');
    expect(await popup.getByTestId('state-detail').textContent()).toMatch(/^All web traffic of this account — every tab and every app — leaves outside the VPN and shows your real IP for another \d:\d\d\.$/);
    expect(await badge()).toMatch(/^[12]m$/);
    const tab = await waitFor('the portal tab the extension opened', () => ctx.pages().find((p) => p !== probe && p.url().startsWith(lab.portalUrl)));
    await waitFor('portal page loaded in the tab', async () => (await tab.locator('h1').textContent({ timeout: 500 })) === 'Lab Wi-Fi login');
    expect(await portalLoads()).toBe(true);
    expect(await popup.getByTestId('captive-countdown').textContent()).toMatch(/^(2:0[01]|1:[5]\d)$/);
    await waitFor('WebRTC forced strict', async () => (await webrtcPolicy()) === 'disable_non_proxied_udp');
    expect(await popup.getByTestId('webrtc-text').textContent()).toMatch(/^Forced to no UDP outside a proxy while the Wi-Fi login hole is open/);
    expect(await popup.getByTestId('webrtc-text').textContent()).toContain('your setting comes back');
    const st = JSON.parse(lab.tunlock('--json', 'status')) as StatusT;
    expect(st.captive).toMatchObject({ uid: 0, iface: 'eth0', resolvers: ['203.0.113.1'] });

    await popup.getByTestId('captive-extend').click();
    await waitFor('+1 minute', async () => /^(3:00|2:[45]\d)$/.test((await popup.getByTestId('captive-countdown').textContent()) ?? ''));

    // The screenshot: fresh popups with their clock fixed 2:30 before the hole's end, so the PNG is the same every run.
    const expiresAt = (JSON.parse(lab.tunlock('--json', 'status')) as StatusT).captive!.expiresAt;
    const stills: Page[] = [];
    for (const theme of ['light', 'dark'] as const) {
      const still = await ctx.newPage();
      await still.emulateMedia({ colorScheme: theme });
      await still.clock.setFixedTime(expiresAt - 150_000);
      await still.goto(`${EXT}/src/popup/index.html`);
      await waitFor('frozen countdown', async () => (await still.getByTestId('captive-countdown').textContent()) === '2:30');
      stills.push(still);
    }
    await shot('exception', [stills[0]!, stills[1]!]);
    for (const still of stills) await still.close();

    await popup.getByTestId('captive-close').click();
    await waitFor('Blocking again', async () => (await label()) === 'Blocking');
    await waitFor('WebRTC setting restored', async () => (await webrtcPolicy()) === 'default');
    expect(await portalLoads()).toBe(false); // the hole is gone
    await probe.close();
    await tab.close();
    await popup.getByTestId('webrtc-protect').click();
    await waitFor('protect again', async () => (await webrtcPolicy()) === 'disable_non_proxied_udp');
  }));

  it('a daemon refusal shows in the popup (no endless spinner)', async () => {
    // The tunnel comes up between the popup's render and the click: the daemon refuses, the popup says why.
    await blocking();
    await lab.tunUp();
    await waitFor('Protected', async () => (await label()) === 'Protected');
    const reply = await popup.evaluate(async () => {
      const port = (globalThis as unknown as { chrome: { runtime: { connect(i: object): { postMessage(m: object): void; onMessage: { addListener(cb: (m: { kind: string; id?: number; error?: string }) => void): void } } } } }).chrome.runtime.connect({ name: 'tunlock-ui' });
      return new Promise<string>((ok) => {
        port.onMessage.addListener((m) => {
          if (m.kind === 'reply' && m.id === 7) ok(m.error ?? 'ok');
        });
        port.postMessage({ kind: 'daemon', id: 7, request: { type: 'captiveOpen', seconds: 120 } });
      });
    });
    expect(reply).toMatch(/the tunnel is up: a captive exception is not needed/);
    lab.tunDown();
    await waitFor('Blocking', async () => (await label()) === 'Blocking');
  });

  it('the options page lists bound apps (tunlock bind user nobody)', async () => {
    lab.tunlock('bind', 'user', 'nobody');
    const options = await ctx.newPage();
    await options.goto(`${EXT}/src/options/index.html`);
    const row = options.getByTestId('bindings').getByRole('row', { name: /nobody/ });
    await waitFor('binding listed', async () => ((await row.textContent({ timeout: 500 })) ?? '').includes('uid 65534'));
    expect(await row.textContent()).toMatch(/^User\s*nobody\s*uid 65534\s*\d+ packets? blocked$/);
    expect(await options.getByText('tunlock run -- CMD').count()).toBe(1);
    await options.evaluate(stabilizeForScreenshot, [lab.dir, STABLE_DIR] as [string, string]);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await options.locator('section[aria-labelledby=bind-h]').screenshot({ path: join(SCREENSHOTS, 'chromium-options-bindings.png') });
    lab.tunlock('unbind', 'user', 'nobody');
    await waitFor('binding gone', async () => (await options.getByTestId('bindings-none').count()) === 1);
    await options.close();
  });

  it('the error state appears when the daemon is stopped, and clears when it is back', checking(both('error-daemon'), async () => {
    await blocking();
    await lab.killDaemon();
    await waitFor('daemon error', async () => (await label()) === 'tunlock service not running', 15_000);
    expect(await title()).toMatch(/^tunlock: tunlock service not running — Still blocked by the firewall/);
    // The two facts that matter in front; the socket path only behind the details toggle.
    expect(await popup.getByTestId('state-detail').textContent()).toMatch(/^Still blocked by the firewall/);
    expect(await popup.getByTestId('state').innerText()).not.toContain(lab.dir);
    expect(await popup.getByTestId('technical').textContent()).toContain(`start tunlockd with --socket ${lab.socket}`);
    expect(await popup.getByTestId('technical').evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await popup.getByTestId('lock-toggle').isDisabled()).toBe(true);
    await shot('error-daemon');
    expect(lab.nft()).toMatch(/policy drop/); // the kernel rules stayed
    await lab.startDaemon();
    await waitFor('back to Blocking', async () => (await label()) === 'Blocking', 40_000);
  }));

  it('WebRTC: without protection the real address leaks; with protection nothing reveals it', async () => {
    lab.tunlock('lock', 'off');
    await waitFor('Off', async () => (await label()) === 'Off');
    const page = await ctx.newPage();
    await page.goto(lab.pageUrl);

    const before = lab.stunLog.length;
    const strict = await gather(page);
    expect(strict.available).toBe(true);
    expect(revealing(strict, REAL)).toEqual([]);
    expect(lab.stunLog.length).toBe(before);

    await popup.getByTestId('webrtc-off').click();
    await waitFor('cleared', async () => (await webrtcPolicy()) === 'default');
    const open = await gather(page);
    console.log(`[measure] Chromium ICE without protection: ${open.candidates.length} candidates, revealing: ${JSON.stringify(revealing(open, REAL))}`);
    expect(revealing(open, REAL).length).toBeGreaterThan(0); // the test can see a leak
    expect(lab.stunLog.length).toBeGreaterThan(before);

    await popup.getByTestId('webrtc-protect').click();
    await waitFor('strict again', async () => (await webrtcPolicy()) === 'disable_non_proxied_udp');
    const again = await gather(page);
    expect(revealing(again, REAL)).toEqual([]);
    await page.close();
  });

  it('WebRTC video-call relaxation: only while protected and the site is open; no path outside the tunnel', checking(both('protected-relaxed'), async () => {
    const options = await ctx.newPage();
    options.on('pageerror', (e) => console.error(`options page error: ${e.message}`));
    options.on('console', (m) => console.log(`options console: ${m.text()}`));
    await options.goto(`${EXT}/src/options/index.html`);
    await options.getByTestId('site-input').fill(lab.pageUrl);
    await options.getByRole('button', { name: 'Add' }).click();
    await waitFor('site listed', async () => (await options.getByTestId('sites').textContent())?.includes('http://127.0.0.1:8088'));
    await options.close();

    // The allowed site open but the lock off: no relaxation.
    const call = await ctx.newPage();
    await call.goto(lab.pageUrl);
    await new Promise((r) => setTimeout(r, 300));
    expect(await webrtcPolicy()).toBe('disable_non_proxied_udp');

    lab.tunlock('lock', 'on');
    await lab.tunUp();
    await waitFor('Protected', async () => (await label()) === 'Protected');
    await waitFor('relaxed', async () => (await webrtcPolicy()) === 'default_public_interface_only');
    expect(await popup.getByTestId('webrtc-text').textContent()).toContain('Relaxed for a video call');
    await shot('protected-relaxed');
    const before = lab.stunLog.length;
    const relaxed = await gather(call);
    console.log(`[measure] Chromium ICE relaxed under the lock: ${JSON.stringify(relaxed.candidates)}`);
    expect(relaxed.candidates.filter((c) => / typ srflx /.test(c) && revealing({ available: true, candidates: [c] }, REAL).length)).toEqual([]);
    expect(lab.stunLog.length).toBe(before); // the kernel let no STUN packet out of eth0

    // The tunnel drops: the lock is no longer `protected`, so the relaxation ends.
    lab.tunDown();
    await waitFor('strict after drop', async () => (await webrtcPolicy()) === 'disable_non_proxied_udp');
    await lab.tunUp();
    await waitFor('relaxed again', async () => (await webrtcPolicy()) === 'default_public_interface_only');
    // Closing the last allowed tab ends it too.
    await call.close();
    await waitFor('strict after close', async () => (await webrtcPolicy()) === 'disable_non_proxied_udp');
    lab.tunDown();
  }));

  it(`block mode (test build with <all_urls> granted) removes RTCPeerConnection; page-load cost measured (${LOADS} loads per arm)`, async () => {
    // Headless automation cannot click Chromium's permission prompt, so this uses a build in which the
    // permission is required (granted at load). The shipped build keeps it optional.
    execFileSync(process.execPath, [join(ROOT, 'extension/build.mjs'), 'chrome'], { env: { ...process.env, TUNLOCK_TEST_GRANT_ALL_URLS: '1' }, stdio: 'ignore' });
    const granted = await launch(join(lab.dir, 'chromium-granted'), CHROME_TEST_DIST);
    try {
      await (granted.serviceWorkers()[0] ?? granted.waitForEvent('serviceworker'));
      const p = await granted.newPage();
      await p.goto(`${EXT}/src/popup/index.html`);
      const page = await granted.newPage();
      const url = `${lab.pageUrl}blank`;
      const hasRtc = async () => {
        await page.goto(url);
        return page.evaluate(() => typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function');
      };
      expect(await hasRtc()).toBe(true);
      const measure = async (n: number, into: { wall: number[]; dcl: number[] }) => {
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          await page.goto(url);
          into.wall.push(performance.now() - t0);
          into.dcl.push(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).domContentLoadedEventEnd));
        }
      };
      const off = { wall: [] as number[], dcl: [] as number[] };
      const on = { wall: [] as number[], dcl: [] as number[] };
      await measure(5, { wall: [], dcl: [] }); // warm-up
      for (let round = 0; round < 2; round++) {
        await p.getByTestId('webrtc-protect').click();
        await waitFor('script unregistered', async () => await hasRtc());
        await measure(LOADS / 2, off);
        await p.getByTestId('webrtc-block').click();
        await waitFor('script registered', async () => !(await hasRtc()));
        await measure(LOADS / 2, on);
      }
      expect(await p.getByTestId('webrtc-text').textContent()).toBe('WebRTC is off in every page.');
      expect(await page.evaluate(() => [typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection, typeof (globalThis as { webkitRTCPeerConnection?: unknown }).webkitRTCPeerConnection])).toEqual(['undefined', 'undefined']);
      const f = (v: number[]) => `median ${percentile(v, 50).toFixed(2)} ms, p95 ${percentile(v, 95).toFixed(2)} ms`;
      console.log(`[measure] Chromium page load, ${LOADS} loads per arm, local page (page.goto wall time): protect ${f(off.wall)}; block ${f(on.wall)}`);
      console.log(`[measure] Chromium page load, ${LOADS} loads per arm (navigation timing, DOMContentLoaded end): protect ${f(off.dcl)}; block ${f(on.dcl)}`);
    } finally {
      await granted.close();
    }
  });

  it('zero configuration: the popup offers the tunnel that is up and adopts it in one click; with none, blocking all is an explicit choice', checking(both('detected', 'detected-none'), async () => {
    lab.tunlock('lock', 'off');
    lab.tunlock('tunnel', 'remove', TUN);
    await lab.tunUp();
    await waitFor('detected tunnel offered', async () => (await popup.getByTestId('detected-text').textContent().catch(() => '')) === `VPN detected: the lock holds to ${TUN}.`, 10_000);
    await waitFor('dark popup too', async () => (await popupDark.getByTestId('detected-text').count()) === 1);
    await shot('detected');
    await popup.getByTestId(`adopt-${TUN}`).click();
    await waitFor('adopted', () => (JSON.parse(lab.tunlock('--json', 'status')) as StatusT).tunnels.some((t) => t.iface === TUN));
    // Nothing configured, nothing up: the popup says what the lock would do and asks before blocking all.
    lab.tunlock('tunnel', 'remove', TUN);
    lab.tunDown();
    await waitFor('nothing up', async () => (await popup.getByTestId('detected-text').textContent().catch(() => ''))?.startsWith('No VPN tunnel is up') ?? false, 10_000);
    await waitFor('dark popup too', async () => ((await popupDark.getByTestId('detected-text').textContent().catch(() => '')) ?? '').startsWith('No VPN tunnel is up'));
    await shot('detected-none');
    await popup.getByTestId('block-all').click();
    await waitFor('blocking', () => /policy drop/.test(lab.nft()));
    expect(JSON.parse(lab.tunlock('--json', 'status'))).toMatchObject({ state: 'blocking', tunnels: [] });
    lab.tunlock('lock', 'off');
    lab.tunlock('tunnel', 'add', TUN, '--endpoint', '198.51.100.10:51820/udp');
  }));

  it('without the host installed the popup says so and shows the fix (no spinner)', checking(both('error-no-host'), async () => {
    const dir = join(lab.dir, 'chromium-nohost');
    const bare = await launch(dir);
    try {
      await (bare.serviceWorkers()[0] ?? bare.waitForEvent('serviceworker'));
      const p = await bare.newPage();
      await p.goto(`${EXT}/src/popup/index.html`);
      await waitFor('Not installed', async () => (await p.getByTestId('state-label').textContent()) === 'tunlock app not installed', 5000);
      expect(await p.getByTestId('fix').getByRole('link', { name: 'Setup instructions' }).getAttribute('href')).toBe(`${EXT}/src/onboarding/index.html#install`);
      expect(await p.getByTestId('technical').textContent()).toContain('npm run setup');
      const dark = await openPopup('dark', bare);
      await waitFor('dark: Not installed', async () => (await dark.getByTestId('state-label').textContent()) === 'tunlock app not installed', 5000);
      for (const [page, theme] of [[p, 'light'], [dark, 'dark']] as const) await checks.check('error-no-host', theme, checked(page));
    } finally {
      await bare.close();
    }
  }));

  it('the options page: no serious axe-core violations, light and dark', async () => {
    const options = await ctx.newPage();
    await options.setViewportSize({ width: 900, height: 900 });
    for (const theme of ['light', 'dark'] as const) {
      await options.emulateMedia({ colorScheme: theme });
      await options.goto(`${EXT}/src/options/index.html`);
      await options.getByTestId('options-mode-on').waitFor();
      expect(await axeViolations(checked(options)), `options (${theme})`).toEqual([]);
      await options.evaluate(stabilizeForScreenshot, [lab.dir, STABLE_DIR] as [string, string]);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await options.screenshot({ path: join(SCREENSHOTS, `chromium-options-${theme}.png`), fullPage: true });
    }
    await options.close();
  });

  it('speaks German in a German browser (Chromium --lang=de): popup, toolbar title, numbers', checking(both('blocking-de'), async () => {
    const dir = join(lab.dir, 'chromium-de');
    registerChromiumHost(dir, lab.hostPath);
    lab.tunlock('lock', 'on');
    const de = await launch(dir, CHROME_DIST, 'de');
    try {
      await (de.serviceWorkers()[0] ?? de.waitForEvent('serviceworker'));
      const pages = [await openPopup('light', de), await openPopup('dark', de)] as [Page, Page];
      await waitFor('Blockiert', async () => (await pages[0].getByTestId('state-label').textContent()) === 'Blockiert');
      expect(await pages[0].evaluate(() => document.documentElement.lang)).toBe('de');
      expect(await pages[0].getByTestId('state-detail').textContent()).toBe(`Das VPN (${TUN}) ist getrennt: Nichts verlässt diesen Computer außer ins lokale Netzwerk.`);
      expect(await pages[0].getByTestId('switch-caption').textContent()).toBe('Sperre an');
      expect(await pages[0].getByTestId('blocked').textContent()).toMatch(/^[\d.]+ Pakete? blockiert, seit der Dienst läuft$/);
      expect(await pages[0].evaluate(() => (globalThis as unknown as ExtGlobal).chrome.action.getTitle({}))).toMatch(/^tunlock: Blockiert — /);
      for (const [page, theme] of [[pages[0], 'light'], [pages[1], 'dark']] as const) {
        await page.locator('main[aria-busy="false"]').waitFor();
        await page.evaluate(stabilizeForScreenshot, [lab.dir, STABLE_DIR] as [string, string]);
        await checks.check('blocking-de', theme, checked(page));
      }
    } finally {
      await de.close();
    }
  }));

  it('every popup state was checked in both schemes (switch position, panel fit, axe-core, screenshot)', () => {
    const want = ['off', 'blocking', 'protected', 'standby', 'exception', 'error-daemon', 'protected-relaxed', 'detected', 'detected-none', 'error-no-host', 'blocking-de'];
    expect([...checks.covered].sort()).toEqual(want.flatMap((s) => [`${s}/dark`, `${s}/light`]).sort());
  });
});

// The built extension in headless Firefox ESR over WebDriver BiDi (puppeteer-core), with the real host and
// daemon in the lab namespace; Firefox itself is started by firefox-session.ts (the tier's one launcher).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BrowserLab, canRunRootTier, CLIENT_V4, CLIENT_V6, STABLE_DIR, STUN_PORT, STUN_V4, STUN_V6, TUN } from './browser-lab.js';
import type { ExtGlobal, IceResult } from './helpers.js';
import { percentile, revealing, SCREENSHOTS, stabilizeForScreenshot, waitFor } from './helpers.js';
import { FIREFOX_EXT, launchFirefox } from './firefox-session.js';
import type { CheckedPage } from './ui-checks.js';
import { axeViolations, both, PopupChecks } from './ui-checks.js';

const RUN = canRunRootTier('browser tests (Firefox)');
const EXT = FIREFOX_EXT;
const REAL = [CLIENT_V4, CLIENT_V6];
const ICE = [`stun:${STUN_V4}:${STUN_PORT}`, `stun:[${STUN_V6}]:${STUN_PORT}`];
const DROPS = Number(process.env.TUNLOCK_DROPS ?? 20);

/** A headless Firefox in the lab namespace with the popup open. */
interface Firefox {
  browser: Browser;
  popup: Page;
  close(): Promise<void>;
}

async function startFirefox(lab: BrowserLab, name: string, preferences: Record<string, unknown>): Promise<Firefox> {
  const session = await launchFirefox(lab, { name, preferences });
  try {
    const popup = await session.open('src/popup/index.html', '[data-testid=state-label]', { width: 380, height: 640 });
    return { browser: session.browser, popup, close: session.close };
  } catch (e) {
    await session.close();
    throw e;
  }
}

const checked = (page: Page): CheckedPage => ({
  run: (script) => page.evaluate(script),
  shot: async (path) => {
    const main = await page.waitForSelector('main');
    await main!.screenshot({ path: path as `${string}.png` });
  },
});

describe.runIf(RUN)('Firefox: extension + tunlock-host + tunlockd', () => {
  let lab: BrowserLab;
  let light: Firefox;
  /** a second Firefox with the dark colour scheme (a profile preference, so a browser of its own) */
  let dark: Firefox;
  let browser: Browser;
  let popup: Page;
  const checks = new PopupChecks('firefox');
  /** The WebRTC policy the extension set on its first start, before any test touched the setting. */
  let firstStartPolicy: unknown;
  const checking = checks.checking.bind(checks);
  const webrtcPolicy = () => popup.evaluate(() => (globalThis as unknown as ExtGlobal).browser.privacy.network.webRTCIPHandlingPolicy.get({}).then((d) => d.value));
  const pcEnabled = () => popup.evaluate(() => (globalThis as unknown as ExtGlobal).browser.privacy.network.peerConnectionEnabled!.get({}).then((d) => d.value));
  /** Locks (tunnel down): the popup shows Blocking. */
  async function blocking(): Promise<void> {
    lab.tunlock('lock', 'on');
    await waitFor('Blocking', async () => (await label()) === 'Blocking');
  }

  const label = (page = popup) => page.$eval('[data-testid=state-label]', (e) => e.textContent);
  const title = () => popup.evaluate(() => (globalThis as unknown as ExtGlobal).browser.action.getTitle({}));
  /** Every check of ui-checks.ts on this state, in the light and the dark Firefox. */
  async function shot(name: string) {
    const want = await label();
    for (const [page, theme] of [[popup, 'light'], [dark.popup, 'dark']] as const) {
      await waitFor(`${theme} popup shows ${want}`, async () => (await label(page)) === want);
      await page.waitForSelector('main[aria-busy="false"]'); // no request in flight: controls enabled
      await page.evaluate(stabilizeForScreenshot, [lab.dir, STABLE_DIR] as [string, string]);
      await checks.check(name, theme, checked(page));
    }
  }

  beforeAll(async () => {
    lab = await BrowserLab.create();
    lab.tunlock('tunnel', 'add', TUN, '--endpoint', '198.51.100.10:51820/udp');
    light = await startFirefox(lab, 'ff', { 'layout.css.prefers-color-scheme.content-override': 1 });
    dark = await startFirefox(lab, 'ff-dark', { 'layout.css.prefers-color-scheme.content-override': 0, 'ui.systemUsesDarkTheme': 1 });
    browser = light.browser;
    popup = light.popup;
    await waitFor('first start: Off', async () => (await label()) === 'Off');
    firstStartPolicy = await webrtcPolicy();
  });
  // Every test starts from the same state: daemon up, tunnel down, lock off, WebRTC protection on. The popups
  // stay open (a Firefox page costs a BiDi round of navigation); what they show comes from the daemon.
  beforeEach(async () => {
    await lab.reset();
    for (const page of [popup, dark.popup]) await waitFor('Off', async () => (await label(page)) === 'Off', 40_000);
    await popup.waitForSelector('main[aria-busy="false"]');
    await popup.click('[data-testid=webrtc-protect]');
    await waitFor('WebRTC protected', async () => (await webrtcPolicy()) === 'proxy_only' && (await pcEnabled()) === true);
  });
  afterAll(async () => {
    await light?.close();
    await dark?.close();
    lab?.closeSync();
  });

  it('opens the onboarding page on install: the app answers, the button is already on the toolbar (default_area)', async () => {
    // Puppeteer does not follow navigations to moz-extension: pages, so ask each page where it is.
    const href = (p: Page) => p.evaluate(() => location.href).catch(() => '');
    const welcome = await waitFor('onboarding tab', async () => {
      for (const p of await browser.pages()) if ((await href(p)).startsWith(`${EXT}/src/onboarding/index.html`)) return p;
      return null;
    });
    await welcome.waitForSelector('[data-testid=host-check][data-tone=ok]', { timeout: 20_000 });
    await welcome.waitForSelector('[data-testid=pin-done]');
    expect(await welcome.$eval('[data-testid=pin-done]', (e) => e.textContent)).toContain('The tunlock button is on the toolbar.');
    expect(await axeViolations(checked(welcome)), 'onboarding (light)').toEqual([]);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await welcome.screenshot({ path: join(SCREENSHOTS, 'firefox-onboarding-light.png'), fullPage: true });
    await welcome.close();
  });

  it('reaches the daemon: state Off; WebRTC protected from the first start', checking(both('off'), async () => {
    await waitFor('Off', async () => (await label()) === 'Off');
    expect(await title()).toMatch(/^tunlock: Off — /);
    expect(firstStartPolicy).toBe('proxy_only'); // Firefox's disable_non_proxied_udp leaks srflx: see browser-firefox.ts
    await shot('off');
  }));

  it('the toggle locks and unlocks (checked in the namespace ruleset)', checking(both('blocking'), async () => {
    await popup.click('[data-testid=lock-toggle]');
    await waitFor('nft table with policy drop', () => /policy drop/.test(lab.nft()));
    await waitFor('Blocking', async () => (await label()) === 'Blocking');
    await shot('blocking');
    await popup.click('[data-testid=lock-toggle]');
    await waitFor('table removed', () => lab.nft() === '');
    await waitFor('Off', async () => (await label()) === 'Off');
  }));

  it(`follows a tunnel drop (${DROPS} drops, latency measured)`, checking(both('protected'), async () => {
    lab.tunlock('lock', 'on');
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
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    console.log(`[measure] Firefox tunnel drop → toolbar title: n=${DROPS} p50=${p50.toFixed(1)} ms p95=${p95.toFixed(1)} ms max=${Math.max(...latencies).toFixed(1)} ms`);
    // The figure is a measurement (the bar, p95 < 250 ms, is judged by the bench on a quiet machine); the test
    // asserts the behaviour: every drop reached the toolbar.
    expect(latencies).toHaveLength(DROPS);
  }));

  it('standby after a deliberate disconnect: "Not protected", in the warning colour', checking(both('standby'), async () => {
    await blocking();
    await lab.tunUp();
    await waitFor('Protected', async () => (await label()) === 'Protected');
    lab.tunlock('tunnel', 'down', TUN, '--intentional');
    lab.tunDown();
    await waitFor('Standby', async () => (await label()) === 'Not protected');
    expect(await popup.$eval('[data-testid=state-detail]', (e) => e.textContent)).toBe('VPN disconnected; the lock returns when the VPN reconnects.');
    expect(await popup.$eval('[data-testid=state-label]', (e) => getComputedStyle(e).color)).toBe('rgb(143, 67, 0)');
    await waitFor('dark Standby', async () => (await label(dark.popup)) === 'Not protected');
    expect(await dark.popup.$eval('[data-testid=state-label]', (e) => getComputedStyle(e).color)).toBe('rgb(255, 189, 92)');
    await shot('standby');
    lab.tunlock('lock', 'on');
    await waitFor('Blocking', async () => (await label()) === 'Blocking');
  }));

  it('the error state appears when the daemon is stopped', checking(both('error-daemon'), async () => {
    await blocking();
    await lab.killDaemon();
    await waitFor('daemon error', async () => (await label()) === 'tunlock service not running', 15_000);
    expect(await popup.$eval('[data-testid=state-detail]', (e) => e.textContent)).toMatch(/^Still blocked by the firewall/);
    await shot('error-daemon');
    await lab.startDaemon();
    await waitFor('back', async () => (await label()) === 'Blocking', 40_000);
  }));

  it('captive portal: "Log in to this network" loads the portal in a tab; WebRTC off (peerConnectionEnabled=false) only while the hole is open', checking(both('exception'), async () => {
    await blocking();
    const options = await browser.newPage();
    void options.goto(`${EXT}/src/options/index.html`).catch(() => undefined);
    await options.waitForSelector('[data-testid=portal-url]', { timeout: 10_000 });
    await options.$eval('[data-testid=portal-url]', (e) => ((e as HTMLInputElement).value = ''));
    await options.type('[data-testid=portal-url]', lab.portalUrl);
    await options.click('[data-testid=portal-save]');
    await waitFor('portal URL saved', async () => {
      const got = await options.evaluate(() => (globalThis as unknown as ExtGlobal).browser.storage.local.get('settings'));
      return (got.settings as { portalUrl?: string } | undefined)?.portalUrl === lab.portalUrl;
    });
    await options.close();

    expect(await label()).toBe('Blocking');
    expect(await pcEnabled()).toBe(true);
    const probe = await browser.newPage();
    const portalLoads = async () => {
      await probe.goto(lab.portalUrl, { timeout: 5000 }).catch(() => undefined);
      return (await probe.evaluate(() => document.querySelector('h1')?.textContent ?? '')) === 'Lab Wi-Fi login';
    };
    expect(await portalLoads()).toBe(false);

    await popup.click('[data-testid=captive-open]');
    await waitFor('Portal exception', async () => (await label()) === 'Wi-Fi login open');
    const tab = await waitFor('the portal tab the extension opened', async () => (await browser.pages()).find((p) => p !== probe && p.url().startsWith(lab.portalUrl)));
    await waitFor('portal page loaded in the tab', async () => (await tab.evaluate(() => document.querySelector('h1')?.textContent)) === 'Lab Wi-Fi login');
    expect(await portalLoads()).toBe(true);
    expect(await popup.$eval('[data-testid=captive-countdown]', (e) => e.textContent)).toMatch(/^(2:0[01]|1:[5]\d)$/);
    await waitFor('WebRTC forced off', async () => (await pcEnabled()) === false);
    expect(await popup.$eval('[data-testid=webrtc-text]', (e) => e.textContent)).toMatch(/^Forced off in every page while the Wi-Fi login hole is open/);
    await shot('exception');

    await popup.click('[data-testid=captive-close]');
    await waitFor('Blocking again', async () => (await label()) === 'Blocking');
    await waitFor('WebRTC given back', async () => (await pcEnabled()) === true);
    expect(await portalLoads()).toBe(false);
    await probe.close();
    await tab.close();
  }));

  it('WebRTC: the leak is visible without protection; protect and block hide it', async () => {
    lab.tunlock('lock', 'off');
    await waitFor('Off', async () => (await label()) === 'Off');
    const page = await browser.newPage();
    await page.goto(lab.pageUrl);
    const gather = () => page.evaluate((s) => (window as unknown as { gather: (s: string[]) => Promise<IceResult> }).gather(s), ICE);
    const setMode = async (mode: string) => {
      await popup.click(`[data-testid=webrtc-${mode}]`);
      await new Promise((r) => setTimeout(r, 300));
    };
    const before = lab.stunLog.length;
    const protectedRun = await gather();
    console.log(`[measure] Firefox ICE protect: ${JSON.stringify(protectedRun.candidates)}`);
    expect(protectedRun.available).toBe(true);
    expect(revealing(protectedRun, REAL)).toEqual([]);
    expect(lab.stunLog.length).toBe(before);
    await setMode('off');
    const open = await gather();
    console.log(`[measure] Firefox ICE without protection: revealing ${JSON.stringify(revealing(open, REAL))}`);
    expect(revealing(open, REAL).length).toBeGreaterThan(0);
    await setMode('block');
    await page.reload();
    const blocked = await gather();
    expect(blocked.available).toBe(false);
    await setMode('protect');
    await page.reload();
    expect((await gather()).available).toBe(true);
    await page.close();
  });
  it('the options page: no serious axe-core violations, light and dark', async () => {
    for (const [b, theme] of [[browser, 'light'], [dark.browser, 'dark']] as const) {
      const options = await b.newPage();
      await options.setViewport({ width: 900, height: 900 });
      void options.goto(`${EXT}/src/options/index.html`).catch(() => undefined);
      await options.waitForSelector('[data-testid=options-mode-on]', { timeout: 10_000 });
      expect(await axeViolations(checked(options)), `options (${theme})`).toEqual([]);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await options.screenshot({ path: join(SCREENSHOTS, `firefox-options-${theme}.png`), fullPage: true });
      await options.close();
    }
  });

  it('speaks German in a German Firefox (intl.locale.requested=de, Debian language pack)', checking(['off-de/light'], async () => {
    const de = await startFirefox(lab, 'ff-de', { 'intl.locale.requested': 'de', 'layout.css.prefers-color-scheme.content-override': 1 });
    try {
      await waitFor('Aus', async () => (await label(de.popup)) === 'Aus');
      expect(await de.popup.evaluate(() => document.documentElement.lang)).toBe('de');
      expect(await de.popup.$eval('[data-testid=state-detail]', (e) => e.textContent)).toBe('Fällt das VPN aus, geht der Datenverkehr ohne VPN hinaus und zeigt Ihre echte IP-Adresse.');
      expect(await de.popup.$eval('[data-testid=switch-caption]', (e) => e.textContent)).toBe('Sperre aus');
      await de.popup.waitForSelector('main[aria-busy="false"]');
      await de.popup.evaluate(stabilizeForScreenshot, [lab.dir, STABLE_DIR] as [string, string]);
      await checks.check('off-de', 'light', checked(de.popup));
    } finally {
      await de.close();
    }
  }));

  it('every popup state was checked in both schemes (switch position, panel fit, axe-core, screenshot)', () => {
    const want = ['off', 'blocking', 'protected', 'standby', 'exception', 'error-daemon'];
    expect([...checks.covered].sort()).toEqual([...want.flatMap((st) => [`${st}/dark`, `${st}/light`]), 'off-de/light'].sort());
  });
});

// The built extension in headless Chromium, with the real tunlock-host and a real tunlockd in a lab
// namespace. Needs root (namespaces, nftables): skipped loudly otherwise, a failure under CI.
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_EXTENSION_ID } from '../../host/src/protocol/extension-ids.js';
import { BrowserLab, canRunRootTier, CLIENT_V4, CLIENT_V6, STUN_PORT, STUN_V4, STUN_V6, TUN } from './browser-lab.js';
import type { ExtGlobal, IceResult } from './helpers.js';
import { CHROME_DIST, CHROMIUM_ARGS, percentile, registerChromiumHost, revealing, SCREENSHOTS, waitFor } from './helpers.js';

const RUN = canRunRootTier('browser tests (Chromium)');
const EXT = `chrome-extension://${CHROMIUM_EXTENSION_ID}`;
const REAL = [CLIENT_V4, CLIENT_V6];
const ICE = [`stun:${STUN_V4}:${STUN_PORT}`, `stun:[${STUN_V6}]:${STUN_PORT}`];
const DROPS = Number(process.env.TUNLOCK_DROPS ?? 20);

describe.runIf(RUN)('Chromium: extension + tunlock-host + tunlockd', () => {
  let lab: BrowserLab;
  let ctx: BrowserContext;
  let popup: Page;

  async function launch(userDataDir: string): Promise<BrowserContext> {
    return chromium.launchPersistentContext(userDataDir, {
      executablePath: lab.browserWrapper('chromium'),
      headless: true,
      viewport: { width: 360, height: 560 },
      args: [...CHROMIUM_ARGS, `--disable-extensions-except=${CHROME_DIST}`, `--load-extension=${CHROME_DIST}`],
    });
  }
  const title = () => popup.evaluate(() => (globalThis as unknown as ExtGlobal).chrome.action.getTitle({}));
  const badge = () => popup.evaluate(() => (globalThis as unknown as ExtGlobal).chrome.action.getBadgeText({}));
  const label = () => popup.getByTestId('state-label').textContent();
  async function shot(name: string, page = popup) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.locator('main').screenshot({ path: join(SCREENSHOTS, `chromium-${name}.png`) });
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
    popup = await ctx.newPage();
    await popup.goto(`${EXT}/src/popup/index.html`);
  });
  afterAll(async () => {
    await ctx?.close().catch(() => undefined);
    lab?.closeSync();
  });

  it('has the fixed extension ID and reaches the daemon: state Off', async () => {
    expect(ctx.serviceWorkers()[0]!.url()).toContain(CHROMIUM_EXTENSION_ID);
    await waitFor('Off', async () => (await label()) === 'Off');
    expect(await title()).toMatch(/^tunlock: Off — /);
    await shot('off');
  });

  it('protects WebRTC from the first start: disable_non_proxied_udp', async () => {
    expect(await webrtcPolicy()).toBe('disable_non_proxied_udp');
  });

  it('the toggle locks and unlocks (checked in the namespace ruleset)', async () => {
    await popup.getByTestId('lock-toggle').click();
    await waitFor('nft table with policy drop', () => /policy drop/.test(lab.nft()));
    await waitFor('Blocking', async () => (await label()) === 'Blocking');
    expect(await title()).toBe(`tunlock: Blocking — tunnel ${TUN} is down; nothing leaves this computer.`);
    expect(await badge()).toBe('BLK');
    await shot('blocking');
    await popup.getByTestId('lock-toggle').click();
    await waitFor('table removed', () => lab.nft() === '');
    await waitFor('Off', async () => (await label()) === 'Off');
  });

  it(`icon, title and popup follow a tunnel drop (${DROPS} drops, latency measured)`, async () => {
    await popup.getByTestId('lock-toggle').click();
    await waitFor('locked', () => /policy drop/.test(lab.nft()));
    const latencies: number[] = [];
    for (let i = 0; i < DROPS; i++) {
      lab.tunUp();
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
    expect(p95).toBeLessThan(250);
  });

  it('standby after a deliberate disconnect', async () => {
    lab.tunUp();
    await waitFor('Protected', async () => (await label()) === 'Protected');
    lab.tunlock('tunnel', 'down', TUN, '--intentional');
    lab.tunDown();
    await waitFor('Standby', async () => (await label()) === 'Standby');
    await shot('standby');
    lab.tunlock('lock', 'on');
    await waitFor('Blocking', async () => (await label()) === 'Blocking');
  });

  it('the captive exception shows its countdown (when the lab network allows one)', async () => {
    try {
      lab.tunlock('captive', 'open', '--seconds', '90');
    } catch (e) {
      console.warn(`[note] captive open refused in this lab: ${(e as { stderr?: string }).stderr ?? String(e)}`);
      return;
    }
    await waitFor('Portal exception', async () => (await label()) === 'Portal exception');
    expect(await badge()).toMatch(/^1:[23]\d$/);
    await shot('exception');
    lab.tunlock('captive', 'close');
    await waitFor('Blocking', async () => (await label()) === 'Blocking');
  });

  it('the error state appears when the daemon is stopped, and clears when it is back', async () => {
    await lab.killDaemon();
    await waitFor('daemon error', async () => (await label()) === 'Daemon not running', 15_000);
    expect(await title()).toMatch(/^tunlock: Daemon not running/);
    expect(await popup.getByTestId('fix').textContent()).toContain(`start tunlockd with --socket ${lab.socket}`);
    await shot('error-daemon');
    expect(lab.nft()).toMatch(/policy drop/); // the kernel rules stayed
    await lab.startDaemon();
    await waitFor('back to Blocking', async () => (await label()) === 'Blocking', 40_000);
  });

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

    await popup.getByTestId('webrtc-mode').selectOption('off');
    await waitFor('cleared', async () => (await webrtcPolicy()) === 'default');
    const open = await gather(page);
    console.log(`[measure] Chromium ICE without protection: ${open.candidates.length} candidates, revealing: ${JSON.stringify(revealing(open, REAL))}`);
    expect(revealing(open, REAL).length).toBeGreaterThan(0); // the test can see a leak
    expect(lab.stunLog.length).toBeGreaterThan(before);

    await popup.getByTestId('webrtc-mode').selectOption('protect');
    await waitFor('strict again', async () => (await webrtcPolicy()) === 'disable_non_proxied_udp');
    const again = await gather(page);
    expect(revealing(again, REAL)).toEqual([]);
    await page.close();
  });

  it('WebRTC video-call relaxation: only while protected and the site is open; no path outside the tunnel', async () => {
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
    lab.tunUp();
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
    lab.tunUp();
    await waitFor('relaxed again', async () => (await webrtcPolicy()) === 'default_public_interface_only');
    // Closing the last allowed tab ends it too.
    await call.close();
    await waitFor('strict after close', async () => (await webrtcPolicy()) === 'disable_non_proxied_udp');
    lab.tunDown();
  });

  it('without the host installed the popup says so and shows the fix (no spinner)', async () => {
    const dir = join(lab.dir, 'chromium-nohost');
    const bare = await launch(dir);
    try {
      await (bare.serviceWorkers()[0] ?? bare.waitForEvent('serviceworker'));
      const p = await bare.newPage();
      await p.goto(`${EXT}/src/popup/index.html`);
      await waitFor('Not installed', async () => (await p.getByTestId('state-label').textContent()) === 'Not installed', 5000);
      expect(await p.getByTestId('fix').textContent()).toContain('npm run setup');
      mkdirSync(SCREENSHOTS, { recursive: true });
      await p.locator('main').screenshot({ path: join(SCREENSHOTS, 'chromium-error-no-host.png') });
    } finally {
      await bare.close();
    }
  });
});

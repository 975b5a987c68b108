// "Test my lock" and the lock history in real browsers: the built extension in headless Chromium and Firefox,
// the real tunlock-host and a real tunlockd in a lab namespace. The test clicks the button and reads the
// verdict, then opens the history on the options page. Screenshots: helpers.ts's SCREENSHOTS (a temp dir, or
// the committed ones with TUNLOCK_SCREENSHOTS=update).
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page as FirefoxPage } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_EXTENSION_ID } from '../../host/src/common/extension-ids.js';
import type { HistoryEvent } from '../../host/src/protocol/schema.js';
import { BrowserLab, canRunRootTier, STABLE_DIR, TUN } from './browser-lab.js';
import type { FirefoxSession } from './firefox-session.js';
import { launchFirefox } from './firefox-session.js';
import { CHROME_DIST, CHROMIUM_ARGS, registerChromiumHost, SCREENSHOTS, stabilizeForScreenshot, waitFor } from './helpers.js';

const RUN_CHROMIUM = canRunRootTier('browser tests (self-test, Chromium)');
const RUN_FIREFOX = canRunRootTier('browser tests (self-test, Firefox)');
const EXT = `chrome-extension://${CHROMIUM_EXTENSION_ID}`;
/**
 * Blocking (the lab's stand-in tunnel is down): lock, kernel, escapes, endpoint, plus the extension's WebRTC
 * policy check, and in Firefox a real gathering (Chromium exempts extension pages from the policy).
 */
const LOCKED_CHROMIUM = 'Locked — 5 of 5 checks passed';
const LOCKED_FIREFOX = 'Locked — 6 of 6 checks passed';

function prepare(lab: BrowserLab): void {
  lab.tunlock('tunnel', 'add', TUN, '--endpoint', '198.51.100.10:51820/udp');
}

/**
 * Six earlier days as a daemon would have recorded them (ending before today, so "today" is this run's own
 * events): mornings protected, a few short drops, a portal hole, a nightly lock-off, a tamper, two tests.
 */
function earlierWeek(now: number): HistoryEvent[] {
  const h = 3600_000;
  const out: HistoryEvent[] = [];
  let state: HistoryEvent['type'] = 'off';
  let since = now - 7 * 24 * h;
  const to = (type: 'protected' | 'blocking' | 'off' | 'exception', at: number, cause: 'link' | 'request' = 'link', extra: Partial<HistoryEvent> = {}) => {
    out.push({ at, type, cause, previous: { state: state as 'off', ms: at - since }, ...extra });
    state = type;
    since = at;
  };
  for (let day = 6; day >= 1; day--) {
    const morning = new Date(now - day * 24 * h).setHours(8, 0, 0, 0);
    to('blocking', morning, 'request');
    to('protected', morning + 20_000);
    for (const [hour, seconds] of day % 2 ? [[11, 4], [15, 12]] : [[13, 7]]) {
      to('blocking', morning + hour! * h - 8 * h);
      to('protected', morning + hour! * h - 8 * h + seconds! * 1000);
    }
    if (day === 4) {
      to('blocking', morning + 9 * h);
      to('exception', morning + 9 * h + 30_000, 'request', { uid: 1000, seconds: 120 });
      to('protected', morning + 9 * h + 100_000);
    }
    if (day === 3) out.push({ at: morning + 5 * h, type: 'tamper', detail: 'table inet tunlock was removed by another program' });
    if (day === 5 || day === 2) out.push({ at: morning + 2 * h, type: 'test', ok: true, passed: 7, total: 7, failed: [] });
    to('off', morning + 14 * h, 'request');
  }
  return out;
}

/** A tunnel drop for the history: up (Protected), then gone (Blocking). */
async function drop(lab: BrowserLab, state: () => Promise<string | null>): Promise<void> {
  lab.tunUp();
  await waitFor('Protected', async () => (await state()) === 'Protected');
  lab.tunDown();
  await waitFor('Blocking', async () => (await state()) === 'Blocking');
}

describe.runIf(RUN_CHROMIUM)('Chromium: Test my lock and the lock history', () => {
  let lab: BrowserLab;
  let ctx: BrowserContext;
  let popup: Page;
  const label = () => popup.getByTestId('state-label').textContent();
  const verdict = () => popup.getByTestId('self-test-verdict').textContent();
  async function shot(page: Page, selector: string, name: string) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.evaluate(stabilizeForScreenshot, [lab.dir, STABLE_DIR] as [string, string]);
    await page.locator(selector).screenshot({ path: join(SCREENSHOTS, `chromium-${name}.png`) });
  }

  beforeAll(async () => {
    lab = await BrowserLab.create();
    // The daemon reads its history back at start: give it a week behind it, for a timeline worth a picture.
    await lab.killDaemon();
    writeFileSync(join(lab.dir, 'state', 'history.jsonl'), earlierWeek(Date.now()).map((e) => `${JSON.stringify(e)}\n`).join(''));
    await lab.startDaemon();
    prepare(lab);
    const dir = join(lab.dir, 'chromium-profile');
    registerChromiumHost(dir, lab.hostPath);
    ctx = await chromium.launchPersistentContext(dir, {
      executablePath: lab.browserWrapper('chromium'),
      headless: true,
      viewport: { width: 360, height: 700 },
      args: [...CHROMIUM_ARGS, `--disable-extensions-except=${CHROME_DIST}`, `--load-extension=${CHROME_DIST}`],
    });
    await (ctx.serviceWorkers()[0] ?? ctx.waitForEvent('serviceworker'));
    popup = await ctx.newPage();
    await popup.goto(`${EXT}/src/popup/index.html`);
  });
  afterAll(async () => {
    await ctx?.close().catch(() => undefined);
    lab?.closeSync();
  });

  it('lock off: the verdict is "Not protected", with the fix', async () => {
    await waitFor('Off', async () => (await label()) === 'Off');
    await popup.getByTestId('self-test-run').click();
    await waitFor('verdict', async () => (await verdict()) === 'Not protected');
    expect(await popup.getByTestId('self-test-checks').textContent()).toContain('tunlock lock on');
  });

  it('locked: every check passes, the extension\'s own WebRTC checks included', async () => {
    lab.tunlock('lock', 'on');
    await drop(lab, label);
    await popup.getByTestId('self-test-run').click();
    const v = await waitFor('a verdict on the lock', async () => ((await verdict()) !== 'Not protected' ? verdict() : null), 15_000);
    const checks = await popup.getByTestId('self-test-checks').textContent();
    expect(v, checks ?? '').toBe(LOCKED_CHROMIUM);
    expect(checks).toMatch(/✔\s*webrtc-policy/);
    expect(await popup.locator('[data-testid=self-test]').textContent()).toContain('not to extension pages');
    await shot(popup, '[data-testid=self-test]', 'self-test');
  });

  it('the options page shows the last 7 days: the drop and the tests, and a summary', async () => {
    const options = await ctx.newPage();
    await options.setViewportSize({ width: 720, height: 900 });
    await options.goto(`${EXT}/src/options/index.html`);
    const summary = options.getByTestId('history-summary');
    await summary.waitFor();
    expect(await summary.textContent()).toMatch(/^1 drop today, longest \d+ (s|min) blocked, blocked by the kernel; .*; 4 self-tests, \d failed\.$/);
    // this run's drop and the earlier week's ten, read back by the daemon from its history file
    expect(await options.locator('[data-testid=history-timeline] .mark-drop').count()).toBe(11);
    expect(await options.locator('[data-testid=history-timeline] .mark-tamper').count()).toBe(1);
    expect(await options.locator('[data-testid=history-timeline] .band-protected').count()).toBeGreaterThan(0);
    await shot(options, 'section[aria-labelledby=history-h]', 'history');
    await options.close();
  });
});

describe.runIf(RUN_FIREFOX)('Firefox: Test my lock and the lock history', () => {
  let lab: BrowserLab;
  let ff: FirefoxSession;
  let popup: FirefoxPage;
  const label = () => popup.$eval('[data-testid=state-label]', (e) => e.textContent);
  const verdict = () => popup.$eval('[data-testid=self-test-verdict]', (e) => e.textContent).catch(() => null);

  beforeAll(async () => {
    lab = await BrowserLab.create();
    prepare(lab);
    ff = await launchFirefox(lab);
    popup = await ff.open('src/popup/index.html', '[data-testid=state-label]');
  });
  afterAll(async () => {
    await ff?.close();
    lab?.closeSync();
  });

  it('lock off: "Not protected"; locked: every check passes', async () => {
    await waitFor('Off', async () => (await label()) === 'Off');
    await popup.click('[data-testid=self-test-run]');
    await waitFor('verdict', async () => (await verdict()) === 'Not protected');
    lab.tunlock('lock', 'on');
    await drop(lab, label);
    await popup.click('[data-testid=self-test-run]');
    const v = await waitFor('a verdict on the lock', async () => ((await verdict()) !== 'Not protected' ? verdict() : null), 15_000);
    const checks = await popup.$eval('[data-testid=self-test-checks]', (e) => e.textContent);
    expect(v, checks ?? '').toBe(LOCKED_FIREFOX);
    expect(checks).toMatch(/✔\s*webrtc-policy/);
    expect(checks).toMatch(/✔\s*webrtc-leak/);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await popup.evaluate(stabilizeForScreenshot, [lab.dir, STABLE_DIR] as [string, string]);
    const section = await popup.waitForSelector('[data-testid=self-test]');
    await section!.screenshot({ path: join(SCREENSHOTS, 'firefox-self-test.png') as `${string}.png` });
  });

  it('the options page shows the drop on the timeline', async () => {
    const options = await ff.open('src/options/index.html', '[data-testid=history-summary]');
    expect(await options.$eval('[data-testid=history-summary]', (e) => e.textContent)).toMatch(/^1 drop today/);
    expect(await options.$$eval('[data-testid=history-timeline] .mark-drop', (e) => e.length)).toBe(1);
    await options.close();
  });
});

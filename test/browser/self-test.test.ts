// "Test my lock" and the lock history in real browsers: the built extension in headless Chromium and Firefox,
// the real tunlock-host and a real tunlockd in a lab namespace. The test clicks the button and reads the
// verdict, then opens the history on the options page. Screenshots: helpers.ts's SCREENSHOTS (a temp dir, or
// the committed ones with TUNLOCK_SCREENSHOTS=update).
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page as FirefoxPage } from 'puppeteer-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

/**
 * What the options page's summary says about today, parsed, so a test compares with the value it read at its
 * own start (the other tests of the file add drops and self-tests too, in any order).
 */
interface Today {
  drops: number;
  tests: number;
  failed: number;
}
function parseSummary(text: string | null): Today {
  const drops = /^(?:No tunnel drop|(\d+) drops? today)/.exec(text ?? '');
  const tests = /; (\d+) self-tests?, (?:all passed|(\d+) failed)\.$/.exec(text ?? '');
  if (!drops || !tests) throw new Error(`unexpected history summary: ${text}`);
  return { drops: Number(drops[1] ?? 0), tests: Number(tests[1]), failed: Number(tests[2] ?? 0) };
}
/** The summary after `drops` drops today (each blocked by the kernel) and `tests` self-tests this week, `failed` of them failed. */
function summaryPattern({ drops, tests, failed }: Today): RegExp {
  const kernel = drops === 1 ? 'blocked by the kernel' : 'every one blocked by the kernel';
  return new RegExp(`^${drops} drops? today, longest \\d+ (s|min) blocked, ${kernel}; .*; ${tests} self-tests, ${failed} failed\\.$`);
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
  await lab.tunUp();
  await waitFor('Protected', async () => (await state()) === 'Protected');
  lab.tunDown();
  await waitFor('Blocking', async () => (await state()) === 'Blocking');
}

describe.runIf(RUN_CHROMIUM)('Chromium: Test my lock and the lock history', () => {
  let lab: BrowserLab;
  let ctx: BrowserContext;
  let popup: Page;
  const label = () => popup.getByTestId('state-label').textContent();
  // Short waits: the verdict only exists once a test has run, and waitFor polls.
  const verdict = () => popup.getByTestId('self-test-verdict').textContent({ timeout: 500 });
  async function shot(page: Page, selector: string, name: string) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.evaluate(stabilizeForScreenshot, [lab.dir, STABLE_DIR] as [string, string]);
    await page.locator(selector).screenshot({ path: join(SCREENSHOTS, `chromium-${name}.png`) });
  }
  /** "Test my lock" with the lock off: the verdict is "Not protected". */
  async function testUnlocked(): Promise<void> {
    await waitFor('Off', async () => (await label()) === 'Off');
    await popup.getByTestId('self-test-run').click();
    await waitFor('verdict', async () => (await verdict()) === 'Not protected');
  }
  /** Locks, drops the tunnel once, runs "Test my lock": returns the verdict. */
  async function testLocked(): Promise<string | null> {
    lab.tunlock('lock', 'on');
    await drop(lab, label);
    await popup.getByTestId('self-test-run').click();
    return waitFor('a verdict on the lock', async () => {
      const v = await verdict();
      return v && v !== 'Not protected' ? v : null;
    }, 15_000);
  }

  beforeAll(async () => {
    lab = await BrowserLab.create();
    // The daemon reads its history back at start: give it a week behind it, for a timeline worth a picture.
    await lab.killDaemon();
    writeFileSync(join(lab.dir, 'state', 'history.jsonl'), earlierWeek(Date.now()).map((e) => `${JSON.stringify(e)}\n`).join(''));
    await lab.startDaemon();
    const dir = join(lab.dir, 'chromium-profile');
    registerChromiumHost(dir, lab.hostPath);
    ctx = await chromium.launchPersistentContext(dir, {
      executablePath: lab.browserWrapper('chromium'),
      headless: true,
      viewport: { width: 360, height: 700 },
      args: [...CHROMIUM_ARGS, `--disable-extensions-except=${CHROME_DIST}`, `--load-extension=${CHROME_DIST}`],
    });
    await (ctx.serviceWorkers()[0] ?? ctx.waitForEvent('serviceworker'));
  });
  // Each test starts with the lock off, the tunnel down and a fresh popup (no verdict from an earlier test).
  beforeEach(async () => {
    await lab.reset();
    await popup?.close();
    popup = await ctx.newPage();
    await popup.goto(`${EXT}/src/popup/index.html`);
  });
  afterAll(async () => {
    await ctx?.close().catch(() => undefined);
    lab?.closeSync();
  });

  it('lock off: the verdict is "Not protected", with the fix', async () => {
    await testUnlocked();
    expect(await popup.getByTestId('self-test-checks').textContent()).toContain('tunlock lock on');
  });

  it('locked: every check passes, the extension\'s own WebRTC checks included', async () => {
    const v = await testLocked();
    const checks = await popup.getByTestId('self-test-checks').textContent();
    expect(v, checks ?? '').toBe(LOCKED_CHROMIUM);
    expect(checks).toMatch(/✔\s*webrtc-policy/);
    expect(await popup.locator('[data-testid=self-test]').textContent()).toContain('not to extension pages');
    await shot(popup, '[data-testid=self-test]', 'self-test');
  });

  it('the options page shows the last 7 days: the drop and the tests, and a summary', async () => {
    const options = await ctx.newPage();
    await options.setViewportSize({ width: 720, height: 900 });
    const summary = options.getByTestId('history-summary');
    const marks = (kind: string) => options.locator(`[data-testid=history-timeline] .mark-${kind}`).count();
    await options.goto(`${EXT}/src/options/index.html`);
    await summary.waitFor();
    // Today's counts as this test finds them (other tests of the file may have run first).
    const start = parseSummary(await summary.textContent());
    // the earlier week's ten drops, read back by the daemon from its history file, and today's so far
    expect(await marks('drop')).toBe(10 + start.drops);
    await testUnlocked();
    expect(await testLocked()).toBe(LOCKED_CHROMIUM);
    await options.reload();
    await summary.waitFor();
    expect(await summary.textContent()).toMatch(summaryPattern({ drops: start.drops + 1, tests: start.tests + 2, failed: start.failed + 1 }));
    expect(await marks('drop')).toBe(10 + start.drops + 1);
    expect(await marks('tamper')).toBe(1);
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
  /** The drops on the options page's timeline (this lab has no earlier history: every drop is today's). */
  async function timelineDrops(): Promise<{ summary: string | null; drops: number }> {
    const options = await ff.open('src/options/index.html', '[data-testid=history-summary]');
    try {
      return {
        summary: await options.$eval('[data-testid=history-summary]', (e) => e.textContent),
        drops: await options.$$eval('[data-testid=history-timeline] .mark-drop', (e) => e.length),
      };
    } finally {
      await options.close();
    }
  }

  beforeAll(async () => {
    lab = await BrowserLab.create();
    ff = await launchFirefox(lab);
  });
  // Each test starts with the lock off, the tunnel down and a fresh popup (no verdict from an earlier test).
  beforeEach(async () => {
    await lab.reset();
    await popup?.close();
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
    const before = await timelineDrops();
    lab.tunlock('lock', 'on');
    await drop(lab, label);
    const after = await timelineDrops();
    expect(after.summary).toMatch(new RegExp(`^${before.drops + 1} drops? today`));
    expect(after.drops).toBe(before.drops + 1);
  });
});

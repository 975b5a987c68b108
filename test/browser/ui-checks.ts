// The checks every popup state gets, in both browsers and both colour schemes: the switch sits exactly where it
// sat in the first state, the page fits Firefox's 600 px panel, the colour scheme is really the one asked for,
// axe-core finds no serious or critical violation, and a screenshot is written (see SCREENSHOTS).
import axe from 'axe-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { SCREENSHOTS } from './helpers.js';

/** What the checks need from a page, for playwright and puppeteer alike. */
export interface CheckedPage {
  /** evaluates a script (a string) in the page and returns its value */
  run(script: string): Promise<unknown>;
  /** screenshot of the element `main` */
  shot(path: string): Promise<void>;
}

export type Theme = 'light' | 'dark';

/** Firefox's popup panel is at most 800 × 600 px. */
export const PANEL_MAX_HEIGHT = 600;

// Document coordinates (not the viewport's, which scrolls) and the content's own height: the panel sizes itself
// to the content, up to its limit. The test viewport is taller than the panel, so nothing scrolls.
const GEOMETRY = `(() => {
  const r = document.querySelector('[data-testid=lock-toggle]').getBoundingClientRect();
  return JSON.stringify({
    switchAt: [r.x + scrollX, r.y + scrollY, r.width, r.height].map(Math.round).join(','),
    height: Math.ceil(document.body.getBoundingClientRect().height),
    width: document.documentElement.scrollWidth,
    dark: matchMedia('(prefers-color-scheme: dark)').matches,
  });
})()`;

const AXE_RUN = `axe.run(document, { resultTypes: ['violations'] }).then((r) => JSON.stringify(r.violations
  .filter((v) => v.impact === 'serious' || v.impact === 'critical')
  .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.map((n) => n.target.join(' ')).join(', '))))`;

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeViolations(page: CheckedPage): Promise<string[]> {
  if (!(await page.run('typeof axe !== "undefined"'))) await page.run(axe.source);
  return JSON.parse(String(await page.run(AXE_RUN))) as string[];
}

export class PopupChecks {
  private switchAt: string | null = null;
  private readonly seen: string[] = [];

  constructor(private readonly browser: 'chromium' | 'firefox') {}

  async check(state: string, theme: Theme, page: CheckedPage): Promise<void> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.shot(join(SCREENSHOTS, `${this.browser}-${state}-${theme}.png`)); // first, so a failure has its picture
    const g = JSON.parse(String(await page.run(GEOMETRY))) as { switchAt: string; height: number; width: number; dark: boolean };
    expect(g.dark, `${state}: the page is in the ${theme} scheme`).toBe(theme === 'dark');
    this.switchAt ??= g.switchAt;
    expect(g.switchAt, `${this.browser} ${state} (${theme}): the switch moved (first seen in ${this.seen[0]})`).toBe(this.switchAt);
    expect(g.height, `${this.browser} ${state} (${theme}): taller than the panel`).toBeLessThanOrEqual(PANEL_MAX_HEIGHT);
    expect(await axeViolations(page), `${this.browser} ${state} (${theme}): axe-core`).toEqual([]);
    this.seen.push(`${state}/${theme}`);
  }

  /** The states checked so far. */
  get states(): string[] {
    return this.seen;
  }

  /**
   * Which test checks which popup state/scheme pairs: declared where each test is defined, so the coverage test
   * reads this list and no other test's run.
   */
  readonly covered: string[] = [];

  /** Wraps a test that checks exactly `states` (`state/scheme` pairs): it fails on one more or one fewer. */
  checking(states: string[], fn: () => Promise<void>): () => Promise<void> {
    this.covered.push(...states);
    return async () => {
      const from = this.seen.length;
      await fn();
      expect(this.seen.slice(from).sort(), 'the popup states this test checks').toEqual([...states].sort());
    };
  }
}

/** `state/light` and `state/dark` for each state. */
export const both = (...states: string[]): string[] => states.flatMap((st) => [`${st}/light`, `${st}/dark`]);

// The lock history as the options page shows it: the last 7 days as coloured bands (one per state interval),
// marks for tunnel drops, tamper re-assertions and self-tests, and a summary sentence people can read at a
// glance. Pure (History.svelte draws it as an inline SVG); the events come from the daemon's `history`.
import { formatList, formatNumber, plural, t } from '../shared/i18n.js';
import type { HistoryEventT, LockState } from '../shared/protocol.js';

export const WEEK_MS = 7 * 24 * 3600 * 1000;
const STATES = new Set<string>(['protected', 'blocking', 'standby', 'off', 'exception']);

export interface Band {
  state: LockState;
  from: number;
  to: number;
}

export interface Mark {
  kind: 'drop' | 'tamper' | 'test-ok' | 'test-failed';
  at: number;
  title: string;
}

export interface Drop {
  at: number;
  /** how long traffic was blocked (until a tunnel came back, or until now) */
  ms: number;
  /** another program changed the rules while it lasted (the daemon re-asserted them) */
  tampered: boolean;
}

export interface Timeline {
  from: number;
  to: number;
  bands: Band[];
  marks: Mark[];
  drops: Drop[];
  summary: string;
}

function isState(e: HistoryEventT): e is HistoryEventT & { type: LockState } {
  return STATES.has(e.type) && e.cause !== undefined;
}

export function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

function startOfDay(t: number): number {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function timeline(events: HistoryEventT[], now: number): Timeline {
  const from = now - WEEK_MS;
  const states = events.filter(isState);
  const bands: Band[] = [];
  states.forEach((e, i) => {
    const end = states[i + 1]?.at ?? now;
    if (end <= from) return;
    bands.push({ state: e.type, from: Math.max(from, e.at), to: Math.min(now, end) });
  });
  const drops: Drop[] = [];
  states.forEach((e, i) => {
    if (e.type !== 'blocking' || e.cause !== 'link' || e.previous?.state !== 'protected' || e.at < from) return;
    const end = states[i + 1]?.at ?? now;
    drops.push({ at: e.at, ms: end - e.at, tampered: events.some((t) => t.type === 'tamper' && t.at >= e.at && t.at <= end) });
  });
  const marks: Mark[] = [];
  for (const d of drops) marks.push({ kind: 'drop', at: d.at, title: t('markDrop', seconds(d.ms)) });
  for (const e of events) {
    if (e.at < from) continue;
    if (e.type === 'tamper') marks.push({ kind: 'tamper', at: e.at, title: t('markTamper', e.detail ?? '') });
    if (e.type === 'test') {
      marks.push({ kind: e.ok ? 'test-ok' : 'test-failed', at: e.at, title: e.ok ? t('markTestOk', e.passed ?? 0, e.total ?? 0) : t('markTestFailed', formatList(e.failed ?? [])) });
    }
  }
  return { from, to: now, bands, marks, drops, summary: summary(drops, bands, events, now) };
}

function summary(drops: Drop[], bands: Band[], events: HistoryEventT[], now: number): string {
  if (bands.length === 0) return t('historyEmpty');
  const today = drops.filter((d) => d.at >= startOfDay(now));
  const parts: string[] = [];
  if (today.length === 0) parts.push(t('summaryNoDrop'));
  else {
    const longest = Math.max(...today.map((d) => d.ms));
    const tampered = today.filter((d) => d.tampered).length;
    const kernel = tampered === 0 ? t(today.length === 1 ? 'summaryKernelOne' : 'summaryKernelAll') : t('summaryTampered', formatNumber(tampered));
    parts.push(`${plural(today.length, 'summaryDrops_one', 'summaryDrops_other')}, ${t('summaryLongest', seconds(longest))}, ${kernel}`);
  }
  const total = bands.reduce((n, b) => n + (b.to - b.from), 0);
  const protectedMs = bands.filter((b) => b.state === 'protected').reduce((n, b) => n + (b.to - b.from), 0);
  parts.push(t('summaryProtected', formatNumber(Math.round((100 * protectedMs) / Math.max(1, total)))));
  const blocked = events.filter((e) => e.type === 'blocked' && e.at >= now - WEEK_MS).reduce((n, e) => n + (e.packets ?? 0), 0);
  if (blocked > 0) parts.push(plural(blocked, 'summaryRefused_one', 'summaryRefused_other'));
  const tests = events.filter((e) => e.type === 'test' && e.at >= now - WEEK_MS);
  if (tests.length) {
    const failed = tests.filter((t) => !t.ok).length;
    parts.push(`${plural(tests.length, 'summaryTests_one', 'summaryTests_other')}, ${failed === 0 ? t('summaryAllPassed') : t('summaryFailed', formatNumber(failed))}`);
  }
  return `${parts.join('; ')}.`;
}

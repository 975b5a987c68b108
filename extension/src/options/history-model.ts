// The lock history as the options page shows it: the last 7 days as coloured bands (one per state interval),
// marks for tunnel drops, tamper re-assertions and self-tests, and a summary sentence people can read at a
// glance. Pure (History.svelte draws it as an inline SVG); the events come from the daemon's `history`.
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
  for (const d of drops) marks.push({ kind: 'drop', at: d.at, title: `Tunnel dropped: blocked for ${seconds(d.ms)}` });
  for (const e of events) {
    if (e.at < from) continue;
    if (e.type === 'tamper') marks.push({ kind: 'tamper', at: e.at, title: `Rules changed by another program, re-asserted: ${e.detail ?? ''}` });
    if (e.type === 'test') {
      marks.push({ kind: e.ok ? 'test-ok' : 'test-failed', at: e.at, title: e.ok ? `Self-test passed (${e.passed}/${e.total})` : `Self-test failed: ${(e.failed ?? []).join(', ')}` });
    }
  }
  return { from, to: now, bands, marks, drops, summary: summary(drops, bands, events, now) };
}

function summary(drops: Drop[], bands: Band[], events: HistoryEventT[], now: number): string {
  if (bands.length === 0) return 'No history yet: it starts when the lock first changes state.';
  const today = drops.filter((d) => d.at >= startOfDay(now));
  const parts: string[] = [];
  if (today.length === 0) parts.push('No tunnel drop today');
  else {
    const longest = Math.max(...today.map((d) => d.ms));
    const tampered = today.filter((d) => d.tampered).length;
    parts.push(
      `${today.length} drop${today.length === 1 ? '' : 's'} today, longest ${seconds(longest)} blocked, ${
        tampered === 0 ? (today.length === 1 ? 'blocked by the kernel' : 'every one blocked by the kernel') : `${tampered} with the rules tampered with meanwhile (re-asserted)`
      }`,
    );
  }
  const total = bands.reduce((n, b) => n + (b.to - b.from), 0);
  const protectedMs = bands.filter((b) => b.state === 'protected').reduce((n, b) => n + (b.to - b.from), 0);
  parts.push(`protected ${Math.round((100 * protectedMs) / Math.max(1, total))}% of the recorded time this week`);
  const blocked = events.filter((e) => e.type === 'blocked' && e.at >= now - WEEK_MS).reduce((n, e) => n + (e.packets ?? 0), 0);
  if (blocked > 0) parts.push(`${blocked.toLocaleString('en-US')} packet${blocked === 1 ? '' : 's'} refused by the lock`);
  const tests = events.filter((e) => e.type === 'test' && e.at >= now - WEEK_MS);
  if (tests.length) {
    const failed = tests.filter((t) => !t.ok).length;
    parts.push(`${tests.length} self-test${tests.length === 1 ? '' : 's'}, ${failed === 0 ? 'all passed' : `${failed} failed`}`);
  }
  return `${parts.join('; ')}.`;
}

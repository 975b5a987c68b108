// Every user-visible string goes through here: browser.i18n picks the catalogue (extension/src/_locales, copied
// into both builds by extension/build.mjs), and numbers, countdowns, durations and lists go through Intl in the
// catalogue's own locale (its "locale" message), so a German sentence never carries an English number.
// The i18n API is read from the `chrome` global, which both browsers provide in every extension context
// (Chromium's service worker included); unit tests install a catalogue from the JSON files with useI18n().
import type en from '../_locales/en/messages.json';

export type MessageKey = keyof typeof en;

export interface I18nApi {
  getMessage(key: string, substitutions?: string[]): string;
}

let api: I18nApi | null = (globalThis as { chrome?: { i18n?: I18nApi } }).chrome?.i18n ?? null;

/** Tests (and nothing else) swap the catalogue. */
export function useI18n(next: I18nApi): void {
  api = next;
}

/** The message for `key`, with $1…$9 replaced by `subs`. A missing key is a bug: it shows as the key itself. */
export function t(key: MessageKey, ...subs: (string | number)[]): string {
  const m = api?.getMessage(key, subs.map(String));
  return m || key;
}

/** The catalogue's locale ("en", "de"): what Intl formats with. */
export function locale(): string {
  return api?.getMessage('locale') || 'en';
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(locale()).format(n);
}

/** 0 → "0:00", 125 → "2:05": a countdown, with the locale's digits. */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const nf = new Intl.NumberFormat(locale(), { minimumIntegerDigits: 2, useGrouping: false });
  return `${new Intl.NumberFormat(locale()).format(Math.floor(s / 60))}:${nf.format(s % 60)}`;
}

/** 120 → "2 minutes" / "2 Minuten". */
export function formatMinutes(seconds: number): string {
  return new Intl.NumberFormat(locale(), { style: 'unit', unit: 'minute', unitDisplay: 'long' }).format(Math.round(seconds / 60));
}

/** A toolbar badge of at most 3 characters: "10m", "2m", "45s" (seconds only in the last minute). */
export function badgeCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return s >= 60 ? `${Math.min(99, Math.floor(s / 60))}${t('badgeMinute')}` : `${s}${t('badgeSecond')}`;
}

/** ["wg0", "wg1", "tun0"] → "wg0, wg1 and tun0" / "wg0, wg1 und tun0". */
export function formatList(items: readonly string[]): string {
  return new Intl.ListFormat(locale(), { style: 'long', type: 'conjunction' }).format(items);
}

/** Picks `key_one` or `key_other` by the locale's plural rules. */
export function plural(n: number, one: MessageKey, other: MessageKey): string {
  return t(new Intl.PluralRules(locale()).select(n) === 'one' ? one : other, formatNumber(n));
}

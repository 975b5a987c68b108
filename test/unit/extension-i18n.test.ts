// The catalogues: German is complete (every English key, the same $n placeholders), every key the code asks for
// exists, and the strings fit the browsers' rules (the manifest name ≤ 75 characters, description ≤ 132).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { badgeCountdown, formatCountdown, formatList, formatNumber, plural, t, useI18n } from '../../extension/src/shared/i18n.js';
import { catalogue, readCatalogue } from './i18n-catalogue.js';

const SRC = join(import.meta.dirname, '../../extension/src');
const LANGS = readdirSync(join(SRC, '_locales'));
const placeholders = (m: string) => [...m.matchAll(/\$(\d)/g)].map((x) => x[1]).sort().join(',');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === '_locales' ? [] : sources(p);
    return /\.(ts|svelte)$/.test(f) ? [p] : [];
  });
}

describe('i18n catalogues', () => {
  afterEach(() => useI18n(catalogue('en')));

  it('English and German, each complete with matching placeholders', () => {
    expect(LANGS.sort()).toEqual(['de', 'en']);
    const en = readCatalogue('en');
    for (const lang of LANGS) {
      const other = readCatalogue(lang);
      expect(Object.keys(other).sort(), lang).toEqual(Object.keys(en).sort());
      for (const [key, { message }] of Object.entries(en)) {
        expect(other[key]!.message.trim(), `${lang}:${key}`).not.toBe('');
        expect(placeholders(other[key]!.message), `${lang}:${key}`).toBe(placeholders(message));
        expect(key).toMatch(/^[A-Za-z0-9_]+$/);
      }
      expect(other.extName!.message.length).toBeLessThanOrEqual(75);
      expect(other.extDescription!.message.length).toBeLessThanOrEqual(132);
    }
  });

  it('every message key used in the extension source exists, and no key is unused', () => {
    const en = readCatalogue('en');
    const used = new Set<string>();
    for (const file of sources(SRC)) {
      const text = readFileSync(file, 'utf8');
      // t('key') must name a key; any other quoted key-like literal (tables of keys) counts as a use.
      for (const m of text.matchAll(/\bt\('([A-Za-z0-9_]+)'/g)) used.add(m[1]!);
      for (const m of text.matchAll(/'([A-Za-z0-9_]+)'/g)) if (en[m[1]!]) used.add(m[1]!);
    }
    for (const k of used) expect(en[k], `used but missing: ${k}`).toBeDefined();
    const manifestKeys = ['extName', 'extDescription', 'locale', 'badgeMinute', 'badgeSecond'];
    const unused = Object.keys(en).filter((k) => !used.has(k) && !manifestKeys.includes(k));
    expect(unused).toEqual([]);
  });

  it('numbers, countdowns, lists and plurals follow the catalogue locale', () => {
    expect(formatNumber(12345)).toBe('12,345');
    expect(plural(1, 'packetsBlocked_one', 'packetsBlocked_other')).toBe('1 packet blocked');
    expect(formatList(['a', 'b'])).toBe('a and b');
    useI18n(catalogue('de'));
    expect(formatNumber(12345)).toBe('12.345');
    expect(plural(2, 'packetsBlocked_one', 'packetsBlocked_other')).toBe('2 Pakete blockiert');
    expect(formatList(['a', 'b', 'c'])).toBe('a, b und c');
    expect(formatCountdown(125)).toBe('2:05');
    expect(badgeCountdown(600)).toBe('10m');
    expect(t('stateProtected')).toBe('Geschützt');
  });
});

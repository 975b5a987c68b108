// The extension's catalogues (extension/src/_locales) as an I18nApi, for unit tests: the same lookup and $1…$9
// substitution browser.i18n does. test/unit/setup-i18n.ts installs English before every unit test file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { I18nApi } from '../../extension/src/shared/i18n.js';

const DIR = join(import.meta.dirname, '../../extension/src/_locales');

export function readCatalogue(lang: string): Record<string, { message: string }> {
  return JSON.parse(readFileSync(join(DIR, lang, 'messages.json'), 'utf8')) as Record<string, { message: string }>;
}

export function catalogue(lang: string): I18nApi {
  const messages = readCatalogue(lang);
  return {
    getMessage(key, subs = []) {
      const m = messages[key]?.message;
      return m === undefined ? '' : m.replace(/\$([1-9])/g, (_, n: string) => subs[Number(n) - 1] ?? '');
    },
  };
}

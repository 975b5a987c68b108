// docs/security.md names, in its tables, the test that enforces each row ("core › loopback keeps working…").
// This keeps those names true: every reference must point at a test file that exists and at a test title
// (or scenario name) in it, so a renamed or deleted test cannot leave a row claiming protection nobody checks.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const DOC = readFileSync(path.join(ROOT, 'docs/security.md'), 'utf8');

/** Short names the document defines for the files it cites most ("`core` = `core-lock.test.ts`"). */
function abbreviations(doc: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/`(\w+)` = `([\w.-]+\.test\.ts)`/g)) out.set(m[1]!, m[2]!);
  return out;
}

/** Finds a test file by its base name anywhere under test/. */
function testFile(name: string): string | null {
  for (const dir of ['test/lab', 'test/unit', 'test/browser']) {
    const p = path.join(ROOT, dir, path.basename(name));
    if (existsSync(p)) return p;
  }
  const direct = path.join(ROOT, name);
  return existsSync(direct) ? direct : null;
}

/** Test titles (`it('…'`, `it.each(…)('…'`) and the scenario names some files keep in tables (`name: '…'`). */
function titles(source: string): string[] {
  const call = /\b(?:it|test|describe)(?:\.\w+)*(?:\([^()]*\))?\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g;
  const named = /\b(?:name|title):\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g;
  return [...source.matchAll(call), ...source.matchAll(named)].map((m) => m[2]!.replace(/\\(.)/g, '$1'));
}

/** "IPv6 … is blocked" matches "IPv6 with the tunnel up is blocked": `…` stands for any text. */
function matcher(item: string): RegExp {
  const parts = item.split('…').map((p) => p.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(parts.join('.*'));
}

interface Reference {
  line: number;
  file: string;
  items: string[];
}

function references(doc: string): Reference[] {
  const abbr = abbreviations(doc);
  const out: Reference[] = [];
  doc.split('\n').forEach((text, i) => {
    if (!text.startsWith('|')) return;
    const cells = text.split('|').map((c) => c.trim());
    const last = cells[cells.length - 2] ?? '';
    for (const part of last.split(';')) {
      const m = /^`?([\w./-]+?)`?\s*›\s*(.+)$/.exec(part.trim());
      if (!m) continue;
      const file = abbr.get(m[1]!) ?? m[1]!;
      // Remarks in parentheses explain; the comma-separated rest names tests.
      const items = m[2]!.replace(/\([^)]*\)/g, '').split(',').map((s) => s.trim()).filter(Boolean);
      out.push({ line: i + 1, file, items });
    }
  });
  return out;
}

describe('docs/security.md names only tests that exist', () => {
  const refs = references(DOC);

  it('cites tests at all (the parser understands the document)', () => {
    expect(refs.length).toBeGreaterThan(20);
  });

  it.each(refs.map((r) => [`line ${r.line}: ${r.file} › ${r.items.join(', ')}`, r] as const))('%s', (_name, ref) => {
    const file = testFile(ref.file);
    expect(file, `docs/security.md line ${ref.line}: no test file ${ref.file}`).not.toBeNull();
    const found = titles(readFileSync(file!, 'utf8'));
    for (const item of ref.items) {
      const re = matcher(item);
      expect(found.some((t) => re.test(t)), `docs/security.md line ${ref.line}: no test "${item}" in ${ref.file}`).toBe(true);
    }
  });
});

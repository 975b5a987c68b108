// The architecture's arrows, checked from the source: which part may import which (docs/architecture.md).
// Reads every import of every source file, maps files to parts, and fails on an arrow the design forbids,
// on a Node built-in in code that must run in a browser, and on a cycle between parts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

type Part =
  | 'extension-ui'
  | 'extension-background'
  | 'extension-shared'
  | 'extension-content'
  | 'protocol'
  | 'net'
  | 'client'
  | 'native-host'
  | 'cli'
  | 'daemon'
  | 'firewall'
  | 'process'
  | 'common'
  | 'installer';

/** Where each part lives (first match wins). */
const PARTS: [string, Part][] = [
  ['extension/src/popup/', 'extension-ui'],
  ['extension/src/options/', 'extension-ui'],
  ['extension/src/onboarding/', 'extension-ui'],
  ['extension/src/background/', 'extension-background'],
  ['extension/src/content/', 'extension-content'],
  ['extension/src/shared/', 'extension-shared'],
  ['host/src/protocol/', 'protocol'],
  ['host/src/net/', 'net'],
  ['host/src/client/', 'client'],
  ['host/src/native-host/', 'native-host'],
  ['host/src/cli/', 'cli'],
  ['host/src/daemon/', 'daemon'],
  ['host/src/firewall/', 'firewall'],
  ['host/src/process/', 'process'],
  ['host/src/common/', 'common'],
  ['installer/src/', 'installer'],
];

/** The only arrows allowed (a part may always import itself). */
const ALLOWED: Record<Part, Part[]> = {
  'extension-ui': ['extension-shared', 'protocol', 'net', 'common'],
  'extension-background': ['extension-shared', 'protocol', 'net', 'common'],
  'extension-shared': ['protocol', 'net', 'common'],
  'extension-content': [],
  protocol: ['net'],
  net: [],
  client: ['protocol', 'net', 'common', 'process'],
  'native-host': ['protocol', 'client', 'net', 'common', 'process'],
  cli: ['protocol', 'client', 'net', 'common', 'process'],
  daemon: ['protocol', 'net', 'firewall', 'common', 'process'],
  firewall: ['net', 'process'],
  process: ['common'],
  common: [],
  installer: ['common', 'process', 'net', 'firewall'],
};

/** Parts whose code runs in the browser (or must be importable there): no Node built-ins. */
const BROWSER_SAFE: Part[] = ['extension-ui', 'extension-background', 'extension-shared', 'extension-content', 'protocol', 'net', 'common'];

/**
 * Arrows that exist today and are scheduled for removal by the architecture step (issue 14). This list may
 * only shrink: a new forbidden arrow fails, and so does an entry here that no longer exists (remove it).
 */
const KNOWN: string[] = [];

function partOf(rel: string): Part | null {
  for (const [prefix, part] of PARTS) if (rel.startsWith(prefix)) return part;
  return null;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|svelte)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)];
  return specs.map((m) => m[1]!);
}

interface Arrow {
  from: string;
  to: string;
  fromPart: Part;
  toPart: Part | 'node';
}

const FILES = ['host/src', 'installer/src', 'extension/src'].flatMap((d) => sources(path.join(ROOT, d))).map((f) => path.relative(ROOT, f));

function arrows(): Arrow[] {
  const files = FILES.map((f) => path.join(ROOT, f));
  const out: Arrow[] = [];
  for (const file of files) {
    const from = path.relative(ROOT, file);
    const fromPart = partOf(from);
    if (!fromPart) continue;
    for (const spec of imports(file)) {
      if (spec.startsWith('node:') || builtinModules.includes(spec)) {
        out.push({ from, to: spec, fromPart, toPart: 'node' });
        continue;
      }
      if (!spec.startsWith('.')) continue; // packages: judged by review and the bundle size, not here
      const to = path.relative(ROOT, path.resolve(path.dirname(file), spec)).replace(/\.js$/, '.ts');
      const toPart = partOf(to);
      if (toPart) out.push({ from, to, fromPart, toPart });
    }
  }
  return out;
}

const ALL = arrows();
const key = (a: Arrow) => `${a.from} -> ${a.to}`;

/**
 * The firewall's public face: the backend-neutral interface, the policy it enforces, and the one place that
 * chooses this system's backend (what the daemon's entry point and the installer's reset use).
 */
const FIREWALL_INTERFACE = ['host/src/firewall/firewall.ts', 'host/src/firewall/policy.ts', 'host/src/firewall/system.ts'];

function forbidden(a: Arrow): string | null {
  if (a.toPart === 'node') return BROWSER_SAFE.includes(a.fromPart) ? `${a.fromPart} must not use Node built-ins` : null;
  if (a.toPart === a.fromPart) return null;
  if (!ALLOWED[a.fromPart].includes(a.toPart)) return `${a.fromPart} → ${a.toPart} is not an allowed arrow`;
  if (a.toPart === 'firewall' && !FIREWALL_INTERFACE.includes(a.to)) return `${a.fromPart} reaches into a firewall backend (${a.to})`;
  return null;
}

describe('import rules: the parts and the only arrows allowed', () => {
  it('reads the tree (every part is found)', () => {
    const seen = new Set(ALL.map((a) => a.fromPart));
    for (const part of ['protocol', 'daemon', 'firewall', 'cli', 'native-host', 'installer', 'extension-background', 'extension-ui'] as Part[]) {
      expect(seen.has(part), part).toBe(true);
    }
  });

  it('every source file belongs to a part (an unplaced file would escape every rule)', () => {
    expect(FILES.filter((f) => partOf(f) === null)).toEqual([]);
  });

  it('no forbidden arrow and no Node built-in in browser code, beyond the shrinking list of known ones', () => {
    const bad = ALL.map((a) => ({ a, why: forbidden(a) })).filter((x) => x.why !== null);
    const unexpected = bad.filter((x) => !KNOWN.includes(key(x.a))).map((x) => `${key(x.a)}  (${x.why})`);
    expect(unexpected, 'forbidden imports').toEqual([]);
    const gone = KNOWN.filter((k) => !bad.some((x) => key(x.a) === k));
    expect(gone, 'fixed: remove these from KNOWN').toEqual([]);
  });

  it('the extension build swaps no Node built-in for a stand-in (it ships the real protocol and parsers)', () => {
    const config = readFileSync(path.join(ROOT, 'extension/vite.config.ts'), 'utf8');
    expect(config).not.toMatch(/alias[\s\S]*['"](node:)?(net|fs|path|os|crypto)['"]/);
  });

  it('the daemon and the installer reach the firewall only through its public face', () => {
    const arrow = (from: string, to: string): Arrow => ({ from, to, fromPart: partOf(from)!, toPart: partOf(to)! });
    expect(forbidden(arrow('host/src/daemon/daemon.ts', 'host/src/firewall/nft-rules.ts'))).toMatch(/reaches into a firewall backend/);
    expect(forbidden(arrow('host/src/daemon/main.ts', 'host/src/firewall/nft-backend.ts'))).toMatch(/reaches into a firewall backend/);
    expect(forbidden(arrow('installer/src/control.ts', 'host/src/firewall/nft-rules.ts'))).toMatch(/reaches into a firewall backend/);
    expect(forbidden(arrow('installer/src/uninstall.ts', 'host/src/firewall/system.ts'))).toBeNull();
    expect(forbidden(arrow('host/src/firewall/nft-firewall.ts', 'host/src/daemon/daemon.ts'))).toMatch(/not an allowed arrow/);
  });

  it('no cycle between parts', () => {
    const edges = new Map<Part, Set<Part>>();
    for (const a of ALL) {
      if (a.toPart === 'node' || a.toPart === a.fromPart || KNOWN.includes(key(a))) continue;
      edges.set(a.fromPart, (edges.get(a.fromPart) ?? new Set()).add(a.toPart));
    }
    const cycles: string[] = [];
    const visit = (p: Part, stack: Part[]) => {
      if (stack.includes(p)) return void cycles.push([...stack.slice(stack.indexOf(p)), p].join(' → '));
      for (const q of edges.get(p) ?? []) visit(q, [...stack, p]);
    };
    for (const p of edges.keys()) visit(p, []);
    expect(cycles).toEqual([]);
  });
});

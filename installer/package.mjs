// Runs installer/src/package/main.ts (bundled on the fly: the packaging code is not part of what we install).
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'tunlock-packager-'));
try {
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  await build({ entryPoints: [join(repo, 'installer/src/package/main.ts')], outfile: join(dir, 'package.js'), bundle: true, platform: 'node', target: 'node20', format: 'esm', logLevel: 'warning' });
  process.argv[2] = repo;
  await import(pathToFileURL(join(dir, 'package.js')).href);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

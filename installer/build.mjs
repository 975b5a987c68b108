// Builds the installer into host/dist/tunlock-install.js (one self-contained ES module, like the host
// programs) and copies the VPN hook scripts to host/dist/hooks/. Run after host/build.mjs.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'host', 'dist');
mkdirSync(join(out, 'hooks'), { recursive: true });
writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  outfile: join(out, 'tunlock-install.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: '#!/usr/bin/env node' },
  legalComments: 'none',
  logLevel: 'warning',
});
for (const f of readdirSync(join(here, 'src', 'hooks'))) {
  copyFileSync(join(here, 'src', 'hooks', f), join(out, 'hooks', f));
  chmodSync(join(out, 'hooks', f), 0o755);
}
console.log('built host/dist/tunlock-install.js, host/dist/hooks/');

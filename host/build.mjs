// Builds the runnable single files in host/dist/ (tunlockd.js, tunlock.js, tunlock-host.js and the installer,
// tunlock-install.js) and copies the VPN hook scripts to host/dist/hooks/ and the shell completions to host/dist/completion/.
// Each file is one ES module with its JavaScript dependencies inlined; koffi, which cannot be, goes to
// host/dist/node_modules/ (native-modules.mjs), so host/dist runs with nothing but `node`.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXTERNAL, copyNativeModules } from './native-modules.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
const entries = {
  tunlockd: 'src/daemon/main.ts',
  tunlock: 'src/cli/main.ts',
  'tunlock-host': 'src/native-host/main.ts',
  'tunlock-install': '../installer/src/main.ts',
};
const hooks = join(here, '..', 'installer', 'src', 'hooks');
const completion = join(here, '..', 'installer', 'src', 'completion');

mkdirSync(out, { recursive: true });
// The files are ES modules; this marker makes Node treat them so wherever host/dist is copied.
writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      entryPoints: [join(here, entry)],
      outfile: join(out, `${name}.js`),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      banner: { js: '#!/usr/bin/env node' },
      legalComments: 'none',
      // Whitespace only: names stay in stack traces, and Node has a third less to read at every start.
      minifyWhitespace: true,
      logLevel: 'warning',
      external: EXTERNAL,
    }),
  ),
);
// Every start of the CLI and tunlock-host reads the whole file: a dependency that balloons it is a regression.
const BUDGET_BYTES = 200_000;
for (const name of Object.keys(entries)) {
  const size = statSync(join(out, `${name}.js`)).size;
  if (size > BUDGET_BYTES) throw new Error(`host/dist/${name}.js is ${size} bytes, over the ${BUDGET_BYTES}-byte budget: find what grew (esbuild --metafile) before raising it`);
}
mkdirSync(join(out, 'hooks'), { recursive: true });
for (const f of readdirSync(hooks)) {
  copyFileSync(join(hooks, f), join(out, 'hooks', f));
  chmodSync(join(out, 'hooks', f), 0o755);
}
mkdirSync(join(out, 'completion'), { recursive: true });
for (const f of readdirSync(completion)) copyFileSync(join(completion, f), join(out, 'completion', f));
copyNativeModules(out);
console.log(`built ${Object.keys(entries).map((n) => `host/dist/${n}.js`).join(', ')}, host/dist/hooks/, host/dist/completion/, host/dist/node_modules/ (koffi)`);

// Builds the runnable single files in host/dist/ (tunlockd.js, tunlock.js, tunlock-host.js and the installer,
// tunlock-install.js) and copies the VPN hook scripts to host/dist/hooks/ and the shell completions to host/dist/completion/.
// Each file is one CommonJS script with its JavaScript dependencies inlined (host/bundle.mjs: how and why);
// koffi, which cannot be, goes to host/dist/node_modules/ (native-modules.mjs), so host/dist runs with nothing but `node`.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePrograms } from './bundle.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
const entries = {
  tunlockd: join(here, 'src/daemon/main.ts'),
  tunlock: join(here, 'src/cli/main.ts'),
  'tunlock-host': join(here, 'src/native-host/main.ts'),
  'tunlock-install': join(here, '../installer/src/main.ts'),
};
const hooks = join(here, '..', 'installer', 'src', 'hooks');
const completion = join(here, '..', 'installer', 'src', 'completion');

mkdirSync(out, { recursive: true });
await bundlePrograms(out, entries);
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
console.log(`built ${Object.keys(entries).map((n) => `host/dist/${n}.js`).join(', ')}, host/dist/hooks/, host/dist/completion/, host/dist/node_modules/ (koffi)`);

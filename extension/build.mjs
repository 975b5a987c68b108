// `npm run build:extension`: one source, two builds — extension/dist/chrome (service worker, fixed `key`) and
// extension/dist/firefox (background scripts, gecko id). Generated assets (icons, the block-mode page
// script, the _locales catalogues) go to extension/.generated/public, which vite copies into both builds.
// TUNLOCK_TEST_GRANT_ALL_URLS=1 node extension/build.mjs chrome: the browser tests' variant in
// extension/dist/chrome-test, with `<all_urls>` required instead of optional (never the shipped build).
import { build as esbuild } from 'esbuild';
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { writeIcons } from './scripts/icons.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pub = join(here, '.generated', 'public');
const targets = process.argv.slice(2).length ? process.argv.slice(2) : ['chrome', 'firefox'];

rmSync(join(here, '.generated'), { recursive: true, force: true });
writeIcons(join(pub, 'icons'));
// browser.i18n reads _locales/ from the extension's root.
cpSync(join(here, 'src/_locales'), join(pub, '_locales'), { recursive: true });
await esbuild({
  entryPoints: [join(here, 'src/content/webrtc-off.ts')],
  outfile: join(pub, 'content/webrtc-off.js'),
  bundle: true,
  format: 'iife',
  target: 'es2020',
  logLevel: 'warning',
});
for (const mode of targets) {
  const t0 = performance.now();
  await build({ configFile: join(here, 'vite.config.ts'), mode });
  const out = mode === 'chrome' && process.env.TUNLOCK_TEST_GRANT_ALL_URLS === '1' ? 'chrome-test' : mode;
  console.log(`built extension/dist/${out} in ${Math.round(performance.now() - t0)} ms`);
}

// Built twice by extension/build.mjs, once per browser: `vite build --mode chrome|firefox`.
import { crx } from '@crxjs/vite-plugin';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { manifest, type Target } from './manifest.js';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig(({ mode, command }) => {
  // Tools that only read this config (svelte-check) use the Chromium variant; a build must say which.
  if (command === 'build' && mode !== 'chrome' && mode !== 'firefox') throw new Error(`build with --mode chrome or --mode firefox, not ${mode}`);
  const target: Target = mode === 'firefox' ? 'firefox' : 'chrome';
  // Test-only variant (see manifest.ts): its own output folder, so it can never replace the shipped build.
  const testGrant = target === 'chrome' && process.env.TUNLOCK_TEST_GRANT_ALL_URLS === '1';
  const outDir = testGrant ? 'dist/chrome-test' : `dist/${target}`;
  return {
    root: here,
    publicDir: `${here}.generated/public`,
    define: { __TUNLOCK_BROWSER__: JSON.stringify(target) },
    // crx only for a build: loaded by a tool that only reads this config (svelte-check), it empties the
    // Chromium build's output folder.
    plugins: [svelte({ configFile: `${here}svelte.config.js` }), ...(command === 'build' ? [crx({ manifest: manifest(target, '0.1.0', testGrant), browser: target })] : [])],
    // The onboarding page is not named in the manifest (the background opens it on install): an extra input.
    build: { outDir, emptyOutDir: true, target: 'es2022', minify: false, sourcemap: false, rollupOptions: { input: { onboarding: `${here}src/onboarding/index.html` } } },
    logLevel: 'warn',
  };
});

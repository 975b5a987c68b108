// How every program in host/dist is bundled, in one place: host/build.mjs, the benches (test/bench/run.mjs)
// and the tests that build a dist of their own all call these, so what they measure or test is what ships.
//
// CommonJS, not ES modules: Node 20's ESM loader costs several milliseconds at every start (its own internal
// modules, a module job per file, an extra read of the package scope), which the CLI pays on every command.
// OUT/package.json marks the .js files as CommonJS wherever the directory is copied (the repository's own
// package.json says "module"). The sources stay ES modules (tsc, vitest); the one that must know where its
// file lies, the installer, reads CommonJS's __dirname.
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { KOFFI_BINARY, copyNativeModules } from './native-modules.mjs';

export { copyNativeModules };

/**
 * `import koffi from 'koffi'` → `require("./node_modules/@koromix/koffi-linux-x64/index.js")` (this machine's
 * binary package, copied beside the bundles), by its path. koffi's own entry would cost every program that connects
 * to the daemon ~5 ms more at start: Node resolves its "exports" map with its ESM resolver, and the entry loads
 * util, module and deprecation wrappers we never call, only to require this same package. The binary's API is
 * koffi's (koffi is pinned: package.json); the peer-credential tests run against it in every bundled tier.
 */
export const koffiByPath = {
  name: 'koffi-by-path',
  setup(b) {
    // The file, not the directory: an ES module bundle (the benches') cannot import a directory.
    b.onResolve({ filter: /^koffi$/ }, () => ({ path: `./node_modules/${KOFFI_BINARY}/index.js`, external: true }));
  },
};

/** esbuild options for one program: `entry` (a .ts file) → `outfile` (a .js file in a dist directory). */
export function bundleOptions(entry, outfile) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    legalComments: 'none',
    // Whitespace only: names stay in stack traces, and Node has a third less to read at every start.
    minifyWhitespace: true,
    logLevel: 'warning',
    plugins: [koffiByPath],
  };
}

/** Marks the .js files in `out` as CommonJS (see above). */
export function writeDistPackageJson(out) {
  writeFileSync(`${out}/package.json`, '{ "type": "commonjs" }\n');
}

/** Bundles `entries` ({ name: entry .ts }) into `out`/name.js, with package.json and koffi beside them. */
export async function bundlePrograms(out, entries) {
  writeDistPackageJson(out);
  await Promise.all(Object.entries(entries).map(([name, entry]) => build(bundleOptions(entry, `${out}/${name}.js`))));
  copyNativeModules(out);
}

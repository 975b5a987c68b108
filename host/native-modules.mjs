// The one native dependency, koffi (SO_PEERCRED and pidfds; README "Dependencies"), cannot be inlined into the
// bundles: its ES module loader and this machine's prebuilt binary package are copied to OUT/node_modules/,
// where Node finds them from OUT/*.js. Used by host/build.mjs and by the tests that build a dist of their own.
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const modules = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules');
const LOADER = ['package.json', 'LICENSE.txt', 'index.js', 'src/koffi/index.js', 'src/koffi/src/static.js'];

/** Packages the bundles import at run time instead of inlining them. */
export const EXTERNAL = ['koffi'];

export function copyNativeModules(out) {
  const target = join(out, 'node_modules');
  rmSync(target, { recursive: true, force: true });
  for (const f of LOADER) {
    mkdirSync(dirname(join(target, 'koffi', f)), { recursive: true });
    copyFileSync(join(modules, 'koffi', f), join(target, 'koffi', f));
  }
  const binary = `@koromix/koffi-${process.platform}-${process.arch}`;
  if (!existsSync(join(modules, binary))) throw new Error(`${binary} is not installed: run npm ci on this machine (it installs the binary for its platform)`);
  cpSync(join(modules, binary), join(target, binary), { recursive: true });
}

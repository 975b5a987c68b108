// The one native dependency, koffi (SO_PEERCRED and pidfds; README "Dependencies"), cannot be inlined into the
// bundles: this machine's prebuilt binary package (@koromix/koffi-PLATFORM-ARCH: the compiled library and
// the few lines that pick its glibc or musl build) is copied to OUT/node_modules/, where the bundles require
// it by its path (host/bundle.mjs says why). koffi's own package.json and licence go beside it: the version
// and the licence of what ships. Used through host/bundle.mjs.
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const modules = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules');

/** koffi's binary package for this machine, the one copied (koffi 3.3.4 picks it the same way). */
export const KOFFI_BINARY = `@koromix/koffi-${process.platform}-${process.arch}`;

export function copyNativeModules(out) {
  const target = join(out, 'node_modules');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(join(target, 'koffi'), { recursive: true });
  for (const f of ['package.json', 'LICENSE.txt']) copyFileSync(join(modules, 'koffi', f), join(target, 'koffi', f));
  if (!existsSync(join(modules, KOFFI_BINARY))) throw new Error(`${KOFFI_BINARY} is not installed: run npm ci on this machine (it installs the binary for its platform)`);
  cpSync(join(modules, KOFFI_BINARY), join(target, KOFFI_BINARY), { recursive: true });
}

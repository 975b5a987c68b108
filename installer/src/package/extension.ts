// The store-ready extension archives: the built extension/dist/chrome as a .zip (Chrome Web Store, or
// "Load unpacked" after extracting) and extension/dist/firefox as an .xpi (addons.mozilla.org; a zip with the
// manifest at its root). Files are stored in sorted order without extra attributes (zip -X -D), so the same
// build gives the same archive.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

function zipDir(dir: string, archive: string): void {
  if (!existsSync(join(dir, 'manifest.json'))) throw new Error(`${dir}/manifest.json missing: build the extension first (npm run build:extension)`);
  rmSync(archive, { force: true });
  const r = spawnSync('sh', ['-c', 'find . -type f | LC_ALL=C sort | zip -X -D -q -@ "$1"', 'zip-dir', archive], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`zip failed for ${dir}: ${r.stderr || r.error?.message} (install it: apt-get install zip)`);
}

export function buildExtensionArchives(extensionDist: string, version: string, out: string): { chrome: string; firefox: string } {
  mkdirSync(out, { recursive: true });
  const chrome = join(out, `tunlock-${version}-chrome.zip`);
  const firefox = join(out, `tunlock-${version}-firefox.xpi`);
  zipDir(join(extensionDist, 'chrome'), chrome);
  zipDir(join(extensionDist, 'firefox'), firefox);
  return { chrome, firefox };
}

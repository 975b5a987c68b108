// `npm run package`: release/tunlock_<version>_<arch>.deb and the extension archives
// release/tunlock-<version>-chrome.zip and release/tunlock-<version>-firefox.xpi, from the prebuilt
// host/dist and extension/dist (npm run build first; the npm script does).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildDeb, dpkgArch, readVersion } from './deb.js';
import { buildExtensionArchives } from './extension.js';

const repo = resolve(process.argv[2] ?? '.');
const out = join(repo, 'release');
const version = readVersion(join(repo, 'package.json'));
const work = mkdtempSync(join(tmpdir(), 'tunlock-package-'));
try {
  const deb = buildDeb({ dist: join(repo, 'host/dist'), debianDir: join(repo, 'installer/debian'), version, arch: dpkgArch(), work, out });
  const ext = buildExtensionArchives(join(repo, 'extension/dist'), version, out);
  for (const f of [deb, ext.chrome, ext.firefox]) process.stdout.write(`${f}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

// The browsers in the browser tests never see an installed tunlock: the wrapper they run through masks every
// system-wide host manifest directory in a private mount namespace. Proved here with a stand-in directory
// holding a decoy manifest (the real /etc and /usr are never written): inside, it is empty; outside, the
// decoy is still there (the mask did not leak into the machine's mount namespace).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserWrapperScript, systemManifestDirs } from '../browser/browser-lab';
import { NetnsFixture } from '../../host/src/process/netns-fixture.js';
import { requireRootOrSkip } from '../helpers/root';

describe.runIf(requireRootOrSkip('browser isolation (mount namespaces)'))('browser wrapper: system host manifests are masked', () => {
  let fx: NetnsFixture | undefined;
  let ns: string;
  let dir: string;
  beforeAll(() => {
    fx = NetnsFixture.create({ namespaces: ['mask'], tag: 'mask' });
    ns = fx.ns('mask');
    dir = fx.tmp;
  });
  afterAll(() => {
    fx?.destroySync();
  });

  it('masks every system directory the installer writes to', () => {
    expect(systemManifestDirs()).toEqual(expect.arrayContaining(['/etc/opt/chrome/native-messaging-hosts', '/etc/chromium/native-messaging-hosts', '/usr/lib/mozilla/native-messaging-hosts']));
  });

  it('inside the wrapper the directory is empty; outside the decoy stays', () => {
    const system = join(dir, 'etc-chromium-native-messaging-hosts');
    mkdirSync(system);
    writeFileSync(join(system, 'dev.tunlock.host.json'), '{"decoy": true}\n');
    const wrapper = join(dir, 'browser');
    writeFileSync(wrapper, browserWrapperScript(ns, '/bin/ls', [system, join(dir, 'absent')]));
    chmodSync(wrapper, 0o755);
    expect(execFileSync(wrapper, ['-A', system], { encoding: 'utf8' })).toBe('');
    // and the program really ran in the lab namespace (only its loopback there)
    writeFileSync(wrapper, browserWrapperScript(ns, '/bin/ls', []));
    expect(execFileSync(wrapper, ['/sys/class/net'], { encoding: 'utf8' }).trim()).toBe('lo');
    expect(readdirSync(system)).toEqual(['dev.tunlock.host.json']);
  });
});

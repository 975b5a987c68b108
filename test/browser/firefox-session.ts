// Firefox ESR with the built extension inside a BrowserLab's client namespace, driven over WebDriver BiDi.
// The one Firefox launcher of the browser tier: it runs through the lab's browser wrapper, so the system's
// native-messaging manifest directories are masked and an installed tunlock is never seen.
// Firefox's BiDi port is on the namespace's loopback: a bridge (servers/bridge.mjs, through a unix socket)
// makes it reachable from the test. Everything started here is killed by PID in close().
import { Browser as BrowserKind, createProfile } from '@puppeteer/browsers';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import puppeteer, { TimeoutError } from 'puppeteer-core';
import { FIREFOX_ADDON_ID, NATIVE_HOST_NAME } from '../../host/src/common/extension-ids.js';
import type { BrowserLab } from './browser-lab.js';
import { ROOT } from './browser-lab.js';
import { FIREFOX_DIST, hostManifest } from './helpers.js';

export const FIREFOX_UUID = '7c3f2a4e-1b7d-4c55-9d1e-2f6a8b9c0d11';
export const FIREFOX_EXT = `moz-extension://${FIREFOX_UUID}`;

export interface FirefoxSession {
  browser: Browser;
  /** opens an extension page (e.g. src/popup/index.html) and waits for `selector` */
  open(path: string, selector: string, viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export interface FirefoxOptions {
  /** names this instance's home, profile and bridge socket (several may run side by side) */
  name?: string;
  /** profile preferences beside the ones every test needs */
  preferences?: Record<string, unknown>;
}

export async function launchFirefox(lab: BrowserLab, { name = 'ff', preferences = {} }: FirefoxOptions = {}): Promise<FirefoxSession> {
  const home = join(lab.dir, `${name}-home`);
  const hosts = join(home, '.mozilla', 'native-messaging-hosts');
  mkdirSync(hosts, { recursive: true });
  writeFileSync(join(hosts, `${NATIVE_HOST_NAME}.json`), hostManifest(lab.hostPath, 'firefox'));
  const profile = join(lab.dir, `${name}-profile`);
  await createProfile(BrowserKind.FIREFOX, {
    path: profile,
    preferences: {
      'extensions.webextensions.uuids': JSON.stringify({ [FIREFOX_ADDON_ID]: FIREFOX_UUID }),
      'xpinstall.signatures.required': false,
      'media.peerconnection.ice.obfuscate_host_addresses': true,
      ...preferences,
    },
  });
  const children: ChildProcess[] = [];
  let tcp: Server | null = null;
  let browser: Browser | null = null;
  const close = async () => {
    await browser?.disconnect().catch(() => undefined);
    for (const c of children) if (c.pid) process.kill(c.pid, 'SIGKILL');
    tcp?.close();
  };
  try {
    const firefox = spawn(lab.browserWrapper('firefox-esr'), ['--headless', '--profile', profile, '--remote-debugging-port', '0', '--remote-allow-system-access', 'about:blank'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: home } });
    children.push(firefox);
    const port = await new Promise<number>((ok, fail) => {
      let err = '';
      firefox.once('exit', (c) => fail(new Error(`firefox exited (${c}): ${err}`)));
      firefox.stderr!.on('data', (b: Buffer) => {
        err += b.toString();
        const m = /WebDriver BiDi listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(err);
        if (m) ok(Number(m[1]));
      });
    });
    const sock = join(lab.dir, `${name}-bidi.sock`);
    const bridge = spawn('ip', ['netns', 'exec', lab.ns, process.execPath, join(ROOT, 'test/browser/servers/bridge.mjs'), sock, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(bridge);
    await new Promise((ok) => bridge.stdout!.once('data', ok));
    const server = createServer((c) => {
      const u = netConnect(sock);
      c.pipe(u).pipe(c);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
    });
    tcp = server;
    // Same port number as inside the namespace: Firefox checks the Host header against its own port.
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(port, '127.0.0.1', ok);
    });
    const b = await puppeteer.connect({ browserWSEndpoint: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/session`, protocol: 'webDriverBiDi' });
    browser = b;
    await b.installExtension(FIREFOX_DIST);
    return {
      browser: b,
      async open(path, selector, viewport = { width: 360, height: 560 }) {
        const page = await b.newPage();
        await page.setViewport(viewport);
        void page.goto(`${FIREFOX_EXT}/${path}`).catch(() => undefined); // may never resolve (moz-extension)
        // A poll that races the navigation away from about:blank can fail inside Firefox's WebDriver BiDi
        // ("unknown error … right-hand side of 'in' should be an object, got null"): that is no answer about
        // the page, so wait again, up to the same deadline. Only running out of time fails.
        const until = Date.now() + 20_000;
        for (;;) {
          try {
            await page.waitForSelector(selector, { timeout: Math.max(1, until - Date.now()) });
            return page;
          } catch (e) {
            if (e instanceof TimeoutError || Date.now() >= until) throw e;
          }
        }
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

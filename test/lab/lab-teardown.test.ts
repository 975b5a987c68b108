// The lab always cleans up: after withLab returns or throws, when the owning process gets SIGTERM, and
// (through the detached reaper) when it is SIGKILLed. Also exercises the daemon helpers with a stub daemon.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, labSkip, withLab } from './fixture/lab';
import { LAB_DIR } from './fixture/processes';

const skip = labSkip('lab-teardown');

interface Footprint {
  namespaces: string[];
  procs: { name: string; pid: number; start: string | undefined }[];
  files: string[];
  tmp: string;
}

function footprint(lab: Lab): Footprint {
  return {
    namespaces: lab.namespaceNames(),
    procs: lab.processes(),
    files: [lab.wg.client, lab.wg.server].map((w) => `/var/run/wireguard/${w}.sock`),
    tmp: lab.tmp,
  };
}

/** Running = the PID still names the same process (same start time) and it is not a zombie. */
function running(pid: number, start: string | undefined): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f[19] === start && f[0] !== 'Z';
  } catch {
    return false;
  }
}

function leftovers(fp: Footprint): string[] {
  const out: string[] = [];
  const nsNow = new Set(
    (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((l) => l.split(' ')[0]),
  );
  for (const n of fp.namespaces) if (nsNow.has(n)) out.push(`namespace ${n}`);
  for (const p of fp.procs) if (running(p.pid, p.start)) out.push(`process ${p.name} (${p.pid})`);
  for (const f of [...fp.files, fp.tmp]) if (fs.existsSync(f)) out.push(`file ${f}`);
  return out;
}

async function eventuallyClean(fp: Footprint, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  let left = leftovers(fp);
  while (left.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    left = leftovers(fp);
  }
  expect(left).toEqual([]);
}

function rootHasNoTunlockTable() {
  // Read-only look at the machine's own namespace: the lab never touches it.
  const r = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  expect(r.stdout ?? '').not.toMatch(/tunlock|labnat|labsink/);
}

describe.skipIf(skip)('lab teardown', () => {
  let work: string;
  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'tunlock-labtest-'));
    // A plain-JS bundle of the lab (fixture/lab.ts and what it imports) so a child `node` process can own a lab
    // (Node 20 can't run .ts).
    await build({ entryPoints: [path.join(LAB_DIR, 'fixture/lab.ts')], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: path.join(work, 'lab.mjs'), logLevel: 'error' });
    fs.writeFileSync(
      path.join(work, 'owner.mjs'),
      `import { Lab } from './lab.mjs';
const lab = await Lab.create({ container: true });
await lab.capture();
lab.spawnIn('client', 'sleep', ['600'], { name: 'sleep' });
process.stdout.write(JSON.stringify({
  namespaces: lab.namespaceNames(), procs: lab.processes(),
  files: [lab.wg.client, lab.wg.server].map((w) => '/var/run/wireguard/' + w + '.sock'), tmp: lab.tmp,
}) + '\\n');
setInterval(() => {}, 1000);
`,
    );
  });
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
    rootHasNoTunlockTable();
  });

  it('withLab tears everything down when fn returns', async () => {
    let fp: Footprint | undefined;
    const value = await withLab({}, async (lab) => {
      await lab.capture();
      lab.spawnIn('vpn', 'sleep', ['600']);
      fp = footprint(lab);
      expect(fp.procs.map((p) => p.name)).toEqual(
        expect.arrayContaining(['tcpdump', 'sleep', `wireguard-go ${lab.wg.client}`, `wireguard-go ${lab.wg.server}`]),
      );
      expect(leftovers(fp).length).toBeGreaterThan(0);
      return 42;
    });
    expect(value).toBe(42);
    expect(leftovers(fp!)).toEqual([]);
  });

  it('withLab tears everything down when fn throws', async () => {
    let fp: Footprint | undefined;
    await expect(
      withLab({ container: true }, async (lab) => {
        await lab.capture();
        fp = footprint(lab);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(leftovers(fp!)).toEqual([]);
  });

  it('cleans up when the owning process gets SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(work, 'owner.mjs')], {
      env: { ...process.env, TUNLOCK_LAB_DIR: LAB_DIR },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (c) => reject(new Error(`owner exited early (${c})`)));
    });
    const fp = JSON.parse(line) as Footprint;
    expect(leftovers(fp).length).toBeGreaterThan(0);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    // The owner's own signal handler deleted the namespaces before it died (the reaper would be later).
    expect(leftovers({ ...fp, procs: [] }).filter((l) => l.startsWith('namespace'))).toEqual([]);
    await eventuallyClean(fp, 5000);
  });

  it('the reaper cleans up when the owning process is SIGKILLed', async () => {
    const child = spawn(process.execPath, [path.join(work, 'owner.mjs')], {
      env: { ...process.env, TUNLOCK_LAB_DIR: LAB_DIR },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (c) => reject(new Error(`owner exited early (${c})`)));
    });
    const fp = JSON.parse(line) as Footprint;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    await eventuallyClean(fp, 8000);
  });

  it('daemon helpers: start, cli, kill, restart, killed on teardown (stub daemon)', async () => {
    const daemonJs = path.join(work, 'stub-daemon.mjs');
    const cliJs = path.join(work, 'stub-cli.mjs');
    fs.writeFileSync(
      daemonJs,
      `import net from 'node:net'; import fs from 'node:fs';
const sock = process.argv[process.argv.indexOf('--socket') + 1];
const state = process.argv[process.argv.indexOf('--state-dir') + 1];
fs.rmSync(sock, { force: true });
net.createServer((c) => c.on('data', (d) => c.end(JSON.stringify({ ok: true, pid: process.pid, state, req: JSON.parse(String(d)) })))).listen(sock);
`,
    );
    fs.writeFileSync(
      cliJs,
      `import net from 'node:net';
const a = process.argv.slice(2); const sock = a[a.indexOf('--socket') + 1];
const args = a.slice(a.indexOf('--json') + 1);
const c = net.connect(sock, () => c.write(JSON.stringify(args))); let out = '';
c.on('data', (d) => (out += d)); c.on('end', () => { process.stdout.write(out + '\\n'); process.exit(args[0] === 'fail' ? 3 : 0); });
`,
    );
    let fp: Footprint | undefined;
    await withLab({}, async (lab) => {
      const d = await lab.startDaemon({ daemonJs, cliJs });
      expect(d.running).toBe(true);
      const r = (await d.cli(['status'])) as { ok: boolean; pid: number; state: string; req: string[] };
      expect(r).toMatchObject({ ok: true, pid: d.pid, state: d.stateDir, req: ['status'] });
      const raw = await d.cliRaw(['fail']);
      expect(raw.code).toBe(3);
      expect(raw.json).toMatchObject({ ok: true });
      const first = d.pid;
      await d.kill('SIGKILL');
      expect(d.running).toBe(false);
      await d.restart();
      expect(d.pid).not.toBe(first);
      expect(await d.cli(['again'])).toMatchObject({ pid: d.pid });
      fp = footprint(lab);
      expect(fp.procs.some((p) => p.name === 'tunlockd' && p.pid === d.pid)).toBe(true);
    });
    expect(leftovers(fp!)).toEqual([]);
  });
});

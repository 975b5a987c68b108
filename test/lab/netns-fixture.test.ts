// The one namespace fixture every tier uses (host/src/process/netns-fixture.ts): unique names, nothing done
// outside its own namespaces, only lab addresses on its interfaces, one set of exit handlers however many
// fixtures exist, and a teardown that leaves nothing — also when creation fails half-way. (Signals and SIGKILL
// of the owner: lab-teardown.test.ts and native-host.test.ts, through the Lab and the netns daemon.)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NetnsFixture, procStartTime } from '../../host/src/process/netns-fixture.js';
import { requireRootOrSkip } from '../helpers/root.js';

const run = requireRootOrSkip('lab: netns-fixture', ['ip']);

const namespacesNow = (): string[] => (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((l) => l.split(' ')[0]!);
/** The same process (start time) and not a zombie. */
const alive = (pid: number, start: string | undefined): boolean => {
  if (start === undefined || procStartTime(pid) !== start) return false;
  let stat = '';
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
};
/** SIGKILL is delivered asynchronously; an orphan is reaped by init some time later. */
async function eventuallyDead(pid: number, start: string | undefined): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid, start); i++) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid, start);
}

describe.runIf(run)('the namespace fixture', () => {
  const made: NetnsFixture[] = [];
  const create = (namespaces: string[]) => {
    const f = NetnsFixture.create({ namespaces, tag: 'fixture-test' });
    made.push(f);
    return f;
  };
  afterEach(async () => {
    for (const f of made.splice(0)) await f.destroy();
  });

  it('creates uniquely named namespaces with loopback up', () => {
    const a = create(['x', 'y']);
    const b = create(['x']);
    expect(a.namespaces()).toEqual([`tl${a.id}-x`, `tl${a.id}-y`]);
    expect(a.id).not.toBe(b.id);
    expect(namespacesNow()).toEqual(expect.arrayContaining([...a.namespaces(), ...b.namespaces()]));
    const lo = a.execSync(a.ns('x'), ['ip', '-o', 'link', 'show', 'lo']);
    expect(lo.stdout).toMatch(/<LOOPBACK,UP,LOWER_UP>/);
  });

  it('refuses to act in a namespace it did not create, and to put a routable address on an interface', async () => {
    const a = create(['x']);
    const b = create(['x']);
    expect(() => a.exec(b.ns('x'), 'true', [])).toThrow(/refusing to act outside its namespaces/);
    expect(() => a.spawn('some-other-ns', 'true', [])).toThrow(/refusing to act outside its namespaces/);
    expect(() => a.ns('nope')).toThrow(/no namespace "nope"/);
    expect(() => a.ip(a.ns('x'), ['addr add 8.8.8.8/32 dev lo'])).toThrow(/not a documentation, benchmarking, private or loopback address/);
    expect(() => a.ipSync(a.ns('x'), ['-6', 'addr', 'add', '2606:4700::1/128', 'dev', 'lo'])).toThrow(/not a documentation/);
    await a.ip(a.ns('x'), ['addr add 192.0.2.7/32 dev lo', 'addr add 2001:db8::7/128 dev lo nodad']);
    expect(a.execSync(a.ns('x'), ['ip', '-o', 'addr', 'show', 'dev', 'lo']).stdout).toMatch(/192\.0\.2\.7\/32[\s\S]*2001:db8::7\/128/);
  });

  it('teardown kills its processes and whatever else runs inside, deletes the namespaces, files and temp dir', async () => {
    const f = create(['x', 'y']);
    const tracked = f.spawn(f.ns('x'), 'sleep', ['600'], { name: 'sleep' });
    // A grandchild that escaped its parent (as a daemon's helper would): found by `ip netns pids`.
    const escaped = f.execSync(f.ns('y'), ['sh', '-c', 'sleep 600 >/dev/null 2>&1 & echo $!']).stdout.trim();
    const escapedStart = procStartTime(Number(escaped));
    const extra = join('/tmp', `tunlock-fixture-test-${f.id}.sock`);
    writeFileSync(extra, '');
    f.removeOnTeardown(extra);
    expect(f.processes().map((p) => p.name)).toEqual(['sleep']);
    expect(alive(Number(escaped), escapedStart)).toBe(true);

    await f.destroy();
    expect(f.destroyed).toBe(true);
    expect(await eventuallyDead(tracked.pid, tracked.start)).toBe(true);
    expect(await eventuallyDead(Number(escaped), escapedStart)).toBe(true);
    expect(namespacesNow().filter((n) => f.namespaces().includes(n))).toEqual([]);
    expect(existsSync(extra)).toBe(false);
    expect(existsSync(f.tmp)).toBe(false);
    await f.destroy(); // idempotent
  });

  it('a failure half-way through creation removes what was made', () => {
    // The second `ip netns add` fails (no '/' in a namespace name) after the first succeeded.
    let thrown: unknown;
    const before = new Set(namespacesNow());
    try {
      create(['ok', 'bad/name']);
    } catch (e) {
      thrown = e;
    }
    expect(String(thrown)).toMatch(/ip netns add tl[0-9a-f]{6}-bad\/name/);
    expect(namespacesNow().filter((n) => !before.has(n) && /^tl[0-9a-f]{6}-ok$/.test(n))).toEqual([]);
  });

  it('one set of exit and signal handlers, however many fixtures', () => {
    create(['x']);
    const counts = () => ['exit', 'SIGINT', 'SIGTERM', 'SIGHUP'].map((e) => process.listenerCount(e));
    const before = counts();
    create(['x']);
    create(['y']);
    expect(counts()).toEqual(before);
  });
});

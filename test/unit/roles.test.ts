// Who may do what on the daemon socket: roles.ts, the daemon's enforcement of it, and the table in
// docs/security.md that states it (kept equal to the code by this test).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Client } from '../../host/src/daemon/daemon.js';
import { Daemon } from '../../host/src/daemon/daemon.js';
import { REQUIRED_ROLE, ROLE_WORDS, authorize } from '../../host/src/daemon/roles.js';
import { StateStore } from '../../host/src/daemon/state-store.js';
import { FakeFirewall } from './daemon-fakes.js';
import type { Request } from '../../host/src/protocol/schema.js';
import { ProtocolError, Request as RequestSchema } from '../../host/src/protocol/schema.js';

const requestTypes = RequestSchema.def.options.map((o) => o.shape.type.def.values[0]) as Request['type'][];
const member: Client = { uid: 1000, gid: 1000, pid: 4242, pidfd: null };
const root: Client = { uid: 0, gid: 0, pid: 1, pidfd: null };

/** One valid request of each type. */
const EXAMPLES: Record<Request['type'], Request> = {
  hello: { id: 1, type: 'hello', version: 1, client: 'test' },
  status: { id: 1, type: 'status' },
  subscribe: { id: 1, type: 'subscribe' },
  setMode: { id: 1, type: 'setMode', mode: 'off' },
  setLan: { id: 1, type: 'setLan', allow: true },
  lanAdd: { id: 1, type: 'lanAdd', range: '10.20.0.0/16' },
  lanRemove: { id: 1, type: 'lanRemove', range: '10.20.0.0/16' },
  tunnelAdd: { id: 1, type: 'tunnelAdd', iface: 'wg0', endpoints: [] },
  tunnelRemove: { id: 1, type: 'tunnelRemove', iface: 'wg0' },
  tunnelAdopt: { id: 1, type: 'tunnelAdopt', iface: 'wg0' },
  tunnelUp: { id: 1, type: 'tunnelUp', iface: 'wg0' },
  tunnelDown: { id: 1, type: 'tunnelDown', iface: 'wg0', intentional: true },
  captiveOpen: { id: 1, type: 'captiveOpen', seconds: 60 },
  captiveExtend: { id: 1, type: 'captiveExtend', seconds: 60 },
  captiveClose: { id: 1, type: 'captiveClose' },
  selfTest: { id: 1, type: 'selfTest' },
  history: { id: 1, type: 'history' },
  bindAdd: { id: 1, type: 'bindAdd', target: { kind: 'user', name: 'debian-transmission' } },
  bindRemove: { id: 1, type: 'bindRemove', target: { kind: 'user', name: 'debian-transmission' } },
  reset: { id: 1, type: 'reset', confirm: true },
};

function refusal(fn: () => void): ProtocolError | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
}

describe('roles', () => {
  it.each(requestTypes)('%s: root may always; a member exactly when its role says so', (type) => {
    const req = EXAMPLES[type];
    expect(refusal(() => authorize(req, root))).toBeNull();
    const e = refusal(() => authorize(req, member));
    if (REQUIRED_ROLE[type] === 'member') expect(e).toBeNull();
    else {
      expect(e?.code).toBe('not_permitted');
      expect(e?.message).toContain(ROLE_WORDS[REQUIRED_ROLE[type]]);
      expect(e?.hint).toMatch(/sudo/);
    }
  });

  it('members may bind and unbind only a cgroup (`tunlock run`: their own process), never an account', () => {
    const run = { kind: 'cgroup' as const, name: 'run-1-abc' };
    expect(refusal(() => authorize({ id: 1, type: 'bindAdd', target: run }, member))).toBeNull();
    expect(refusal(() => authorize({ id: 1, type: 'bindRemove', target: run }, member))).toBeNull();
    expect(refusal(() => authorize({ id: 1, type: 'bindAdd', target: { kind: 'group', name: 'users' } }, member))?.code).toBe('not_permitted');
  });

  it('the requests the old daemon let every member send are refused to members: tunnels, bindings, reset', () => {
    for (const type of ['tunnelAdd', 'tunnelRemove', 'tunnelUp', 'tunnelDown', 'bindAdd', 'bindRemove', 'reset'] as const) {
      expect(refusal(() => authorize(EXAMPLES[type], member))?.code, type).toBe('not_permitted');
    }
  });
});

describe('the daemon enforces roles before touching anything', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tunlock-roles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const firewall = new FakeFirewall();
  const calls = firewall.calls;
  const daemon = new Daemon({ firewall, store: new StateStore(dir), log: () => undefined });
  const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: ProtocolError) => e.code);

  it('a member cannot reset, add a tunnel or bind an account: not_permitted, nothing applied', async () => {
    expect(await code(daemon.handle(EXAMPLES.reset, member))).toBe('not_permitted');
    expect(await code(daemon.handle(EXAMPLES.tunnelAdd, member))).toBe('not_permitted');
    expect(await code(daemon.handle(EXAMPLES.bindAdd, member))).toBe('not_permitted');
    expect(calls).toEqual([]);
  });

  it('nobody may bind root: not user root, not group root, not even root itself', async () => {
    for (const target of [{ kind: 'user', name: 'root' }, { kind: 'group', name: 'root' }] as const) {
      const e = await daemon.handle({ id: 1, type: 'bindAdd', target }, root).then(() => null, (x: ProtocolError) => x);
      expect(e?.code).toBe('not_permitted');
      expect(e?.message).toMatch(/nobody may bind root/);
    }
    expect(calls).toEqual([]);
  });
});

describe('docs/security.md "Who may do what"', () => {
  const doc = readFileSync(path.resolve(__dirname, '../../docs/security.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const line of doc.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    const m = /^`(\w+)`$/.exec(cells[1] ?? '');
    if (m && cells.length === 5) rows.set(m[1]!, cells[3]!);
  }

  it.each(requestTypes)('lists %s with the role the code enforces', (type) => {
    expect(rows.get(type), `no row for ${type}`).toBe(ROLE_WORDS[REQUIRED_ROLE[type]]);
  });
});

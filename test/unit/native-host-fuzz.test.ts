// tunlock-host under fuzzing: valid, mutated and random requests, as values and as byte streams in random
// chunks, through the real decoder, input queue and relay, against a fake daemon that records what reaches
// it. Invariants: nothing throws; every frame gets exactly one answer; every message to the browser is a
// valid protocol message within native messaging's size limit; and what reaches the daemon is exactly the
// valid requests, as validated (no extra fields, no id), in order.
import { ok, deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrowserInput } from '../../host/src/native-host/browser-input';
import { Relay } from '../../host/src/native-host/relay';
import type { ToBrowser } from '../../host/src/native-host/relay';
import { encodeFrame } from '../../host/src/protocol/framing';
import type { RequestBody } from '../../host/src/protocol/schema';
import {
  MAX_MESSAGE_TO_BROWSER_BYTES,
  MAX_REQUEST_BYTES,
  PROTOCOL_VERSION,
  Request as RequestSchema,
  ServerMessage,
} from '../../host/src/protocol/schema';
import { FakeDaemon, SOCKET, settle } from './native-host-fakes';

// ── valid requests, and ways to break them ─────────────────────────────────────────────────────────────

const iface = fc.oneof(fc.constantFrom('wg0', 'tun0', 'proton0', 'x.y-z_1'), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/));
const port = fc.integer({ min: 1, max: 65535 });
const proto = fc.constantFrom('udp', 'tcp');
const endpoint = fc.oneof(
  fc.tuple(fc.ipV4(), port, proto).map(([a, p, t]) => `${a}:${p}/${t}`),
  fc.tuple(fc.ipV6(), port, proto).map(([a, p, t]) => `[${a}]:${p}/${t}`),
);
const account = fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,31}$/);
const target = fc.oneof(
  account.map((name) => ({ kind: 'user', name })),
  account.map((name) => ({ kind: 'group', name })),
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/).map((name) => ({ kind: 'cgroup', name })),
);
const seconds = fc.integer({ min: 10, max: 600 });
const id = fc.integer({ min: 0, max: 2 ** 31 - 1 });

const validBody = fc.oneof(
  fc.constant({ type: 'status' }),
  fc.constant({ type: 'subscribe' }),
  fc.constant({ type: 'captiveClose' }),
  fc.record({ type: fc.constant('hello'), version: fc.constantFrom(PROTOCOL_VERSION), client: fc.constantFrom('extension', 'cli', 'host', 'test') }),
  fc.record({ type: fc.constant('setMode'), mode: fc.constantFrom('off', 'on', 'always') }),
  fc.record({ type: fc.constant('setLan'), allow: fc.boolean() }),
  fc.record({ type: fc.constant('tunnelAdd'), iface, endpoints: fc.array(endpoint, { maxLength: 4 }) }),
  fc.record({ type: fc.constantFrom('tunnelRemove', 'tunnelUp'), iface }),
  fc.record({ type: fc.constant('tunnelDown'), iface, intentional: fc.boolean() }),
  fc.record({ type: fc.constantFrom('captiveOpen', 'captiveExtend'), seconds }),
  fc.record({ type: fc.constantFrom('bindAdd', 'bindRemove'), target }),
  fc.constant({ type: 'reset', confirm: true }),
);
const validRequest = fc.tuple(validBody, id).map(([b, i]) => ({ ...b, id: i }) as Record<string, unknown>);

const TYPES = ['hello', 'status', 'subscribe', 'setMode', 'setLan', 'tunnelAdd', 'tunnelRemove', 'tunnelUp', 'tunnelDown', 'captiveOpen', 'captiveExtend', 'captiveClose', 'bindAdd', 'bindRemove', 'reset'];
const nasty = fc.constantFrom<unknown>(
  'wg0; nft flush ruleset',
  'wg0\n',
  '1.2.3.4:53/udp } accept',
  '../../etc/passwd',
  '',
  'x'.repeat(70),
  '\u0000',
  '\ud800',
  -1,
  1e308,
  0.5,
  '1',
  null,
  true,
  [],
  {},
  { kind: 'user', name: 'root', extra: 1 },
);
const key = fc.oneof(fc.constantFrom('id', 'type', 'mode', 'iface', 'endpoints', 'target', 'seconds', 'confirm', 'version', '__proto__', 'constructor', 'prototype'), fc.string({ maxLength: 8 }));
const mutation = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value: fc.oneof(nasty, fc.jsonValue({ maxDepth: 2 })) }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({ op: fc.constant('retype' as const), type: fc.oneof(fc.constantFrom(...TYPES), fc.string({ maxLength: 12 })) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(req: Record<string, unknown>, ms: Mutation[]): unknown {
  // Built as JSON text, then parsed: a '__proto__' key becomes an own property, as in a real frame.
  let entries: Array<[string, unknown]> = Object.entries(req);
  for (const m of ms) {
    const k = m.op === 'retype' ? 'type' : m.key;
    entries = entries.filter(([name]) => name !== k);
    if (m.op === 'set') entries.push([k, m.value]);
    if (m.op === 'retype') entries.push([k, m.type]);
  }
  return JSON.parse(`{${entries.map(([name, v]) => `${JSON.stringify(name)}:${JSON.stringify(v)}`).join(',')}}`);
}

const mutatedRequest = fc.tuple(validRequest, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([r, ms]) => mutate(r, ms));
const anyValue = fc.oneof(
  { weight: 3, arbitrary: validRequest as fc.Arbitrary<unknown> },
  { weight: 4, arbitrary: mutatedRequest },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<unknown> },
  { weight: 1, arbitrary: fc.record({ id, type: fc.constantFrom(...TYPES) }, { requiredKeys: [] }) as fc.Arbitrary<unknown> },
);

// ── the harness ────────────────────────────────────────────────────────────────────────────────────────

/** What the daemon must receive for these browser values: the valid non-hello requests, parsed, without id. */
function expectedForwarded(values: unknown[]): RequestBody[] {
  const out: RequestBody[] = [];
  for (const v of values) {
    const r = RequestSchema.safeParse(v);
    if (!r.success || r.data.type === 'hello') continue;
    const { id: _id, ...body } = r.data;
    out.push(body as RequestBody);
  }
  return out;
}

function checkOutgoing(sent: ToBrowser[]): void {
  for (const m of sent) {
    const parsed = ServerMessage.safeParse(m);
    ok(parsed.success, `invalid message to the browser: ${JSON.stringify(m).slice(0, 300)}`);
    ok(encodeFrame(m, MAX_MESSAGE_TO_BROWSER_BYTES).length > 4);
  }
}

async function greetedRelay(): Promise<{ relay: Relay; daemon: FakeDaemon; sent: ToBrowser[] }> {
  const daemon = new FakeDaemon();
  const sent: ToBrowser[] = [];
  const relay = new Relay({ send: (m) => sent.push(m), link: daemon.link, socketPath: SOCKET, log: () => undefined });
  relay.start();
  await settle();
  await relay.handleFrame({ id: 0, type: 'hello', version: PROTOCOL_VERSION, client: 'extension' });
  ok(relay.daemonState === 'up');
  sent.length = 0;
  return { relay, daemon, sent };
}

const RUNS = { values: 20_000, streams: 12_000 };

describe('tunlock-host under fuzzing (32,000 cases; with framing-fuzz: 122,000)', () => {
  it('the generators make valid requests (sanity)', () => {
    fc.assert(
      fc.property(validRequest, (r) => {
        const p = RequestSchema.safeParse(r);
        ok(p.success, `${JSON.stringify(r)}: ${p.success ? '' : p.error.issues[0]?.message}`);
      }),
      { numRuns: 2000 },
    );
    // and the mutations mostly make invalid ones
    const samples = fc.sample(mutatedRequest, 2000);
    const stillValid = samples.filter((s) => RequestSchema.safeParse(s).success).length;
    expect(stillValid / samples.length).toBeLessThan(0.5);
  });

  it(`random and mutated request values: one answer each, only valid requests reach the daemon (${RUNS.values} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyValue, { minLength: 1, maxLength: 6 }), async (values) => {
        const { relay, daemon, sent } = await greetedRelay();
        for (const v of values) await relay.handleFrame(v);
        relay.close();
        deepStrictEqual(daemon.unvalidated, []);
        deepStrictEqual(daemon.received, expectedForwarded(values));
        const responses = sent.filter((m) => 'ok' in m);
        ok(responses.length === values.length, `${responses.length} answers to ${values.length} frames`);
        checkOutgoing(sent);
      }),
      { numRuns: RUNS.values },
    );
  }, 60_000);

  it(`byte streams (valid, mutated, oversized, garbage frames) in random chunks through the real input queue (${RUNS.streams} runs)`, async () => {
    type Seg = { value: unknown } | { raw: Buffer; frames: number };
    const seg: fc.Arbitrary<Seg> = fc.oneof(
      { weight: 6, arbitrary: anyValue.map((value) => ({ value })) },
      { weight: 1, arbitrary: fc.integer({ min: MAX_REQUEST_BYTES + 1, max: MAX_REQUEST_BYTES + 300 }).map((n) => ({ raw: Buffer.concat([u32(n), Buffer.alloc(n, 0x20)]), frames: 1 })) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => ({ raw: Buffer.concat([u32(b.length), Buffer.from(b)]), frames: 1 })) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(seg, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), async (segs, cuts, truncate) => {
        const { relay, daemon, sent } = await greetedRelay();
        let stream = Buffer.concat(segs.map((s) => ('value' in s ? encodeFrame(s.value, MAX_REQUEST_BYTES) : s.raw)));
        const frames = segs.length;
        if (truncate && stream.length > 5) {
          stream = stream.subarray(0, stream.length - 1); // the last frame loses its last byte
        }
        const input = new BrowserInput(relay, { pause: () => undefined, resume: () => undefined }, () => undefined, 4);
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        let last = 0;
        for (const p of [...points, stream.length]) {
          input.push(stream.subarray(last, p));
          last = p;
        }
        input.end();
        await input.idle();
        relay.close();
        deepStrictEqual(daemon.unvalidated, []);
        const intact = truncate && stream.length > 5 ? segs.slice(0, -1) : segs;
        const values = intact.filter((s): s is { value: unknown } => 'value' in s).map((s) => s.value);
        deepStrictEqual(daemon.received, expectedForwarded(values));
        const responses = sent.filter((m) => 'ok' in m);
        // one answer per frame; a truncated last frame is one answer too (bad_frame)
        ok(responses.length === frames, `${responses.length} answers to ${frames} frames`);
        checkOutgoing(sent);
      }),
      { numRuns: RUNS.streams },
    );
  }, 60_000);
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

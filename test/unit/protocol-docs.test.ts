// docs/protocol.md matches the schemas: every `json` block validates against the schema its tag names, and
// every request type, the response to each, every event and every error code has a documented example.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import {
  BindTarget,
  ErrorBody,
  ErrorCode,
  Event,
  HelloResult,
  HistoryResult,
  MAX_MESSAGE_TO_BROWSER_BYTES,
  MAX_REQUEST_BYTES,
  PROTOCOL_VERSION,
  Request,
  Response,
  SelfTestResult,
  Status,
} from '../../host/src/protocol/schema';

const DOC = new URL('../../docs/protocol.md', import.meta.url);
const text = readFileSync(DOC, 'utf8');

interface Example {
  tag: string;
  line: number;
  value: unknown;
}

const examples: Example[] = [...text.matchAll(/^```json (\S+)\n([\s\S]*?)^```$/gm)].map((m) => {
  const line = text.slice(0, m.index).split('\n').length;
  let value: unknown;
  try {
    value = JSON.parse(m[2]!);
  } catch (e) {
    throw new Error(`docs/protocol.md:${line}: example is not JSON: ${(e as Error).message}`);
  }
  return { tag: m[1]!, line, value };
});

const SCHEMAS: Record<string, z.ZodMiniType> = { request: Request, response: Response, event: Event, error: ErrorBody, status: Status };

function schemaFor(tag: string): z.ZodMiniType | undefined {
  return SCHEMAS[tag.split(':')[0]!];
}

const tagged = (tag: string) => examples.filter((e) => e.tag === tag);
const requestTypes = Request.def.options.map((o) => o.shape.type.def.values[0]);

describe('docs/protocol.md', () => {
  it('has examples, every one tagged with a known schema', () => {
    expect(examples.length).toBeGreaterThan(40);
    for (const e of examples) expect(schemaFor(e.tag), `docs/protocol.md:${e.line}: unknown tag ${e.tag}`).toBeDefined();
  });

  it('every example validates against its schema', () => {
    for (const e of examples) {
      const r = schemaFor(e.tag)!.safeParse(e.value);
      expect(r.success, `docs/protocol.md:${e.line} (${e.tag}): ${r.success ? '' : JSON.stringify(r.error.issues[0])}`).toBe(true);
    }
  });

  it.each(requestTypes)('documents request %s, with its response echoing the id', (type) => {
    const reqs = tagged('request').filter((e) => (e.value as { type: string }).type === type);
    expect(reqs.length, `no request example for ${type}`).toBeGreaterThan(0);
    // each has its own section (hello is under "Handshake")
    if (type !== 'hello') expect(text, `no section for ${type}`).toMatch(new RegExp(`^### ${type}$`, 'm'));
    const res = tagged(`response:${type}`);
    expect(res.length, `no response:${type} example`).toBeGreaterThan(0);
    const response = res[0]!.value as { id: number; ok: boolean; result: unknown };
    expect(response.id, `response:${type} should echo the request's id`).toBe((reqs[0]!.value as { id: number }).id);
    expect(response.ok).toBe(true);
    // hello, selfTest and history answer their own results; every other request answers the status
    const resultSchema = type === 'hello' ? HelloResult : type === 'selfTest' ? SelfTestResult : type === 'history' ? HistoryResult : Status;
    expect(resultSchema.safeParse(response.result).success, `response:${type} result`).toBe(true);
  });

  it('hello examples state the current protocol version', () => {
    for (const e of tagged('request').filter((x) => (x.value as { type: string }).type === 'hello')) {
      expect((e.value as { version: number }).version).toBe(PROTOCOL_VERSION);
    }
    expect(text).toMatch(new RegExp(`^# The tunlock protocol \\(version ${PROTOCOL_VERSION}\\)$`, 'm'));
  });

  it('documents every kind of bind target', () => {
    const kinds = new Set(tagged('request').flatMap((e) => ((e.value as { target?: { kind: string } }).target ? [(e.value as { target: { kind: string } }).target.kind] : [])));
    for (const option of BindTarget.def.options) expect(kinds).toContain(option.shape.kind.def.values[0]);
  });

  it.each(Event.def.options.map((o) => o.shape.event.def.values[0]))('documents event %s', (name) => {
    const evs = tagged('event').filter((e) => (e.value as { event: string }).event === name);
    expect(evs.length).toBeGreaterThan(0);
    expect(text).toMatch(new RegExp(`^### ${name}$`, 'm'));
  });

  it('documents both sides of the daemon event', () => {
    const daemon = tagged('event').filter((e) => (e.value as { event: string }).event === 'daemon').map((e) => (e.value as { available: boolean }).available);
    expect(new Set(daemon)).toEqual(new Set([true, false]));
  });

  it.each(ErrorCode.options)('documents error code %s with an example', (code) => {
    expect(text).toMatch(new RegExp(`^### ${code}$`, 'm'));
    expect(tagged('error').some((e) => (e.value as { code: string }).code === code)).toBe(true);
  });

  it('documents success, error, null-id and hello results among the responses', () => {
    const all = examples.filter((e) => e.tag.startsWith('response')).map((e) => e.value as { id: number | null; ok: boolean; result?: object });
    expect(all.some((r) => r.ok === false && r.id === null)).toBe(true);
    expect(all.some((r) => r.ok === false && r.id !== null)).toBe(true);
    expect(all.some((r) => r.ok && r.result && Object.keys(r.result).length === 0)).toBe(true);
    expect(all.some((r) => r.ok && HelloResult.safeParse(r.result).success)).toBe(true);
  });

  it('states the limits the code enforces', () => {
    expect(text).toContain(`${MAX_REQUEST_BYTES} bytes`);
    expect(text).toContain(`${MAX_MESSAGE_TO_BROWSER_BYTES} bytes`);
  });
});

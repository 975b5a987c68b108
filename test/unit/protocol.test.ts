// The protocol's helpers: request validation with bounded, field-naming errors; the version-mismatch error
// that names the part to update; and the message unions every process validates against.
import { describe, expect, it } from 'vitest';
import {
  ErrorBody,
  Event,
  HelloResult,
  PROTOCOL_VERSION,
  ProtocolError,
  Request,
  Response,
  ServerMessage,
  parseRequest,
  versionMismatch,
} from '../../host/src/protocol/schema';
import { sampleStatus } from './native-host-fakes';

function rejection(value: unknown): ProtocolError {
  try {
    parseRequest(value);
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe('parseRequest', () => {
  it('returns the typed request', () => {
    expect(parseRequest({ id: 1, type: 'setMode', mode: 'always' })).toEqual({ id: 1, type: 'setMode', mode: 'always' });
  });

  it('names the field that was wrong', () => {
    expect(rejection({ id: 1, type: 'setMode', mode: 'sometimes' }).message).toMatch(/^invalid request at mode: /);
    expect(rejection({ id: 1, type: 'tunnelAdd', iface: 'wg0', endpoints: ['nope'] }).message).toMatch(/at endpoints\.0: invalid endpoint/);
    expect(rejection({ id: 1, type: 'bindAdd', target: { kind: 'user', name: 'root;' } }).message).toMatch(/at target\.name: invalid user or group name/);
  });

  it('rejects unknown fields and unknown types with bad_request', () => {
    for (const v of [{ id: 1, type: 'status', x: 1 }, { id: 1, type: 'unknown' }, { id: 1 }, [], 'status', 42, null]) {
      expect(rejection(v).code).toBe('bad_request');
    }
  });

  it('caps the message however many fields the request had (ErrorBody allows 2000 characters)', () => {
    const huge: Record<string, unknown> = { id: 1, type: 'status' };
    for (let i = 0; i < 3000; i++) huge[`field_${i}_${'y'.repeat(30)}`] = i;
    const e = rejection(huge);
    expect(e.message.length).toBeLessThanOrEqual(500);
    expect(ErrorBody.safeParse(e.toBody()).success).toBe(true);
  });
});

describe('version handshake errors', () => {
  it('tell which part is older and must be updated', () => {
    const newerPeer = versionMismatch('tunlock-host', 1, 'the tunlock extension', 2);
    expect(newerPeer.code).toBe('version_mismatch');
    expect(newerPeer.message).toBe('the tunlock extension speaks protocol version 2, tunlock-host speaks 1');
    expect(newerPeer.hint).toMatch(/^update tunlock-host:/);
    expect(versionMismatch('tunlockd', 2, 'host', 1).hint).toMatch(/^update host:/);
  });

  it('hello results name who answered', () => {
    expect(HelloResult.safeParse({ version: PROTOCOL_VERSION, server: 'tunlockd' }).success).toBe(true);
    expect(HelloResult.safeParse({ version: PROTOCOL_VERSION, server: 'tunlock-host' }).success).toBe(true);
    expect(HelloResult.safeParse({ version: PROTOCOL_VERSION, server: 'other' }).success).toBe(false);
  });
});

describe('ProtocolError', () => {
  it('travels as {code, message, hint?}', () => {
    expect(new ProtocolError('not_found', 'no tunnel wg9').toBody()).toEqual({ code: 'not_found', message: 'no tunnel wg9' });
    expect(new ProtocolError('conflict', 'm', 'h').toBody()).toEqual({ code: 'conflict', message: 'm', hint: 'h' });
  });
});

describe('message unions', () => {
  it('responses echo a request id (or null for an error not tied to one)', () => {
    expect(Response.safeParse({ id: 3, ok: true, result: sampleStatus() }).success).toBe(true);
    expect(Response.safeParse({ id: null, ok: false, error: { code: 'bad_frame', message: 'x' } }).success).toBe(true);
    expect(Response.safeParse({ id: null, ok: true, result: {} }).success).toBe(false);
    expect(Response.safeParse({ id: 3, ok: false, error: { code: 'nope', message: 'x' } }).success).toBe(false);
  });

  it('events are status, tamper and daemon; a client can tell events from responses', () => {
    expect(Event.def.options.map((o) => o.shape.event.def.values[0]).sort()).toEqual(['daemon', 'status', 'tamper']);
    expect(ServerMessage.safeParse({ event: 'daemon', available: true }).success).toBe(true);
    expect(ServerMessage.safeParse({ event: 'daemon', available: 'yes' }).success).toBe(false);
  });

  it('every request carries an id', () => {
    for (const option of Request.def.options) expect(Object.keys(option.shape)).toContain('id');
  });
});

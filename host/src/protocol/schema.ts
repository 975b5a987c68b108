// The one protocol between extension ↔ tunlock-host ↔ tunlockd (and the CLI). Every message is defined here
// once, as a schema; the TypeScript types are derived from the schemas, and every process that receives bytes
// validates them with these schemas before acting. docs/protocol.md documents each message with an example
// (a unit test checks that every example validates against the schema it documents).
//
// Wire: one JSON object per frame. A frame is a 4-byte little-endian length followed by that many bytes of
// UTF-8 JSON (the native-messaging framing, used on the daemon socket too, so there is one codec).
//   request  {id, type, ...params}          client → server
//   response {id, ok: true, result}         server → client (echoes the request id)
//            {id, ok: false, error}
//   event    {event, ...}                   server → subscribed clients, unsolicited
// zod/mini: the same validator as `zod`, but functional checks that a bundler can drop when unused, so each
// Node bundle carries a few dozen KB of it instead of ~800 KB (the CLI starts that much faster). It ships no
// messages of its own: English is loaded once here, so errors read exactly as with `zod`.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { parseCidr, parseEndpoint, parseIfname, ValueError } from '../net/values.js';
import { CAPTIVE_MAX_SECONDS, CAPTIVE_MIN_SECONDS } from './captive.js';

z.config(en());

export const PROTOCOL_VERSION = 2;

/** Largest frame a tunlock process accepts from a peer (the browser may send up to 4 GB; we never need more). */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Native messaging caps host → browser messages at 1 MB. */
export const MAX_MESSAGE_TO_BROWSER_BYTES = 1024 * 1024;

function parses(parse: (text: string) => unknown) {
  return (text: string) => {
    try {
      parse(text);
      return true;
    } catch (e) {
      if (e instanceof ValueError) return false;
      throw e;
    }
  };
}

export const Ifname = z.string().check(z.maxLength(15), z.refine(parses(parseIfname), 'invalid interface name'));
export const EndpointText = z.string().check(z.maxLength(64), z.refine(parses(parseEndpoint), 'invalid endpoint (ADDR:PORT/udp|tcp)'));
export const CidrText = z.string().check(z.maxLength(49), z.refine(parses(parseCidr), 'invalid address range (ADDR/LEN, e.g. 10.20.0.0/16)'));
export const Mode = z.enum(['off', 'on', 'always']);
export const LockState = z.enum(['off', 'standby', 'protected', 'blocking', 'exception']);
export const ClientKind = z.enum(['cli', 'host', 'extension', 'test']);
const RequestId = z.int().check(z.minimum(0), z.maximum(2 ** 31 - 1));
const AccountName = z.string().check(z.regex(/^[a-z_][a-z0-9_.-]{0,31}\$?$/i, 'invalid user or group name'));
const CgroupName = z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'invalid cgroup name'));

export const BindTarget = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('user'), name: AccountName }),
  z.strictObject({ kind: z.literal('group'), name: AccountName }),
  /** a cgroup that `tunlock run` created below tunlock's own cgroup subtree */
  z.strictObject({ kind: z.literal('cgroup'), name: CgroupName }),
]);

export const CaptiveSeconds = z.int().check(z.minimum(CAPTIVE_MIN_SECONDS), z.maximum(CAPTIVE_MAX_SECONDS));

function request<T extends string, P extends z.core.$ZodLooseShape>(type: T, params: P) {
  return z.strictObject({ id: RequestId, type: z.literal(type), ...params });
}

export const Request = z.discriminatedUnion('type', [
  request('hello', { version: z.int().check(z.minimum(0)), client: ClientKind }),
  request('status', {}),
  /** after this, the server pushes events to this connection until it closes */
  request('subscribe', {}),
  /**
   * With no tunnel configured, `on`/`always` lock to the one tunnel that is up (detected), and refuse with
   * needs_choice when several are up; `on` with none up refuses too unless blockAll says "block everything".
   */
  request('setMode', { mode: Mode, blockAll: z.optional(z.boolean()) }),
  request('setLan', { allow: z.boolean() }),
  /** (root only) a range LAN access opens besides the directly connected private subnets */
  request('lanAdd', { range: CidrText }),
  request('lanRemove', { range: CidrText }),
  /** endpointUser (root only): the account whose sockets reach the servers when the tunnel has no fwmark */
  request('tunnelAdd', { iface: Ifname, endpoints: z.array(EndpointText).check(z.maxLength(64)), endpointUser: z.optional(AccountName) }),
  request('tunnelRemove', { iface: Ifname }),
  /** configure a tunnel the daemon detected (up, a tunnel by its kernel link kind), with its detected servers */
  request('tunnelAdopt', { iface: Ifname }),
  request('tunnelUp', { iface: Ifname }),
  request('tunnelDown', { iface: Ifname, intentional: z.boolean() }),
  request('captiveOpen', { seconds: CaptiveSeconds }),
  request('captiveExtend', { seconds: CaptiveSeconds }),
  request('captiveClose', {}),
  request('bindAdd', { target: BindTarget }),
  request('bindRemove', { target: BindTarget }),
  /** removes tunlock's firewall table and saved state; the deliberate "get me out" */
  request('reset', { confirm: z.literal(true) }),
  /** runs the self-test (docs/self-test.md) with probes as the requesting user; answers SelfTestResult */
  request('selfTest', {}),
  /** the lock history, oldest first; answers HistoryResult */
  request('history', {}),
]);

export const ErrorCode = z.enum([
  'bad_frame', // not a frame we accept: too large, truncated, not UTF-8 JSON
  'bad_request', // JSON that is not a valid request (unknown type, missing or invalid field)
  'version_mismatch',
  'not_permitted',
  'invalid_value',
  'not_found',
  'conflict',
  'firewall_failed', // the kernel refused or a read-back differed; the previous rules stay
  'state_unreadable', // the saved state could not be read; the block stays in place
  'daemon_unavailable', // (from tunlock-host) the daemon socket is missing, refused, or not owned by root
  'needs_choice', // the request is ambiguous or would block everything: the user must choose (tunnel, --block-all)
  'internal',
]);

export const ErrorBody = z.strictObject({
  code: ErrorCode,
  message: z.string().check(z.maxLength(2000)),
  /** what the user can do about it, shown by the popup and the CLI */
  hint: z.optional(z.string().check(z.maxLength(2000))),
});

export const TunnelStatus = z.strictObject({
  iface: Ifname,
  up: z.boolean(),
  /** configured with `tunnel add` */
  endpoints: z.array(EndpointText),
  /** learned from the interface (WireGuard peers); kept so the client can reconnect after a crash */
  learned: z.array(EndpointText),
  /** whose packets may reach the endpoints outside the tunnel: `fwmark 0xca6c` or `uid 0` */
  endpointOwner: z.optional(z.string().check(z.maxLength(32))),
  /** why this name is not trusted as a tunnel right now (it exists as a physical link): blocked, not allowed out */
  problem: z.optional(z.string().check(z.maxLength(500))),
});

/** A tunnel interface that is up but not configured (the kernel says it is a tunnel), and its VPN servers. */
export const DetectedTunnel = z.strictObject({
  iface: Ifname,
  /** the kernel's link kind: wireguard, tun, ppp, … */
  kind: z.string().check(z.maxLength(32)),
  /** servers found where the system tells (WireGuard peers, the VPN process's connected sockets) */
  endpoints: z.array(EndpointText).check(z.maxLength(64)),
});

export const BindingStatus = z.strictObject({
  target: BindTarget,
  /** resolved numeric id (uid, gid) or null for cgroups and unknown accounts */
  id: z.nullable(z.int()),
  blockedPackets: z.int().check(z.minimum(0)),
});

export const CaptiveStatus = z.strictObject({
  uid: z.int().check(z.minimum(0)),
  iface: Ifname,
  resolvers: z.array(z.string().check(z.maxLength(45))),
  /** wall-clock ms since the epoch at which the kernel removes the hole */
  expiresAt: z.int(),
  secondsLeft: z.int().check(z.minimum(0)),
});

export const Status = z.strictObject({
  mode: Mode,
  state: LockState,
  lan: z.enum(['allow', 'block']),
  /** ranges added with lanAdd (LAN access also opens the directly connected private subnets and link scope) */
  lanRanges: z.optional(z.array(CidrText)),
  tunnels: z.array(TunnelStatus),
  /** tunnels that are up but not configured: `lock on` locks to the only one, `tunnelAdopt` configures one */
  detected: z.optional(z.array(DetectedTunnel).check(z.maxLength(64))),
  captive: z.nullable(CaptiveStatus),
  bindings: z.array(BindingStatus),
  /** packets the lock refused since the daemon started (all rules' counters summed) */
  blockedPackets: z.int().check(z.minimum(0)),
  tamper: z.strictObject({ count: z.int().check(z.minimum(0)), last: z.nullable(z.string().check(z.maxLength(500))) }),
  /** a condition the user must know about (state file unreadable, apply failed); the lock stays fail-closed */
  error: z.nullable(ErrorBody),
  /** wall-clock ms when the rules in the kernel were last read back and matched */
  verifiedAt: z.nullable(z.int()),
});

export const SelfTestCheck = z.strictObject({
  name: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/)),
  ok: z.boolean(),
  /** what was observed: counters, errors, addresses (the proof, not a claim) */
  evidence: z.string().check(z.maxLength(2000)),
  /** what to do when it failed */
  fix: z.optional(z.string().check(z.maxLength(1000))),
});

export const SelfTestResult = z.strictObject({
  ok: z.boolean(),
  checks: z.array(SelfTestCheck).check(z.maxLength(32)),
  /** what the lock cannot cover here, said plainly (not failures) */
  notes: z.array(z.string().check(z.maxLength(1000))).check(z.maxLength(16)),
  /** the tunnel interfaces' own addresses (the extension checks WebRTC candidates against them) */
  tunnelAddresses: z.array(z.string().check(z.maxLength(45))).check(z.maxLength(64)),
  ms: z.int().check(z.minimum(0)),
});

const Count = z.int().check(z.minimum(0));
export const HISTORY_TYPES = ['protected', 'blocking', 'standby', 'off', 'exception', 'tamper', 'test', 'blocked'] as const;
export const HistoryEvent = z.strictObject({
  /** ms since the epoch */
  at: Count,
  type: z.enum(HISTORY_TYPES),
  /** state events: the state before and how long it lasted (a drop's blocked time is the `blocking` before `protected`) */
  previous: z.optional(z.strictObject({ state: LockState, ms: Count })),
  /** state events: why the state changed (a tunnel drop is `link`) */
  cause: z.optional(z.enum(['link', 'request', 'start', 'expiry'])),
  /** exception: who may use the hole and for how long it was opened */
  uid: z.optional(Count),
  seconds: z.optional(Count),
  /** tamper: what was changed */
  detail: z.optional(z.string().check(z.maxLength(500))),
  /** test: outcome and the failed checks' names */
  ok: z.optional(z.boolean()),
  passed: z.optional(Count),
  total: z.optional(Count),
  failed: z.optional(z.array(z.string().check(z.maxLength(32))).check(z.maxLength(32))),
  /** blocked: packets refused during the period ending at `at` */
  packets: z.optional(Count),
  periodMs: z.optional(Count),
});
export const HistoryResult = z.strictObject({ events: z.array(HistoryEvent).check(z.maxLength(20_000)) });

/** `server` says who answered: tunlock-host answers the browser's hello itself (docs/protocol.md). */
export const HelloResult = z.strictObject({ version: z.int(), server: z.enum(['tunlockd', 'tunlock-host']) });
export const EmptyResult = z.strictObject({});

export const Response = z.union([
  z.strictObject({ id: RequestId, ok: z.literal(true), result: z.union([Status, HelloResult, SelfTestResult, HistoryResult, EmptyResult]) }),
  z.strictObject({ id: z.nullable(RequestId), ok: z.literal(false), error: ErrorBody }),
]);

export const Event = z.discriminatedUnion('event', [
  z.strictObject({ event: z.literal('status'), status: Status }),
  /** another tool removed or edited our rules; the daemon re-applied them */
  z.strictObject({ event: z.literal('tamper'), detail: z.string().check(z.maxLength(500)), at: z.int() }),
  /** (from tunlock-host) the daemon went away or came back */
  z.strictObject({
    event: z.literal('daemon'),
    available: z.boolean(),
    error: z.optional(ErrorBody),
  }),
]);

/** Anything a client may receive. */
export const ServerMessage = z.union([Response, Event]);

export type Mode = z.infer<typeof Mode>;
export type LockState = z.infer<typeof LockState>;
export type Request = z.infer<typeof Request>;
export type RequestType = Request['type'];
export type RequestOf<T extends RequestType> = Extract<Request, { type: T }>;
export type Response = z.infer<typeof Response>;
export type ErrorCode = z.infer<typeof ErrorCode>;
export type ErrorBody = z.infer<typeof ErrorBody>;
export type Status = z.infer<typeof Status>;
export type TunnelStatus = z.infer<typeof TunnelStatus>;
export type DetectedTunnel = z.infer<typeof DetectedTunnel>;
export type BindTarget = z.infer<typeof BindTarget>;
export type Event = z.infer<typeof Event>;
export type ServerMessage = z.infer<typeof ServerMessage>;
/** What a successful response carries. */
export type OkResult = Extract<ServerMessage, { ok: true }>['result'];
/** A request as a client writes it: the client numbers it (`id`) when it sends it. */
export type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;
export type HelloResult = z.infer<typeof HelloResult>;
export type SelfTestCheck = z.infer<typeof SelfTestCheck>;
export type SelfTestResult = z.infer<typeof SelfTestResult>;
export type HistoryEvent = z.infer<typeof HistoryEvent>;
export type HistoryResult = z.infer<typeof HistoryResult>;

/** An error that travels to the client as {ok:false, error}. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
  toBody(): ErrorBody {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }
}

/** Validates one decoded JSON value as a request; the error says which field was wrong. */
export function parseRequest(value: unknown): Request {
  const r = Request.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
  // Paths and messages echo the sender's own keys (e.g. "Unrecognized keys: …"): cap them so the error
  // stays within ErrorBody's limit however large the request was.
  throw new ProtocolError('bad_request', clip(`invalid request${where}: ${issue?.message ?? 'rejected'}`, 500));
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function versionMismatch(self: string, ours: number, peer: string, theirs: number): ProtocolError {
  const older = theirs < ours ? peer : self;
  return new ProtocolError(
    'version_mismatch',
    `${peer} speaks protocol version ${theirs}, ${self} speaks ${ours}`,
    `update ${older}: reinstall tunlock (npm run setup) and update the browser extension so both speak the same version`,
  );
}

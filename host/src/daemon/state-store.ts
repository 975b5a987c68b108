// Persistence of the daemon's settings. Written atomically (temp file, fsync, rename, fsync the directory) so
// a crash leaves either the old or the new file, never half of one. Read strictly: a file that does not parse
// or validate is an error the daemon must answer by keeping the block (it never guesses "off").
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { BindTarget, CidrText, EndpointText, Ifname, Mode } from '../protocol/schema.js';
import { parseAddress, parseCidr, parseEndpoint, formatEndpoint } from '../net/values.js';
import type { LockConfig } from './lock-machine.js';
import type { CaptiveHole } from '../firewall/policy.js';
import { DEFAULT_LAN_RANGES } from '../firewall/policy.js';

const BUILT_IN = new Set(DEFAULT_LAN_RANGES.map((r) => r.text));

const Persisted = z.strictObject({
  version: z.literal(1),
  mode: Mode,
  allowLan: z.boolean(),
  lanRanges: z.array(CidrText).check(z.maxLength(10_000)),
  tunnels: z
    .array(
      z.strictObject({
        iface: Ifname,
        endpoints: z.array(EndpointText),
        learned: z.array(EndpointText),
        // absent in files written before they existed: no fwmark known, root-owned sockets
        fwmark: z.optional(z.nullable(z.int().check(z.minimum(1), z.maximum(0xffffffff)))),
        endpointUid: z.optional(z.int().check(z.minimum(0), z.maximum(0xfffffffe))),
      }),
    )
    .check(z.maxLength(64)),
  deliberateDisconnect: z.boolean(),
  bindings: z.array(BindTarget).check(z.maxLength(256)),
  captive: z.nullable(
    z.strictObject({
      iface: Ifname,
      uid: z.int().check(z.minimum(0)),
      resolvers: z.array(z.string().check(z.maxLength(45))).check(z.maxLength(8)),
      expiresAt: z.int(),
    }),
  ),
});

export interface SavedState {
  config: LockConfig;
  bindings: BindTarget[];
  captive: CaptiveHole | null;
}

export function defaultState(): SavedState {
  return {
    config: { mode: 'off', allowLan: true, lanRanges: [], tunnels: [], deliberateDisconnect: false },
    bindings: [],
    captive: null,
  };
}

/** Reads a regular file without following a link at its name (ELOOP then: reported, never followed). */
function readNoFollow(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

export class StateError extends Error {
  override name = 'StateError';
}

export class StateStore {
  readonly file: string;
  constructor(readonly dir: string) {
    this.file = join(dir, 'state.json');
  }

  /** null when there is no saved state yet (first start); throws StateError when it exists but is unusable. */
  load(): SavedState | null {
    let text: string;
    try {
      text = readNoFollow(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StateError(`cannot read ${this.file}: ${(e as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new StateError(`${this.file} is not valid JSON: ${(e as Error).message}`);
    }
    const r = Persisted.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new StateError(`${this.file} is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
    }
    const p = r.data;
    return {
      config: {
        mode: p.mode,
        allowLan: p.allowLan,
        // Files from before `lan add` stored the built-in ranges here; only ranges a user added stay explicit
        // (the private ones now count only where directly connected).
        lanRanges: p.lanRanges.map(parseCidr).filter((r) => !BUILT_IN.has(r.text)),
        tunnels: p.tunnels.map((t) => ({
          iface: t.iface,
          endpoints: t.endpoints.map(parseEndpoint),
          learned: t.learned.map(parseEndpoint),
          fwmark: t.fwmark ?? null,
          endpointUid: t.endpointUid ?? 0,
        })),
        deliberateDisconnect: p.deliberateDisconnect,
      },
      bindings: p.bindings,
      captive: p.captive && { ...p.captive, resolvers: p.captive.resolvers.map(parseAddress) },
    };
  }

  save(state: SavedState): void {
    const c = state.config;
    const data: z.infer<typeof Persisted> = {
      version: 1,
      mode: c.mode,
      allowLan: c.allowLan,
      lanRanges: c.lanRanges.map((r) => r.text),
      tunnels: c.tunnels.map((t) => ({
        iface: t.iface,
        endpoints: t.endpoints.map(formatEndpoint),
        learned: t.learned.map(formatEndpoint),
        fwmark: t.fwmark,
        endpointUid: t.endpointUid,
      })),
      deliberateDisconnect: c.deliberateDisconnect,
      bindings: state.bindings,
      captive: state.captive && { ...state.captive, resolvers: state.captive.resolvers.map((a) => a.text) },
    };
    this.writeAtomically('state.json', JSON.stringify(data, null, 2) + '\n', 0o600);
  }

  /** Writes `name` in the state directory atomically (also used for the early-boot rules). */
  writeAtomically(name: string, text: string, mode: number): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const target = join(this.dir, name);
    const temp = `${target}.tmp-${process.pid}`;
    // Never through a link, never into a file that is already there (a stale temp of a crashed daemon with
    // our pid is removed first; anything else at that name fails the open).
    this.remove(`${name}.tmp-${process.pid}`);
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  /** Removes `name` from the state directory if it is there. */
  remove(name: string): void {
    try {
      unlinkSync(join(this.dir, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

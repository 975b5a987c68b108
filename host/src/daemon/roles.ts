// Who may do what on the daemon socket. Every request type must appear in REQUIRED_ROLE (the Record type makes
// a new request type a compile error until it is given a role); docs/security.md shows the same table and a
// unit test keeps the two equal.
//   member  root, or a member of the socket group (the browser extension, the user's CLI)
//   run     like member, but only for a cgroup target: `tunlock run` moving the caller's own process into a
//           tunnel-only cgroup can only restrict the caller; accounts are bound by root alone
//   root    uid 0 only (the admin, the VPN hooks, which run as root)
import type { Request, RequestType } from '../protocol/schema.js';
import { ProtocolError } from '../protocol/schema.js';
import type { Client } from './daemon.js';

export type Role = 'member' | 'run' | 'root';

export const REQUIRED_ROLE: Record<RequestType, Role> = {
  hello: 'member',
  status: 'member',
  subscribe: 'member',
  setMode: 'member',
  setLan: 'member',
  captiveOpen: 'member',
  captiveExtend: 'member',
  captiveClose: 'member',
  selfTest: 'member',
  history: 'member',
  // Only a tunnel the daemon itself detected (kernel link kind, servers learned from the kernel): the
  // member chooses which, never what counts as a tunnel or where its server is.
  tunnelAdopt: 'member',
  bindAdd: 'run',
  bindRemove: 'run',
  // Widens the LAN exception to any range: root's choice alone.
  lanAdd: 'root',
  lanRemove: 'root',
  tunnelAdd: 'root',
  tunnelRemove: 'root',
  tunnelUp: 'root',
  tunnelDown: 'root',
  reset: 'root',
};

/** What docs/security.md says for each role (the unit test compares the table with these words). */
export const ROLE_WORDS: Record<Role, string> = {
  member: 'root and group members',
  run: 'root; members only for `tunlock run` (their own process)',
  root: 'root only',
};

/** Throws not_permitted unless `client` (already known to be root or a group member) may send `req`. */
export function authorize(req: Request, client: Pick<Client, 'uid'>): void {
  if (client.uid === 0) return;
  const role = REQUIRED_ROLE[req.type];
  if (role === 'member') return;
  if (role === 'run' && 'target' in req && req.target.kind === 'cgroup') return;
  throw new ProtocolError(
    'not_permitted',
    `${req.type} is for ${ROLE_WORDS[role]}; uid ${client.uid} may not send it`,
    'run it as root (sudo tunlock ...); members may read status, lock/unlock, allow/block the LAN and open the captive exception',
  );
}

// Policy → nftables rule text. Pure: the same policy and clock give the same text (golden-tested in
// test/unit/nft-rules.test.ts). Every value interpolated here is a canonical value from net/values.ts or a
// number we computed; interface names are re-checked because they are the one string that reaches rules.
//
// One table, `inet tunlock`. Sets hold the variable parts (tunnels, endpoints, LAN ranges, captive hole), so
// the per-packet cost stays flat with thousands of entries. Endpoints: `endpoints4_mark`/`endpoints6_mark`
// (address . protocol . port . fwmark), and one set per family and owning uid, `endpoints4_u0`, named from the
// number and matched by its own rule. Chains, in order of evaluation:
//   output   locked: policy drop; loopback, tunnel interfaces, VPN endpoints, DHCP, NDP, captive hole,
//            never DNS to the LAN, LAN ranges if allowed, then reject (apps fail fast).
//            unlocked with bindings: policy accept, only bound accounts are restricted.
//   input    locked: policy drop; loopback, from tunnels, replies, DHCP, NDP, from LAN if allowed.
//   forward  locked: policy drop; containers/VMs may leave only through a tunnel (or to the LAN if allowed).
//   postrouting  locked: policy drop; the output interface checked again after routing, for everything that
//            leaves (sent or forwarded); the guard table's one chain for a lock (guardCarries).
//   bind_N   one per bound account: tunnel or loopback (LAN if allowed), else reject; own counter.
import { parseIfname } from '../net/values.js';
import type { Cidr, Endpoint, Family } from '../net/values.js';
import type { AllowedEndpoint, BoundAccount, LockedPolicy, Policy } from './policy.js';
import { captiveSecondsLeft, isEmptyPolicy } from './policy.js';
import { withoutCovered } from '../net/cidr.js';
import { SortedElements } from './sorted-elements.js';

export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = 'tunlock';
export const TABLE = `${TABLE_FAMILY} ${TABLE_NAME}`;
/**
 * The guard: a second table flagged `owner`, held by the daemon's own `nft -i` session, with the same sets and
 * the main table's chains on the hooks where a packet leaves (guardModel). The kernel lets no other process
 * flush or delete an owned table, so a `nft flush ruleset` by another tool cannot open a gap while the daemon
 * re-asserts the main table; the guard disappears when the daemon exits, while the main table stays.
 * Together: no single event (our crash, someone's flush) unlocks.
 */
export const GUARD_TABLE_NAME = 'tunlock_guard';

export interface TableId {
  name: string;
  /** `flags owner`: only the creating netlink session may change it; it dies with that session */
  owner: boolean;
}
export const MAIN_TABLE: TableId = { name: TABLE_NAME, owner: false };
export const GUARD_TABLE: TableId = { name: GUARD_TABLE_NAME, owner: true };

/** Named counters whose sum is "blocked N packets". */
export const BLOCK_COUNTERS = ['blocked_out', 'blocked_in', 'blocked_fwd'] as const;
export function bindingCounter(index: number): string {
  return `bind_${index}`;
}

const DNS_PORTS = '{ 53, 853 }';
const REJECT_OUT = (counter: string) => [
  `meta l4proto tcp counter name "${counter}" reject with tcp reset`,
  `counter name "${counter}" reject with icmpx admin-prohibited`,
];

function q(name: string): string {
  return `"${parseIfname(name)}"`;
}

function elements(items: readonly string[]): string {
  return items.length ? ` elements = { ${items.join(', ')} };` : '';
}

/**
 * The endpoints, one sorted element list per set, in one pass (with 10,000 endpoints this runs on every apply,
 * so the sorted lists are remembered: sorted-elements.ts): per family, `ADDR . PROTO . PORT . MARK` for
 * mark-owned endpoints, and `ADDR . PROTO . PORT` in one set per owning uid (uidEndpointSet). A uid is matched
 * by its rule (`meta skuid N`), never as an element field: nft 1.0.6 looks up every `uid` field of an element
 * with getpwnam(), about half of nft's parse time at 10,000.
 */
function endpointElements(endpoints: AllowedEndpoint[]): { mark: Record<Family, readonly string[]>; uid: UidSet[] } {
  const mark: Record<Family, string[]> = { 4: [], 6: [] };
  // Per family, each owning uid's elements, keyed by the number: no key string is built 10,000 times.
  const byUid: Record<Family, Map<number, string[]>> = { 4: new Map(), 6: new Map() };
  for (const { endpoint: e, owner: o } of endpoints) {
    const family = e.address.family;
    if (o.kind === 'mark') {
      mark[family].push(endpointElement(e, o.mark));
      continue;
    }
    let items = byUid[family].get(o.uid);
    if (!items) byUid[family].set(o.uid, (items = []));
    items.push(endpointElement(e, null));
  }
  const uid: UidSet[] = [];
  for (const family of [4, 6] as const) {
    for (const [n, items] of [...byUid[family]].sort((a, b) => a[0] - b[0])) {
      uid.push({ family, uid: uidOf(n), items: recentElements.sorted(uidEndpointSet(family, n), items) });
    }
  }
  return { mark: { 4: recentElements.sorted('endpoints4_mark', mark[4]), 6: recentElements.sorted('endpoints6_mark', mark[6]) }, uid };
}
const recentElements = new SortedElements();

/** The (family, uid) pairs that own endpoints, in the order of their sets. */
function endpointOwners(endpoints: AllowedEndpoint[]): { family: Family; uid: number }[] {
  // Keyed by the number, per family: no key string is built 10,000 times (this runs for two chains per apply).
  const seen: Record<Family, Set<number>> = { 4: new Set(), 6: new Set() };
  for (const { endpoint: e, owner: o } of endpoints) if (o.kind === 'uid') seen[e.address.family].add(o.uid);
  return ([4, 6] as const).flatMap((family) => [...seen[family]].sort((a, b) => a - b).map((uid) => ({ family, uid: uidOf(uid) })));
}

interface UidSet {
  family: Family;
  uid: number;
  items: readonly string[];
}

/** A uid as it may enter a set name and a rule: a 32-bit unsigned integer, rendered from the number. */
function uidOf(uid: number): number {
  if (!Number.isInteger(uid) || uid < 0 || uid > 0xffff_ffff) throw new Error(`invalid endpoint owner uid ${String(uid)}`);
  return uid;
}

/** The set of the endpoints of `family` owned by `uid`, e.g. `endpoints4_u0`. */
export function uidEndpointSet(family: Family, uid: number): string {
  return `endpoints${family}_u${uidOf(uid)}`;
}

/**
 * One endpoint's element text, the same string as last time for the same endpoint object and values: the
 * sorted-list memo then compares 10,000 elements by reference, and no garbage is made. The values it was made
 * from are compared too, so an endpoint object changed in place is never served its old text.
 */
function endpointElement(e: Endpoint, mark: number | null): string {
  const known = elementTexts.get(e);
  if (known && known.address === e.address.text && known.protocol === e.protocol && known.port === e.port && known.mark === mark) return known.text;
  const text = `${e.address.text} . ${e.protocol} . ${e.port}${mark === null ? '' : ` . ${mark}`}`;
  elementTexts.set(e, { address: e.address.text, protocol: e.protocol, port: e.port, mark, text });
  return text;
}
const elementTexts = new WeakMap<Endpoint, { address: string; protocol: string; port: number; mark: number | null; text: string }>();

/**
 * An interval set refuses overlapping elements: ranges inside another are left out (same addresses). The last
 * few answers are kept by their input: with 1,000 LAN ranges the containment sweep costs more than the rest
 * of an element change, and most applies pass the same ranges again.
 */
function cidrElements(ranges: Cidr[], family: Family): readonly string[] {
  const texts = ranges.filter((r) => r.family === family).map((r) => r.text);
  const key = texts.join(',');
  const known = recentCidrElements.get(key);
  if (known) return known;
  const out = withoutCovered(ranges.filter((r) => r.family === family))
    .map((r) => r.text)
    .sort();
  recentCidrElements.set(key, out);
  if (recentCidrElements.size > 8) recentCidrElements.delete(recentCidrElements.keys().next().value!);
  return out;
}
const recentCidrElements = new Map<string, readonly string[]>();

function set(name: string, decl: string, items: readonly string[]): TableModel['sets'][number] {
  return { name, decl, items };
}

/**
 * One set element in the form both our rule text and the kernel's JSON listing reduce to: no quotes, no
 * timeout, a single address without /32 or /128.
 */
export function normalizeElement(text: string): string {
  const bare = text.replace(/"/g, '').replace(/ timeout \d+s$/, '');
  return bare.includes(':') ? bare.replace(/\/128$/, '') : bare.replace(/\/32$/, '');
}

function sets(policy: Policy, now: number): TableModel['sets'] {
  const lock = policy.kind === 'locked' ? policy : null;
  const tunnels = tunnelNames(policy);
  const endpoints = lock?.endpoints ?? [];
  const lan = policy.lanRanges;
  const onLink = lock?.onLink ?? [];
  const owned = endpointElements(endpoints);
  const out = [
    set('tunnels', 'type ifname', tunnels),
    set('endpoints4_mark', 'type ipv4_addr . inet_proto . inet_service . mark', owned.mark[4]),
    set('endpoints6_mark', 'type ipv6_addr . inet_proto . inet_service . mark', owned.mark[6]),
    // Only owners that have endpoints get a set (and a rule, see outsideTunnels).
    ...owned.uid.map((u) => set(uidEndpointSet(u.family, u.uid), `type ipv${u.family}_addr . inet_proto . inet_service`, u.items)),
    set('lan4', 'type ipv4_addr; flags interval', cidrElements(lan, 4)),
    set('lan6', 'type ipv6_addr; flags interval', cidrElements(lan, 6)),
    set('onlink4', 'type ipv4_addr; flags interval', cidrElements(onLink, 4)),
    set('onlink6', 'type ipv6_addr; flags interval', cidrElements(onLink, 6)),
  ];
  const hole = lock?.captive ?? null;
  const left = hole ? captiveSecondsLeft(hole, now) : 0;
  const web: string[] = [];
  const dns4: string[] = [];
  const dns6: string[] = [];
  if (hole && left > 0) {
    const key = `${q(hole.iface)} . ${hole.uid}`;
    web.push(`${key} timeout ${left}s`);
    for (const r of hole.resolvers) (r.family === 4 ? dns4 : dns6).push(`${key} . ${r.text} timeout ${left}s`);
  }
  // The hole lives in set elements with a kernel timeout: it closes on time even if every process of ours died.
  out.push(
    set('captive_web', 'typeof oifname . meta skuid; flags timeout', web),
    set('captive_dns4', 'typeof oifname . meta skuid . ip daddr; flags timeout', dns4.sort()),
    set('captive_dns6', 'typeof oifname . meta skuid . ip6 daddr; flags timeout', dns6.sort()),
  );
  return out;
}

function tunnelNames(policy: Policy): string[] {
  return [...new Set(policy.tunnels)].sort().map(q);
}

/**
 * `oifname "wg0" accept`, one rule per tunnel: the first rules of the chains every tunnel packet passes
 * (output, postrouting, forward, a binding's chain). A name compare is nft's cheapest match (16 bytes compared
 * in place), where `oifname @tunnels` hashes the name into the set on every packet (jhash + rhashtable lookup:
 * ~0.7 % of the CPU samples of the throughput bench, perf). The set stays for the rarer rules; both come from
 * policy.tunnels here, so they cannot disagree.
 */
function toTunnels(policy: Policy): string[] {
  return tunnelNames(policy).map((name) => `oifname ${name} accept`);
}

function lanRules(allowLan: boolean, counter: string, direction: 'daddr' | 'saddr', refuse: 'reject' | 'drop' = 'reject'): string[] {
  if (!allowLan) return [];
  const rules = [
    // The LAN router's resolver forwards to the ISP: DNS to the LAN is a DNS leak, LAN access or not.
    ...(direction === 'daddr' ? [`meta l4proto { tcp, udp } th dport ${DNS_PORTS} counter name "${counter}" ${refuse}`] : []),
    `ip ${direction} @lan4 accept`,
    `ip6 ${direction} @lan6 accept`,
  ];
  return rules;
}

function bindingMatch(b: BoundAccount): string {
  switch (b.kind) {
    case 'user':
      return `meta skuid ${b.uid}`;
    case 'group':
      return `meta skgid ${b.gid}`;
    case 'cgroup':
      if (!/^tunlock\/[A-Za-z0-9_.-]{1,64}$/.test(b.path)) throw new Error(`invalid cgroup path ${JSON.stringify(b.path)}`);
      return `socket cgroupv2 level 2 "${b.path}"`;
  }
}

function outputChain(policy: Policy): string[] {
  const lock = policy.kind === 'locked' ? policy : null;
  const rules = [`type filter hook output priority filter; policy ${lock ? 'drop' : 'accept'};`];
  // Tunnel traffic is nearly all traffic: accept it first, so each packet is evaluated against one rule.
  // (Bound accounts may use the tunnel too, so this is the same verdict their own chains would give.)
  if (lock) rules.push(...toTunnels(lock));
  rules.push('oifname "lo" accept');
  policy.bindings.forEach((b, i) => rules.push(`${bindingMatch(b)} jump ${bindingCounter(i)}`));
  if (!lock) return rules;
  rules.push(...outsideTunnels(lock, 'reject'), ...REJECT_OUT('blocked_out'));
  return rules;
}

/**
 * What a locked host may send outside the tunnels (output, then again in postrouting). `afterEndpoints`: rules
 * of the caller's that the tunnel's own packets should not have to pass first (all accepts).
 */
function outsideTunnels(lock: LockedPolicy, refuse: 'reject' | 'drop', afterEndpoints: string[] = []): string[] {
  return [
    // The tunnel's own encrypted packets come next in volume: address, protocol and port of a VPN server, and
    // only from the VPN's own sockets (its fwmark, or the owner of its sockets), never from any program.
    'ip daddr . meta l4proto . th dport . meta mark @endpoints4_mark accept',
    'ip6 daddr . meta l4proto . th dport . meta mark @endpoints6_mark accept',
    // One rule per owning account and family (the same order as the sets): the owner first, then one lookup.
    ...endpointOwners(lock.endpoints).map(
      ({ family, uid }) => `meta skuid ${uid} ${family === 4 ? 'ip' : 'ip6'} daddr . meta l4proto . th dport @${uidEndpointSet(family, uid)} accept`,
    ),
    ...afterEndpoints,
    // DHCP clients (root's sockets) to the broadcast address or an on-link server, never to any host.
    'udp sport 68 udp dport 67 ip daddr 255.255.255.255 meta skuid 0 accept',
    'udp sport 68 udp dport 67 ip daddr @onlink4 meta skuid 0 accept',
    'udp sport 546 udp dport 547 ip6 saddr fe80::/10 ip6 daddr ff02::1:2 meta skuid 0 accept',
    // Neighbour discovery as the kernel sends it: hop limit 255, to routers, solicited-node multicast, all
    // nodes, link-local or on-link neighbours.
    'icmpv6 type nd-router-solicit ip6 hoplimit 255 ip6 daddr ff02::2 accept',
    'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 ip6 daddr { fe80::/10, ff02::1, ff02::1:ff00:0/104 } accept',
    'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 ip6 daddr @onlink6 accept',
    'meta l4proto { tcp, udp } th dport 53 oifname . meta skuid . ip daddr @captive_dns4 accept',
    'meta l4proto { tcp, udp } th dport 53 oifname . meta skuid . ip6 daddr @captive_dns6 accept',
    'tcp dport { 80, 443 } oifname . meta skuid @captive_web accept',
    ...lanRules(lock.allowLan, 'blocked_out', 'daddr', refuse),
  ];
}

/**
 * After routing: a later chain (another tool's `type route` chain that changes the mark, a DNAT) can send a
 * packet that `output` accepted for a tunnel out of the physical link instead. Here the output interface is
 * final, so it is checked again: tunnels first (nearly all traffic, one name compare), then the same exceptions
 * as `output` and replies forwarded back to containers. `reject` is not available after routing: drop.
 * This chain is also the guard's (guardCarries): while the main table is flushed it alone decides, so it lets
 * through nothing output or forward would refuse. Replies are accepted only when forwarded (a packet the host
 * sends itself has no input interface: `iif` 0, `iifname` empty): the host's own address is in the LAN, and a
 * connection of the host's established before the lock must not go on out of the physical link.
 */
function postroutingChain(lock: LockedPolicy): string[] {
  return [
    'type filter hook postrouting priority filter; policy drop;',
    ...toTunnels(lock),
    // WireGuard's own packets next (one in two packets of a busy tunnel), then loopback and replies forwarded
    // from the tunnel to containers: all accepts, so their order changes no verdict.
    ...outsideTunnels(lock, 'drop', ['oifname "lo" accept', 'iifname @tunnels ct state established,related accept']),
    ...(lock.allowLan ? ['ip saddr @lan4 iif != 0 ct state established,related accept', 'ip6 saddr @lan6 iif != 0 ct state established,related accept'] : []),
    'counter name "blocked_out" drop',
  ];
}

function inputChain(lock: LockedPolicy): string[] {
  return [
    'type filter hook input priority filter; policy drop;',
    // Replies first: what a busy tunnel brings in (the VPN server's packets, and inside the tunnel the answers
    // to what was sent) is nearly all of it. All accepts up to the LAN's: their order changes no verdict.
    'ct state established,related accept',
    'iifname @tunnels accept',
    'iifname "lo" accept',
    'udp sport 67 udp dport 68 accept',
    'meta nfproto ipv6 udp sport 547 udp dport 546 accept',
    'icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } ip6 hoplimit 255 accept',
    ...lanRules(lock.allowLan, 'blocked_in', 'saddr'),
    'counter name "blocked_in" drop',
  ];
}

function forwardChain(lock: LockedPolicy): string[] {
  // Containers and VMs: out only through a tunnel; replies only from a tunnel (or the LAN, if allowed).
  return [
    'type filter hook forward priority filter; policy drop;',
    ...toTunnels(lock),
    'iifname @tunnels ct state established,related accept',
    ...(lock.allowLan
      ? [
          `meta l4proto { tcp, udp } th dport ${DNS_PORTS} counter name "blocked_fwd" reject`,
          'ip daddr @lan4 accept',
          'ip6 daddr @lan6 accept',
          'ip saddr @lan4 ct state established,related accept',
          'ip6 saddr @lan6 ct state established,related accept',
        ]
      : []),
    ...REJECT_OUT('blocked_fwd'),
  ];
}

function bindingChain(policy: Policy, index: number): string[] {
  const counter = bindingCounter(index);
  return [
    ...toTunnels(policy),
    'oifname "lo" accept',
    ...lanRules(policy.allowLan, counter, 'daddr'),
    ...REJECT_OUT(counter),
  ];
}

/** What the kernel should hold after an apply: enough to verify a read-back and to detect tampering. */
export interface TableShape {
  chains: Record<string, { policy: 'accept' | 'drop' | null; rules: number }>;
  /** elements per set; null when the listing did not include elements */
  sets: Record<string, number | null>;
  counters: string[];
}

/**
 * The table as data: what renderTable writes and what the incremental planner (nft-plan.ts) compares. Sets
 * carry their declaration and their elements (each element as nft text), so elements can change in place.
 */
export interface TableModel {
  /** items: never changed once in a model (models and the memos behind them share these arrays) */
  sets: { name: string; decl: string; items: readonly string[] }[];
  counters: string[];
  chains: { name: string; base: string | null; policy: 'accept' | 'drop' | null; rules: string[] }[];
}

/** The model of our table for `policy`, or null when the policy needs no table. */
export function tableModel(policy: Policy, now: number): TableModel | null {
  return isEmptyPolicy(policy) ? null : model(policy, now);
}

function model(policy: Policy, now: number): TableModel {
  const lock = policy.kind === 'locked' ? policy : null;
  const chains: TableModel['chains'] = [];
  const [outputBase, ...outputRules] = outputChain(policy);
  chains.push({ name: 'output', base: outputBase!, policy: lock ? 'drop' : 'accept', rules: outputRules });
  if (lock) {
    const [inputBase, ...inputRules] = inputChain(lock);
    const [forwardBase, ...forwardRules] = forwardChain(lock);
    chains.push({ name: 'input', base: inputBase!, policy: 'drop', rules: inputRules });
    chains.push({ name: 'forward', base: forwardBase!, policy: 'drop', rules: forwardRules });
    const [postBase, ...postRules] = postroutingChain(lock);
    chains.push({ name: 'postrouting', base: postBase!, policy: 'drop', rules: postRules });
  }
  policy.bindings.forEach((_, i) =>
    chains.push({ name: bindingCounter(i), base: null, policy: null, rules: bindingChain(policy, i) }),
  );
  return {
    sets: sets(policy, now),
    counters: [...BLOCK_COUNTERS, ...policy.bindings.map((_, i) => bindingCounter(i))],
    chains,
  };
}

/** The whole table as nft text (what `nft list table inet tunlock` would show, modulo formatting). */
export function renderTable(policy: Policy, now: number, table: TableId = MAIN_TABLE): string {
  return renderModel(model(policy, now), table);
}

/**
 * Which of a table's chains its guard carries (`base`: the chain's `type … hook …` line, null for a regular
 * chain). Every packet a base chain sees costs evaluation, and the guard is a second table on the same hooks,
 * so it carries only what still closes every gap while the main table is gone:
 *   - postrouting, when the table has one (a lock): every packet that leaves, locally sent or forwarded,
 *     passes it after routing, so it alone stops what output and forward stop (it drops: reject is not
 *     available there). A tunnel packet then meets one guard chain instead of two, and one rule in it.
 *   - output and the binding chains it jumps to, when there are bindings: `socket cgroupv2` (`tunlock run`)
 *     cannot be matched after routing (the kernel refuses it in postrouting), and a bound account is held
 *     tighter than the lock (no captive hole, no endpoint or DHCP exception). This is also the whole guard of
 *     an unlocked policy with bindings, which has no postrouting chain.
 *   - output and forward of a table without postrouting (a lock written before there was one, kept by
 *     guardCurrent): then they are the only hooks where a packet leaves.
 *   - never input, prerouting or ingress: while the main table is gone, what comes in can only answer through
 *     the guard's outbound chains.
 */
export function guardCarries(chains: readonly { name: string; base: string | null }[]): Set<string> {
  const hook = (base: string | null) => (base === null ? null : (/\bhook (\w+)\b/.exec(base)?.[1] ?? ''));
  const postrouting = chains.some((c) => hook(c.base) === 'postrouting');
  const bindings = chains.some((c) => c.base === null);
  const carried = (h: string | null) =>
    h === null || h === 'postrouting' || (h === 'output' && (bindings || !postrouting)) || (h === 'forward' && !postrouting);
  return new Set(chains.filter((c) => carried(hook(c.base))).map((c) => c.name));
}

/** The guard's share of a model (guardCarries): the same sets and counters, the chains where a packet leaves. */
export function guardModel(m: TableModel | null): TableModel | null {
  if (!m) return null;
  const carried = guardCarries(m.chains);
  return { ...m, chains: m.chains.filter((c) => carried.has(c.name)) };
}

/** A model as one `table` block. */
export function renderModel(m: TableModel, table: TableId = MAIN_TABLE): string {
  const body = [
    ...(table.owner ? ['\tflags owner;'] : []),
    ...m.sets.map((s) => `\tset ${s.name} { ${s.decl};${elements(s.items)} }`),
    ...m.counters.map((c) => `\tcounter ${c} { }`),
    ...m.chains.map((c) => {
      const lines = c.base ? [c.base, ...c.rules] : c.rules;
      return `\tchain ${c.name} {\n${lines.map((l) => `\t\t${l}`).join('\n')}\n\t}`;
    }),
  ];
  return `table ${TABLE_FAMILY} ${table.name} {\n${body.join('\n')}\n}\n`;
}

export function expectedShape(policy: Policy, now: number): TableShape | null {
  return modelShape(tableModel(policy, now));
}

export function modelShape(m: TableModel | null): TableShape | null {
  if (m === null) return null;
  return {
    chains: Object.fromEntries(m.chains.map((c) => [c.name, { policy: c.policy, rules: c.rules.length }])),
    sets: Object.fromEntries(m.sets.map((s) => [s.name, s.items.length])),
    counters: m.counters,
  };
}

/** The normalized elements each set should hold (see normalizeElement); null when there is no table. */
export function expectedElements(policy: Policy, now: number): Record<string, string[]> | null {
  if (isEmptyPolicy(policy)) return null;
  // Captive elements leave the kernel by themselves, up to a second after expiresAt (timeouts are whole
  // seconds): while the hole is in the policy, its elements may still be there.
  const hole = policy.kind === 'locked' ? policy.captive : null;
  const m = model(policy, hole ? Math.min(now, hole.expiresAt - 1) : now);
  return Object.fromEntries(m.sets.map((s) => [s.name, s.items.map(normalizeElement)]));
}

/**
 * One atomic `nft -f` batch that replaces our table (or removes it when there is nothing to enforce).
 * The leading `table` line makes `delete` safe when the table does not exist yet; the kernel applies the
 * whole batch or none of it, so there is never a moment without rules.
 */
export function renderApplyBatch(policy: Policy, now: number, table: TableId = MAIN_TABLE): string {
  return renderReplaceBatch(tableModel(policy, now), table);
}

/** renderApplyBatch for a model (null: remove the table). */
export function renderReplaceBatch(m: TableModel | null, table: TableId = MAIN_TABLE): string {
  const id = `${TABLE_FAMILY} ${table.name}`;
  const head = `table ${id} {${table.owner ? ' flags owner;' : ''} }\ndelete table ${id}\n`;
  return m === null ? head : head + renderModel(m, table);
}

export const RESET_BATCH = `table ${TABLE} { }\ndelete table ${TABLE}\n`;

// Human-readable output of the CLI. JSON output (--json) is the Status object itself: stable, documented in
// docs/protocol.md.
import type { Event, Status } from '../protocol/schema.js';
import { NOT_A_TUNNEL_HINT } from '../common/tunnel-hint.js';

const STATE_TEXT: Record<Status['state'], string> = {
  off: 'Off — the network lock is not active',
  standby: 'Standby — VPN disconnected on purpose; the lock re-engages when a tunnel comes up',
  protected: 'Protected — locked, traffic leaves only through the tunnel',
  blocking: 'Blocking — locked and no tunnel is up: nothing leaves this computer',
  exception: 'Portal exception — locked, with a short hole for a captive-portal login',
};

export function formatStatus(s: Status): string {
  const added = s.lanRanges?.length ? ` (+ ${s.lanRanges.join(', ')})` : '';
  const lines = [`State:    ${STATE_TEXT[s.state]}`, `Mode:     ${s.mode}`, `LAN:      ${s.lan}${added}`];
  if (s.tunnels.length === 0 && !s.detected?.length) lines.push('Tunnels:  none configured or up (connect your VPN, or: tunlock tunnel add IF --endpoint ADDR:PORT/udp)');
  for (const t of s.tunnels) {
    const eps = [...t.endpoints, ...t.learned.map((e) => `${e} (learned)`)];
    const owner = t.endpointOwner && eps.length ? ` (for ${t.endpointOwner} only)` : '';
    lines.push(`Tunnel:   ${t.iface} ${t.up ? 'up' : 'down'}${eps.length ? ` → ${eps.join(', ')}${owner}` : ''}`);
    if (t.problem) lines.push(`WARNING:  ${t.problem}; traffic through it stays blocked\n          → ${NOT_A_TUNNEL_HINT}`);
  }
  for (const d of s.detected ?? []) {
    lines.push(`Detected: ${d.iface} (${d.kind}, up, not configured)${d.endpoints.length ? ` → ${d.endpoints.join(', ')}` : ''}; lock on locks to it, or: tunlock tunnel adopt ${d.iface}`);
  }
  if (s.captive) {
    lines.push(`Portal:   open on ${s.captive.iface} for uid ${s.captive.uid}, closes in ${s.captive.secondsLeft} s`);
  }
  for (const b of s.bindings) {
    lines.push(`Bound:    ${b.target.kind} ${b.target.name} (${b.blockedPackets} packets blocked)`);
  }
  lines.push(`Blocked:  ${s.blockedPackets} packets`);
  if (s.tamper.count) lines.push(`Tamper:   ${s.tamper.count} re-asserts, last: ${s.tamper.last}`);
  if (s.error) lines.push(`ERROR:    ${s.error.message}${s.error.hint ? `\n          → ${s.error.hint}` : ''}`);
  return lines.join('\n');
}

/** One line per event for `tunlock watch` without --json. */
export function formatEvent(e: Event, now: Date = new Date()): string {
  const at = now.toISOString().slice(11, 19);
  switch (e.event) {
    case 'status':
      return `${at} ${e.status.state} (mode ${e.status.mode})${e.status.error ? `: ${e.status.error.message}` : ''}`;
    case 'tamper':
      return `${at} tamper: ${e.detail} (rules re-applied)`;
    case 'daemon':
      return `${at} daemon ${e.available ? 'available' : `unavailable${e.error ? `: ${e.error.message}` : ''}`}`;
  }
}

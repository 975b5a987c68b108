// `tunlock test` and `tunlock history` as people read them. With --json the CLI prints the daemon's result
// object itself (docs/protocol.md), as its last line.
import type { HistoryEvent, SelfTestResult } from '../protocol/schema.js';

/** "Locked — 5 of 5 checks passed", "Not protected", or what failed. */
export function verdict(r: SelfTestResult): string {
  const passed = r.checks.filter((c) => c.ok).length;
  if (r.checks.some((c) => c.name === 'lock' && !c.ok)) return 'Not protected';
  if (r.ok) return `Locked — ${passed} of ${r.checks.length} checks passed`;
  return `NOT locked as it should be — ${passed} of ${r.checks.length} checks passed; failed: ${r.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')}`;
}

export function formatSelfTest(r: SelfTestResult): string {
  const lines = [verdict(r), ''];
  for (const c of r.checks) {
    lines.push(`${c.ok ? '✔' : '✘'} ${c.name}: ${c.evidence}`);
    if (!c.ok && c.fix) lines.push(`    → ${c.fix}`);
  }
  for (const n of r.notes) lines.push(`ℹ ${n}`);
  lines.push('', `(${r.ms} ms)`);
  return lines.join('\n');
}

/** The check the CLI reports itself when no daemon answers: nothing re-asserts the lock. */
export function daemonDownResult(message: string, hint: string | undefined, ms: number): SelfTestResult {
  return {
    ok: false,
    checks: [{ name: 'daemon', ok: false, evidence: `${message}: nothing re-asserts the lock if another program removes it`, ...(hint ? { fix: hint } : {}) }],
    notes: [],
    tunnelAddresses: [],
    ms,
  };
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`;
}

export function formatHistoryEvent(e: HistoryEvent): string {
  const when = new Date(e.at).toISOString().replace('T', ' ').slice(0, 19);
  switch (e.type) {
    case 'tamper':
      return `${when}  tamper     ${e.detail ?? ''} (re-asserted)`;
    case 'test':
      return `${when}  test       ${e.ok ? 'passed' : `FAILED (${(e.failed ?? []).join(', ')})`} ${e.passed}/${e.total}`;
    case 'blocked':
      return `${when}  blocked    ${e.packets} packets in ${seconds(e.periodMs ?? 0)}`;
    default: {
      const prev = e.previous ? ` after ${seconds(e.previous.ms)} ${e.previous.state}` : '';
      const drop = e.type === 'blocking' && e.previous?.state === 'protected' && e.cause === 'link' ? ' — tunnel dropped, traffic blocked by the kernel' : '';
      const hole = e.type === 'exception' ? ` — portal hole for uid ${e.uid}, ${e.seconds} s` : '';
      return `${when}  ${e.type.padEnd(10)} (${e.cause ?? '?'})${prev}${drop}${hole}`;
    }
  }
}

export function formatHistory(events: HistoryEvent[]): string {
  return events.length ? events.map(formatHistoryEvent).join('\n') : 'No history yet.';
}

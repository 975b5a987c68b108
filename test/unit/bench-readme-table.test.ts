// test/bench/readme-table.mjs: README's figures table is rewritten from the bench's --json line.
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain ES module without types (a script under test/bench)
import { lastFigures, rewrite, rows } from '../../test/bench/readme-table.mjs';

const figures = {
  lock_apply_ms: { p50: 12.3, p95: 20.1 },
  apply_10k_ms: { p50: 120, p95: 140.4 },
  add_one_endpoint_at_10k_ms: { p50: 8, p95: 9.5 },
  remove_one_endpoint_at_10k_ms: { p50: 7, p95: 8.25 },
  cli_round_trip_over_bare_node: 1.25,
  daemon_rss_kb: 58_000,
  daemon_rss_kb_3s: 62_500,
  concurrent_clients: { clients: 50, seconds: 60, errors: 0, p99_ms: 900, rss_growth_pct: 20, rss_growth_second_half_pct: 0.5, verified: true },
  machine: '2 × CPU, 24 GiB, Linux 6.18, Node v20',
  run: { at: '2026-12-02T02:00:00.000Z', seconds: 300, benches: ['scale'], broken: [], load_average: [0.5, 0.4, 0.3] },
};

describe('readme-table', () => {
  it('takes the last figures line of a bench output', () => {
    const text = `=== summary\n{"not":"figures"}\n${JSON.stringify(figures)}\n`;
    expect(lastFigures(text).run.at).toBe(figures.run.at);
    expect(() => lastFigures('no json here')).toThrow(/--json/);
  });

  it('fills the rows it has figures for and says which it has not', () => {
    const r = rows(figures) as string[][];
    expect(r.find((x) => x[0]!.startsWith('full apply'))![1]).toBe('p50 120 ms, p95 **140 ms**');
    expect(r.find((x) => x[0]!.startsWith('one endpoint'))![1]).toBe('p50 8.0 ms, p95 **9.5 ms** / p50 7.0 ms, p95 **8.3 ms**');
    expect(r.find((x) => x[0]!.startsWith('throughput'))![1]).toBe('not measured in this run');
    expect(r.find((x) => x[0]!.startsWith('`tunlock lock on'))![1]).toBe('**1.25×**');
    expect(r.find((x) => x[0]!.startsWith('idle daemon RSS'))![1]).toBe('**56.6 MB** / 61.0 MB');
    for (const cell of r.flat()) expect(cell).not.toContain('|'); // a bar inside a cell would split the Markdown row
  });

  it('rewrites only the block between the markers', () => {
    const readme = 'intro\n<!-- bench:begin -->\nold table\n<!-- bench:end -->\nrest\n';
    const out = rewrite(readme, figures) as string;
    expect(out.startsWith('intro\n<!-- bench:begin -->\n2026-12-02 02:00 UTC, 2 × CPU')).toBe(true);
    expect(out).not.toContain('old table');
    expect(out.endsWith('<!-- bench:end -->\nrest\n')).toBe(true);
    expect(() => rewrite('no markers', figures)).toThrow(/bench:begin/);
  });
});

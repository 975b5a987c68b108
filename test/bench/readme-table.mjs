#!/usr/bin/env node
// `node test/bench/readme-table.mjs [FILE]`: rewrites the README's figures table (between the
// `<!-- bench:begin -->` and `<!-- bench:end -->` lines) from the JSON object `npm run bench -- --json` prints on
// its last line. FILE is a saved bench output (its last JSON line is used) or `-`/nothing for stdin:
//   sudo npm run bench -- --json | tee /tmp/bench.txt && node test/bench/readme-table.mjs /tmp/bench.txt
// Figures a run did not produce (a bench not run, or broken) are shown as "not measured in this run".
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md');
const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';

/** The last line of `text` that parses as a JSON object with a `run` key. */
export function lastFigures(text) {
  for (const line of text.trim().split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const o = JSON.parse(line);
      if (o && typeof o === 'object' && o.run) return o;
    } catch {
      // not the figures line
    }
  }
  throw new Error('no figures line (a JSON object with "run") in the input: run the bench with --json');
}

const ms = (v) => (typeof v === 'number' ? `${v < 10 ? v.toFixed(1) : Math.round(v)} ms` : null);
const pp = (o) => (o && typeof o.p50 === 'number' ? `p50 ${ms(o.p50)}, p95 **${ms(o.p95)}**` : null);
const x = (v) => (typeof v === 'number' ? `**${v.toFixed(2)}×**` : null);
const MISSING = 'not measured in this run';

/** The table rows: [what, result, the bar]. */
export function rows(f) {
  const cc = f.concurrent_clients;
  const wq = f.wgquick ?? {};
  const line = (what, result, bar) => [what, result ?? MISSING, bar];
  return [
    line('toggle → daemon\'s answer (applied, read back, verified)', pp(f.lock_apply_ms), 'p95 < 50 ms'),
    line('toggle → rules in the kernel (`nft monitor`)', pp(f.lock_to_kernel_ms), 'p95 < 50 ms'),
    line('tunnel drop → daemon state `blocking`', pp(f.drop_to_state_ms), 'p95 < 250 ms incl. the toolbar'),
    line('full apply, 10,000 endpoints + 1,000 LAN ranges', pp(f.apply_10k_ms), 'p95 < 100 ms'),
    line('one endpoint added / removed at that size (in place)', pp(f.add_one_endpoint_at_10k_ms) && `${pp(f.add_one_endpoint_at_10k_ms)} / ${pp(f.remove_one_endpoint_at_10k_ms) ?? MISSING}`, 'p95 < 10 ms'),
    line('one LAN range added / removed at that size (in place)', pp(f.add_one_lan_range_at_10k_ms) && `${pp(f.add_one_lan_range_at_10k_ms)} / ${pp(f.remove_one_lan_range_at_10k_ms) ?? MISSING}`, 'p95 < 10 ms'),
    line('one binding added at that size (rules in place)', pp(f.add_one_binding_at_10k_ms), 'p95 < 10 ms'),
    line(
      'per-packet cost, 10k table ÷ 1-endpoint table (endpoint path / LAN path)',
      f.per_packet_big_over_small && `${f.per_packet_big_over_small.endpoint_path}× / ${f.per_packet_big_over_small.lan_path}×`,
      'flat',
    ),
    line('throughput, lock on ÷ off (userspace WireGuard, median of 10 rounds)', x(f.throughput_ratio) && `${x(f.throughput_ratio)}; wg-quick's kill switch ${typeof wq.throughput_ratio === 'number' ? `${wq.throughput_ratio.toFixed(2)}×` : MISSING}`, '≥ 0.98'),
    line(
      'leaks under load (≥ 1,000 pps, 20 tunnel drops, 100 setting flips)',
      typeof f.leaks_under_load === 'number' && `tunlock **${f.leaks_under_load}**; wg-quick's kill switch, same lab: ${wq.leaks_under_load ?? MISSING}${typeof f.load_pps === 'number' ? ` (${Math.round(f.load_pps)} pps)` : ''}`,
      '0',
    ),
    line('`tunlock lock on` / `off` ÷ bare `node -e 0` (p95)', x(f.cli_round_trip_over_bare_node), '≤ 1.3×'),
    line(
      'idle daemon RSS (lock on, 30 s at rest / 3 s after a change)',
      typeof f.daemon_rss_kb === 'number' &&
        `**${(f.daemon_rss_kb / 1024).toFixed(1)} MB**${typeof f.daemon_rss_kb_3s === 'number' ? ` / ${(f.daemon_rss_kb_3s / 1024).toFixed(1)} MB` : ''}`,
      '< 60 MB',
    ),
    line(
      `daemon, ${cc?.clients ?? 50} clients × ${cc?.seconds ?? 60} s of status + setting changes`,
      cc && `${cc.errors} errors, every apply verified: ${cc.verified ? 'yes' : '**no**'}, p99 ${ms(cc.p99_ms)}; RSS growth ${cc.rss_growth_pct} % (second half ${cc.rss_growth_second_half_pct} %)`,
      '0 errors; growth < 10 %',
    ),
    line(
      '`tunlock test` end to end, protected / blocking',
      f.self_test_ms && pp(f.self_test_ms.protected) && `${pp(f.self_test_ms.protected)} / ${pp(f.self_test_ms.blocking) ?? MISSING}`,
      '< 2 s',
    ),
  ];
}

export function table(f) {
  const run = f.run ?? {};
  const head = [
    `${String(run.at ?? '').slice(0, 16).replace('T', ' ')} UTC, ${f.machine ?? 'unknown machine'}; ${run.seconds ?? '?'} s for ${(run.benches ?? []).join(', ')}`,
    `; load average at the end ${(run.load_average ?? []).join(' / ')}${run.broken?.length ? `; **broken: ${run.broken.join(', ')}**` : ''}.`,
  ].join('');
  const body = rows(f).map((r) => `| ${r.join(' | ')} |`);
  return [head, '', '| | result | the bar |', '|---|---|---|', ...body].join('\n');
}

export function rewrite(readme, f) {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${BEGIN} … ${END} block`);
  return `${readme.slice(0, a + BEGIN.length)}\n${table(f)}\n${readme.slice(b)}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  const text = !file || file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
  fs.writeFileSync(README, rewrite(fs.readFileSync(README, 'utf8'), lastFigures(text)));
  console.log(`README.md: figures table rewritten from the run of ${lastFigures(text).run.at}`);
}

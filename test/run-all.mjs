#!/usr/bin/env node
// `npm test`: everything that can fail, in one command — build, type checks (tsc, svelte-check), then every tier
// (unit, lab, browser). Ends with one plain summary line "N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function step(name, cmd, args) {
  process.stdout.write(`\n=== ${name}: ${[cmd, ...args].join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stdout.write(`\n${name} failed (exit ${r.status ?? r.signal})\n0 passed, 1 failed\n`);
    process.exit(r.status || 1);
  }
}

step('build', 'npm', ['run', '--silent', 'build']);
step('typecheck', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
step('svelte-check', 'npx', ['svelte-check', '--tsconfig', 'extension/tsconfig.json', '--threshold', 'error', '--fail-on-warnings']);

const dir = mkdtempSync(join(tmpdir(), 'tunlock-test-'));
const report = join(dir, 'vitest.json');
process.stdout.write('\n=== tests: vitest run (unit, lab, browser)\n');
const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
let summary = null;
try {
  summary = JSON.parse(readFileSync(report, 'utf8'));
} catch {
  // no report: vitest itself failed before running tests
}
rmSync(dir, { recursive: true, force: true });
if (!summary) {
  process.stdout.write(`0 passed, 1 failed\n`);
  process.exit(r.status || 1);
}
const skipped = summary.numPendingTests + summary.numTodoTests;
// A file whose hook failed (beforeAll: a lab or browser that did not start) fails with its tests skipped and none
// failed: count each such file as a failure, so a red run never ends "0 failed".
const hookFailures = (summary.testResults ?? []).filter((f) => f.status === 'failed' && !f.assertionResults?.some((a) => a.status === 'failed')).length;
process.stdout.write(`\n${summary.numPassedTests} passed, ${summary.numFailedTests + hookFailures} failed, ${skipped} skipped\n`);
process.exit(r.status ?? 1);

// The one gate for tiers that need root (network namespaces, nftables, browsers in namespaces) and tools.
// Not root: the tier is skipped loudly — or fails under CI=true, where a skipped tier would be a green run
// that proved nothing. Root but a needed tool missing: fails (a lab that cannot run is not a pass).
import { spawnSync } from 'node:child_process';

const isRoot = process.getuid?.() === 0;

function missingTools(tools: readonly string[]): string[] {
  return tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
}

/**
 * Returns true when the tier can run. `tier` names it in the messages; `tools` must be on PATH.
 * Usage: `const run = requireRootOrSkip('lab: x', ['nft']); describe.runIf(run)(…)`.
 */
export function requireRootOrSkip(tier: string, tools: readonly string[] = []): boolean {
  if (!isRoot) {
    const msg = `${tier} needs root (network namespaces, nftables)`;
    if (process.env.CI === 'true') throw new Error(`${msg}: CI=true and not root — failing instead of skipping`);
    console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED: ${msg}. Run as root: sudo npm test\n${'!'.repeat(100)}\n`);
    return false;
  }
  const missing = missingTools(tools);
  if (missing.length) throw new Error(`${tier}: missing tools: ${missing.join(', ')}`);
  return true;
}

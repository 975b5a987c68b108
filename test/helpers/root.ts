// Gate for the tiers that need root (network namespaces, nftables, browsers in namespaces). Not root: the
// tier is skipped loudly — or fails, under CI, where a skipped tier would be a green run that proved nothing.
export const isRoot = process.getuid?.() === 0;

export function requireRootOrSkip(tier: string): boolean {
  if (isRoot) return true;
  if (process.env.CI === 'true') throw new Error(`${tier}: CI must run as root; refusing to skip this tier`);
  console.warn(`\n*** SKIPPED: ${tier} needs root (network namespaces, nftables). Run: sudo npm test ***\n`);
  return false;
}

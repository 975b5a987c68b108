// Options page logic: the site list edits and the sentences, kept out of the Svelte file.
import { MAX_VIDEO_CALL_SITES, normalizeSite } from '../shared/settings.js';
import type { Snapshot } from '../shared/snapshot.js';

export function addSite(sites: readonly string[], input: string): { ok: true; sites: string[] } | { ok: false; error: string } {
  const r = normalizeSite(input);
  if (!r.ok) return r;
  if (sites.includes(r.origin)) return { ok: false, error: `${r.origin} is already allowed` };
  if (sites.length >= MAX_VIDEO_CALL_SITES) return { ok: false, error: `at most ${MAX_VIDEO_CALL_SITES} sites` };
  return { ok: true, sites: [...sites, r.origin] };
}

export function removeSite(sites: readonly string[], origin: string): string[] {
  return sites.filter((s) => s !== origin);
}

/** Chromium needs an extra permission for block mode; say so where the user can grant it. */
export function needsBlockPermission(s: Snapshot): boolean {
  return s.browser === 'chrome' && s.settings.webrtc === 'block' && !s.webrtc.peerConnectionBlocked;
}

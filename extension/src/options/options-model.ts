// Options page logic: the site list edits and the sentences, kept out of the Svelte file.
import { MAX_VIDEO_CALL_SITES, normalizeSite } from '../shared/settings.js';
import type { BindTarget, StatusT } from '../shared/protocol.js';
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

export interface BindingRow {
  /** "User", "Group", "Program (tunlock run)" */
  kind: string;
  name: string;
  /** "uid 65534", "gid 100", or why there is none */
  id: string;
  blocked: string;
}

const KIND: Record<BindTarget['kind'], string> = { user: 'User', group: 'Group', cgroup: 'Program (tunlock run)' };

/** The bound apps the daemon reports (read-only here: binding is a root decision, made with the CLI). */
export function bindingRows(status: StatusT | null): BindingRow[] {
  return (status?.bindings ?? []).map((b) => ({
    kind: KIND[b.target.kind],
    name: b.target.name,
    id: b.id !== null ? `${b.target.kind === 'group' ? 'gid' : 'uid'} ${b.id}` : b.target.kind === 'cgroup' ? 'own cgroup' : 'no such account on this system',
    blocked: `${b.blockedPackets.toLocaleString('en-US')} packet${b.blockedPackets === 1 ? '' : 's'} blocked`,
  }));
}

export const BIND_HELP = {
  user: 'sudo tunlock bind user NAME',
  run: 'tunlock run -- CMD',
};

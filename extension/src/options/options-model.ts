// Options page logic: the site list edits and the sentences, kept out of the Svelte file.
import { formatNumber, plural, t } from '../shared/i18n.js';
import { MAX_VIDEO_CALL_SITES, normalizeSite } from '../shared/settings.js';
import type { BindTarget, StatusT } from '../shared/protocol.js';
import type { Snapshot } from '../shared/snapshot.js';

export function addSite(sites: readonly string[], input: string): { ok: true; sites: string[] } | { ok: false; error: string } {
  const r = normalizeSite(input);
  if (!r.ok) return r;
  if (sites.includes(r.origin)) return { ok: false, error: t('siteExists', r.origin) };
  if (sites.length >= MAX_VIDEO_CALL_SITES) return { ok: false, error: t('siteMax', formatNumber(MAX_VIDEO_CALL_SITES)) };
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

const KIND = { user: 'bindKindUser', group: 'bindKindGroup', cgroup: 'bindKindProgram' } as const satisfies Record<BindTarget['kind'], string>;

/** The bound apps the daemon reports (read-only here: binding is a root decision, made with the CLI). */
export function bindingRows(status: StatusT | null): BindingRow[] {
  return (status?.bindings ?? []).map((b) => ({
    kind: t(KIND[b.target.kind]),
    name: b.target.name,
    id: b.id !== null ? `${b.target.kind === 'group' ? 'gid' : 'uid'} ${b.id}` : b.target.kind === 'cgroup' ? t('bindOwnCgroup') : t('bindNoAccount'),
    blocked: plural(b.blockedPackets, 'packetsBlocked_one', 'packetsBlocked_other'),
  }));
}

export const BIND_HELP = {
  user: 'sudo tunlock bind user NAME',
  run: 'tunlock run -- CMD',
};

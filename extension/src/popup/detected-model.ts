// Zero configuration in the popup: the tunnels the daemon detected (up, not configured) and what the lock
// switch will do about them, in words; which request each button sends. DetectedTunnels.svelte renders it.
//   no tunnel configured, one up   → "the lock holds to wg0"   [Use wg0]
//   no tunnel configured, several  → "choose the one to lock to" [Use wg0] [Use tun0]
//   no tunnel configured, none up  → "locking now blocks all traffic" [Block all traffic anyway]
//   tunnels configured, more up    → [Use tun0] for each extra one
import type { MessageKey } from '../shared/i18n.js';
import { t } from '../shared/i18n.js';
import type { DetectedTunnel, StatusT } from '../shared/protocol.js';
import type { UiDaemonRequest } from '../shared/ui-messages.js';

export interface DetectedLine {
  iface: string;
  text: string;
  adopt: UiDaemonRequest;
}

export interface DetectedModel {
  text: string | null;
  tunnels: DetectedLine[];
  /** the explicit confirmation for locking with nothing to lock to (null when not offered) */
  blockAll: UiDaemonRequest | null;
}

const KIND: Record<string, MessageKey> = { wireguard: 'detectedKindWireguard', tun: 'detectedKindTun', ppp: 'detectedKindPpp' };

function line(d: DetectedTunnel): DetectedLine {
  const kind = KIND[d.kind] ? t(KIND[d.kind]!) : d.kind;
  const text = d.endpoints.length ? t('detectedLineServer', d.iface, kind, d.endpoints.join(', ')) : t('detectedLine', d.iface, kind);
  return { iface: d.iface, text, adopt: { type: 'tunnelAdopt', iface: d.iface } };
}

/** null: nothing to show (no status, or tunnels configured and nothing else up). */
export function detectedModel(status: StatusT | null, chosen: 'on' | 'always'): DetectedModel | null {
  if (!status) return null;
  const detected = (status.detected ?? []).map(line);
  if (status.tunnels.length > 0) return detected.length ? { text: t('detectedAlsoUp'), tunnels: detected, blockAll: null } : null;
  if (detected.length === 1) return { text: t('detectedOne', detected[0]!.iface), tunnels: detected, blockAll: null };
  if (detected.length > 1) return { text: t('detectedSeveral'), tunnels: detected, blockAll: null };
  return {
    text: t('detectedNone'),
    tunnels: [],
    blockAll: status.mode === 'off' ? { type: 'setMode', mode: chosen, blockAll: true } : null,
  };
}

// Shared fixtures for the extension unit tests.
import type { StatusT } from '../../extension/src/shared/protocol.js';
import { Status } from '../../extension/src/shared/protocol.js';

export function status(over: Partial<StatusT> = {}): StatusT {
  return Status.parse({
    mode: 'on',
    state: 'protected',
    lan: 'allow',
    tunnels: [{ iface: 'wg0', up: true, endpoints: ['198.51.100.10:51820/udp'], learned: [] }],
    captive: null,
    bindings: [],
    blockedPackets: 0,
    tamper: { count: 0, last: null },
    error: null,
    verifiedAt: 1,
    ...over,
  });
}

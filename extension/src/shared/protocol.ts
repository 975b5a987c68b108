// The only door from the extension into host/: the protocol schemas, the value parsers, the captive hole's
// facts, the fixed identities and the reconnect backoff (all pure: the same code the host programs run).
// Everything the extension receives from tunlock-host is validated with these schemas before it is used.
export { CAPTIVE_DEFAULT_SECONDS, CAPTIVE_MAX_SECONDS, captiveSecondsLeft } from '../../../host/src/protocol/captive.js';
export { CaptiveSeconds, ErrorBody, HistoryResult, Ifname, PROTOCOL_VERSION, SelfTestResult, ServerMessage, Status } from '../../../host/src/protocol/schema.js';
export type {
  BindTarget,
  ErrorBody as ErrorBodyT,
  Event,
  HistoryEvent as HistoryEventT,
  SelfTestCheck as SelfTestCheckT,
  SelfTestResult as SelfTestResultT,
  LockState,
  Mode,
  Request,
  RequestBody,
  RequestType,
  ServerMessage as ServerMessageT,
  Status as StatusT,
  TunnelStatus,
  DetectedTunnel,
} from '../../../host/src/protocol/schema.js';
export { Backoff } from '../../../host/src/common/backoff.js';
export { parseAddress } from '../../../host/src/net/values.js';
export { CHROMIUM_EXTENSION_ID, FIREFOX_ADDON_ID, MANIFEST_KEY, NATIVE_HOST_NAME } from '../../../host/src/common/extension-ids.js';

// The only door from the extension into host/: the protocol schemas and the fixed identities. Everything the
// extension receives from tunlock-host is validated with these schemas before it is used.
export { CAPTIVE_DEFAULT_SECONDS, CAPTIVE_MAX_SECONDS, ErrorBody, HistoryResult, Ifname, PROTOCOL_VERSION, SelfTestResult, ServerMessage, Status } from '../../../host/src/protocol/schema.js';
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
  RequestType,
  ServerMessage as ServerMessageT,
  Status as StatusT,
  TunnelStatus,
  DetectedTunnel,
} from '../../../host/src/protocol/schema.js';
export { CHROMIUM_EXTENSION_ID, FIREFOX_ADDON_ID, MANIFEST_KEY, NATIVE_HOST_NAME } from '../../../host/src/common/extension-ids.js';

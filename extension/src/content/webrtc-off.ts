// Block mode on Chromium (registered by background/browser-chrome.ts): runs at document_start in the page's
// MAIN world and removes the WebRTC constructors before any page script runs. Chromium has no setting that
// turns WebRTC off, so this is the strongest means an extension has; the IP-handling policy
// (disable_non_proxied_udp) stays set underneath as a second layer for what this cannot reach (a page that
// grabs the constructor from a brand-new same-origin frame before this script runs in it).
const NAMES = [
  'RTCPeerConnection',
  'webkitRTCPeerConnection',
  'RTCDataChannel',
  'RTCIceCandidate',
  'RTCIceTransport',
  'RTCRtpSender',
  'RTCRtpReceiver',
  'RTCRtpTransceiver',
  'RTCSctpTransport',
  'RTCDtlsTransport',
  'RTCSessionDescription',
];
for (const name of NAMES) {
  try {
    Object.defineProperty(globalThis, name, { value: undefined, writable: false, configurable: false, enumerable: false });
  } catch {
    // Already locked down by an earlier run in this realm.
  }
}

// "Test my lock": the daemon's self-test and, in Firefox, a real gathering in this page, at the same time;
// then the popup's view of both (self-test-model.ts).
import type { UiClient } from '../shared/ui-client.js';
import type { WebrtcView } from '../shared/snapshot.js';
import type { SelfTestView } from './self-test-model.js';
import { extensionChecks, selfTestView } from './self-test-model.js';
import { gatherCandidates } from './webrtc-gather.js';

export async function testMyLock(client: UiClient, webrtc: WebrtcView, browser: 'chrome' | 'firefox'): Promise<SelfTestView> {
  const [daemon, gathered] = await Promise.all([client.selfTest(), browser === 'firefox' ? gatherCandidates() : null]);
  const own = extensionChecks(webrtc, gathered, daemon.tunnelAddresses);
  return selfTestView(daemon, own.checks, own.notes);
}

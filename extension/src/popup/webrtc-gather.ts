// Gathers ICE candidates with a real RTCPeerConnection in this extension page, exactly as a web page would
// (no STUN server: what the browser reveals by itself). Ends when gathering completes or after `timeoutMs`.
import type { Gathered } from './self-test-model.js';

export async function gatherCandidates(timeoutMs = 1500): Promise<Gathered> {
  if (typeof RTCPeerConnection === 'undefined') return { available: false, candidates: [] };
  const candidates: string[] = [];
  let pc: RTCPeerConnection | null = null;
  try {
    pc = new RTCPeerConnection({ iceServers: [] });
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      pc!.onicecandidate = (e) => {
        if (e.candidate?.candidate) candidates.push(e.candidate.candidate);
        else {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    pc.createDataChannel('tunlock-self-test');
    await pc.setLocalDescription(await pc.createOffer());
    await done;
    return { available: true, candidates };
  } catch (e) {
    return { available: true, candidates, error: e instanceof Error ? e.message : String(e) };
  } finally {
    pc?.close();
  }
}

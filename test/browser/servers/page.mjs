// Serves the ICE-gathering test page on 127.0.0.1 (run inside the client namespace).
// usage: node page.mjs PORT
import { createServer } from 'node:http';

const PAGE = `<!doctype html><meta charset="utf-8"><title>ice</title><body>ice test<script>
window.gather = async (servers, ms = 3000) => {
  if (typeof RTCPeerConnection !== 'function') return { available: false, candidates: [] };
  const pc = new RTCPeerConnection({ iceServers: [{ urls: servers }] });
  const candidates = [];
  pc.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) candidates.push(e.candidate.candidate); };
  pc.createDataChannel('x');
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((r) => { const t = setTimeout(r, ms); pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') { clearTimeout(t); r(); } }; });
  pc.close();
  return { available: true, candidates };
};
</script>`;
const port = Number(process.argv[2]);
createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(req.url === '/blank' ? '<!doctype html><title>blank</title>' : PAGE);
}).listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));

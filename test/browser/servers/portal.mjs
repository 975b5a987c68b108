// The lab's captive portal: a plain-HTTP login page on the "internet" side (run in the inet namespace). Every
// path answers with the login page, as a portal that intercepts HTTP does. usage: node portal.mjs ADDR PORT
import { createServer } from 'node:http';

const [host, port] = [process.argv[2], Number(process.argv[3])];
const PAGE = '<!doctype html><meta charset="utf-8"><title>Lab Wi-Fi login</title><h1>Lab Wi-Fi login</h1><p>Accept the terms to continue.</p>';
createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(PAGE);
}).listen(port, host, () => process.stdout.write(`listening ${host}:${port}\n`));

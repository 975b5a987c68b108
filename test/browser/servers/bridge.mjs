// Runs inside a namespace: accepts on a unix socket (visible from every namespace through the filesystem)
// and connects each client to 127.0.0.1:PORT in this namespace. Lets the test reach Firefox's WebDriver
// BiDi port, which listens on the namespace's own loopback. usage: node bridge.mjs UNIX_PATH PORT
import { connect, createServer } from 'node:net';

const [path, port] = [process.argv[2], Number(process.argv[3])];
createServer((a) => {
  const b = connect(port, '127.0.0.1');
  a.pipe(b).pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
}).listen(path, () => process.stdout.write('bridge ready\n'));

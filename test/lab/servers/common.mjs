// Shared helpers for the lab's tiny servers. Every server prints JSON lines on stdout, one per event;
// the Lab (test/lab/fixture/processes.ts) reads them. The first line is always {"ev":"ready"} once all sockets listen.
export function emit(obj) {
  process.stdout.write(JSON.stringify({ ts: Date.now(), ...obj }) + '\n');
}

export function config() {
  const raw = process.argv[2];
  if (!raw) {
    process.stderr.write('usage: node script.mjs <json-config>\n');
    process.exit(2);
  }
  return JSON.parse(raw);
}

/** Strip the IPv4-mapped prefix Node puts on v4 peers of dual-stack sockets. */
export function addr(a) {
  return typeof a === 'string' && a.startsWith('::ffff:') ? a.slice(7) : a;
}

// The lab kills servers with SIGKILL; a SIGTERM/SIGINT (manual runs) exits quietly.
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
// If the Lab's end of the stdout pipe goes away, the server has no reason to live.
process.stdout.on('error', () => process.exit(0));

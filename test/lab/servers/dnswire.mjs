// Minimal DNS wire format (RFC 1035) for the lab's resolvers and probe client: one question, A/AAAA answers.
export const TYPE = { A: 1, AAAA: 28 };

function encodeName(name) {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  const bufs = [];
  for (const p of parts) {
    const b = Buffer.from(p, 'ascii');
    if (b.length > 63) throw new Error('label too long');
    bufs.push(Buffer.from([b.length]), b);
  }
  bufs.push(Buffer.from([0]));
  return Buffer.concat(bufs);
}

function readName(buf, off) {
  const labels = [];
  let jumped = false;
  let end = off;
  for (let guard = 0; guard < 128; guard++) {
    if (off >= buf.length) throw new Error('truncated name');
    const len = buf[off];
    if (len === 0) {
      if (!jumped) end = off + 1;
      return { name: labels.join('.'), end };
    }
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= buf.length) throw new Error('truncated pointer');
      if (!jumped) end = off + 2;
      jumped = true;
      off = ((len & 0x3f) << 8) | buf[off + 1];
      continue;
    }
    labels.push(buf.toString('ascii', off + 1, off + 1 + len));
    off += 1 + len;
  }
  throw new Error('name loop');
}

export function encodeQuery(id, name, qtype) {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2); // RD
  h.writeUInt16BE(1, 4);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(qtype, 0);
  q.writeUInt16BE(1, 2);
  return Buffer.concat([h, encodeName(name), q]);
}

export function decodeQuery(buf) {
  if (buf.length < 12) throw new Error('short');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  if (flags & 0x8000 || qd < 1) throw new Error('not a query');
  const { name, end } = readName(buf, 12);
  if (end + 4 > buf.length) throw new Error('short question');
  return { id, flags, name, qtype: buf.readUInt16BE(end), qclass: buf.readUInt16BE(end + 2), qend: end + 4 };
}

function ipv4Bytes(a) {
  return Buffer.from(a.split('.').map((x) => Number(x)));
}

function ipv6Bytes(a) {
  let [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  const groups = [...h, ...fill, ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

/** Answer `query` (a Buffer) with the given A / AAAA addresses. */
export function encodeAnswer(query, q, answers) {
  const question = query.subarray(12, q.qend);
  const rrs = [];
  const want = q.qtype === TYPE.A ? answers.a : q.qtype === TYPE.AAAA ? answers.aaaa : undefined;
  if (want && q.qclass === 1) {
    const rdata = q.qtype === TYPE.A ? ipv4Bytes(want) : ipv6Bytes(want);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(q.qtype, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(rdata.length, 10);
    rrs.push(Buffer.concat([rr, rdata]));
  }
  const h = Buffer.alloc(12);
  h.writeUInt16BE(q.id, 0);
  h.writeUInt16BE(0x8180 | (q.flags & 0x0100), 2); // QR, RA, copy RD, NOERROR
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(rrs.length, 6);
  return Buffer.concat([h, question, ...rrs]);
}

export function decodeAnswer(buf) {
  if (buf.length < 12) throw new Error('short');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let off = 12;
  for (let i = 0; i < qd; i++) off = readName(buf, off).end + 4;
  const answers = [];
  for (let i = 0; i < an; i++) {
    off = readName(buf, off).end;
    if (off + 10 > buf.length) throw new Error('short rr');
    const type = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 8);
    const rd = buf.subarray(off + 10, off + 10 + len);
    off += 10 + len;
    if (type === TYPE.A && len === 4) answers.push([...rd].join('.'));
    else if (type === TYPE.AAAA && len === 16) {
      const g = [];
      for (let j = 0; j < 16; j += 2) g.push(rd.readUInt16BE(j).toString(16));
      answers.push(g.join(':'));
    }
  }
  return { id, rcode: flags & 0xf, answers };
}

// Draws the toolbar icons (one shape per lock state, so the state reads without colour) and writes PNGs, each in
// a light-toolbar and a dark-toolbar variant (`kind-16.png`, `kind-dark-16.png`).
// Shapes are signed-distance functions on a unit square, rendered with 4×4 supersampling; glyphs are cut out
// of the padlock body (transparent), so they read on light and dark toolbars alike.
//   off        open shackle, hollow body           standby    open shackle, pause bars
//   protected  closed shackle, check mark          blocking   closed shackle, bar ("no entry")
//   exception  open shackle, clock                 error      triangle with "!"
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const seg = (px, py, ax, ay, bx, by) => {
  const dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
};
const polyline = (pts, w) => (x, y) => {
  let d = Infinity;
  for (let i = 0; i + 1 < pts.length; i++) d = Math.min(d, seg(x, y, ...pts[i], ...pts[i + 1]));
  return d <= w / 2;
};
const roundRect = (x0, y0, x1, y1, r) => (x, y) => {
  const qx = Math.max(x0 + r - x, 0, x - (x1 - r)), qy = Math.max(y0 + r - y, 0, y - (y1 - r));
  return Math.hypot(qx, qy) <= r && x >= x0 && x <= x1 && y >= y0 && y <= y1;
};
const ring = (cx, cy, r, w) => (x, y) => Math.abs(Math.hypot(x - cx, y - cy) - r) <= w / 2;
const arcTop = (cx, cy, r, w) => (x, y) => y <= cy && Math.abs(Math.hypot(x - cx, y - cy) - r) <= w / 2;
const or = (...fs) => (x, y) => fs.some((f) => f(x, y));
const minus = (a, b) => (x, y) => a(x, y) && !b(x, y);

const SW = 0.11; // shackle stroke
const body = roundRect(0.14, 0.46, 0.86, 0.94, 0.08);
const closedShackle = or(arcTop(0.5, 0.3, 0.22, SW), polyline([[0.28, 0.3], [0.28, 0.5]], SW), polyline([[0.72, 0.3], [0.72, 0.5]], SW));
const openShackle = or(arcTop(0.5, 0.2, 0.22, SW), polyline([[0.28, 0.2], [0.28, 0.5]], SW), polyline([[0.72, 0.2], [0.72, 0.27]], SW));

const SHAPES = {
  off: or(openShackle, minus(body, roundRect(0.25, 0.57, 0.75, 0.83, 0.03))),
  standby: or(openShackle, minus(body, or(roundRect(0.36, 0.57, 0.45, 0.84, 0.01), roundRect(0.55, 0.57, 0.64, 0.84, 0.01)))),
  protected: or(closedShackle, minus(body, polyline([[0.32, 0.7], [0.45, 0.82], [0.69, 0.57]], 0.11))),
  blocking: or(closedShackle, minus(body, roundRect(0.27, 0.65, 0.73, 0.76, 0.02))),
  exception: or(openShackle, minus(body, or(ring(0.5, 0.7, 0.15, 0.07), polyline([[0.5, 0.6], [0.5, 0.71], [0.58, 0.76]], 0.06)))),
  error: minus(
    (x, y) => {
      // filled triangle with rounded-ish corners
      const inside = y <= 0.92 && y >= 0.08 && Math.abs(x - 0.5) <= (y - 0.08) * 0.55;
      return inside;
    },
    or(polyline([[0.5, 0.36], [0.5, 0.66]], 0.1), ring(0.5, 0.79, 0.025, 0.06)),
  ),
};
// Two palettes, each ≥ 3:1 against its toolbar (test/unit/extension-icons.test.ts measures them): `light` for light
// toolbars (Chromium #f1f3f4, Firefox #f9f9fb, white) and `dark` for dark ones (Chromium #35363a, Firefox #2b2a33,
// #202124). The amber of Standby and the orange of the login hole are warnings, not calm colours.
export const COLOURS = {
  light: {
    off: [95, 99, 104],
    standby: [168, 78, 0],
    protected: [19, 115, 51],
    blocking: [197, 34, 31],
    exception: [184, 60, 0],
    error: [142, 36, 170],
  },
  dark: {
    off: [200, 204, 209],
    standby: [251, 191, 36],
    protected: [129, 201, 149],
    blocking: [242, 139, 130],
    exception: [253, 166, 100],
    error: [225, 163, 238],
  },
};

// States with a toolbar badge (Standby "!", the login hole's countdown) draw the padlock smaller in the top-left
// corner, so the badge, which both browsers paint bottom right, never covers it (checked in the unit test).
export const BADGED = ['standby', 'exception'];
export const BADGE_SCALE = 0.66;
const shrink = (shape, k) => (x, y) => shape(x / k, y / k);

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
export function renderPng(shape, [r, g, b], size) {
  const SS = 4;
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      let hit = 0;
      for (let sy = 0; sy < SS; sy++)
        for (let sx = 0; sx < SS; sx++) if (shape((x + (sx + 0.5) / SS) / size, (y + (sy + 0.5) / SS) / size)) hit++;
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
      raw[o + 3] = Math.round((255 * hit) / (SS * SS));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

export function writeIcons(dir) {
  mkdirSync(dir, { recursive: true });
  for (const [kind, full] of Object.entries(SHAPES)) {
    const shape = BADGED.includes(kind) ? shrink(full, BADGE_SCALE) : full;
    for (const size of [16, 32]) {
      writeFileSync(join(dir, `${kind}-${size}.png`), renderPng(shape, COLOURS.light[kind], size));
      writeFileSync(join(dir, `${kind}-dark-${size}.png`), renderPng(shape, COLOURS.dark[kind], size));
    }
  }
  // The pages (popup card, welcome page) show each state's icon large, without a badge: the full-size padlock.
  for (const [kind, shape] of Object.entries(SHAPES)) {
    writeFileSync(join(dir, `state-${kind}.png`), renderPng(shape, COLOURS.light[kind], 64));
    writeFileSync(join(dir, `state-${kind}-dark.png`), renderPng(shape, COLOURS.dark[kind], 64));
  }
  for (const size of [48, 128]) writeFileSync(join(dir, `app-${size}.png`), renderPng(SHAPES.protected, COLOURS.light.protected, size));
  return Object.keys(SHAPES);
}

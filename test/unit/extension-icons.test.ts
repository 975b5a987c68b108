// The toolbar icons (extension/scripts/icons.mjs): readable on light and dark toolbars, and a badge never covers
// the padlock. Measured on the PNGs the build writes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BADGED, COLOURS, writeIcons } from '../../extension/scripts/icons.mjs';
import { BADGED_ICONS, ICON_KINDS } from '../../extension/src/shared/state-view.js';

type Rgb = [number, number, number];
const TOOLBARS: Record<'light' | 'dark', Record<string, Rgb>> = {
  light: { 'Chromium light': [241, 243, 244], 'Firefox light': [249, 249, 251], white: [255, 255, 255] },
  dark: { 'Chromium dark': [53, 54, 58], 'Firefox dark': [43, 42, 51], 'GNOME dark': [32, 33, 36] },
};

function luminance([r, g, b]: Rgb): number {
  const c = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b);
}
const contrast = (a: Rgb, b: Rgb) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
};

/** Alpha channel of an RGBA PNG as written by icons.mjs (one IDAT, filter 0 on every row). */
function alpha(file: string): { size: number; at: (x: number, y: number) => number } {
  const buf = readFileSync(file);
  const size = buf.readUInt32BE(16);
  const idat = buf.indexOf('IDAT');
  const raw = inflateSync(buf.subarray(idat + 4, idat + 4 + buf.readUInt32BE(idat - 4)));
  return { size, at: (x, y) => raw[y * (size * 4 + 1) + 1 + x * 4 + 3]! };
}

describe('toolbar icons', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunlock-icons-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeIcons(dir);

  it('every state colour is ≥ 3:1 against the toolbars it is made for (light and dark)', () => {
    for (const theme of ['light', 'dark'] as const) {
      for (const kind of ICON_KINDS) {
        for (const [name, bg] of Object.entries(TOOLBARS[theme])) {
          const ratio = contrast(COLOURS[theme][kind] as Rgb, bg);
          expect(ratio, `${kind} (${theme} icon) on ${name}`).toBeGreaterThanOrEqual(3);
        }
      }
    }
  });

  it('the badge corner (bottom right, where both browsers paint it) is empty in icons that carry a badge', () => {
    expect([...BADGED].sort()).toEqual([...BADGED_ICONS].sort());
    for (const kind of BADGED_ICONS) {
      for (const variant of ['', '-dark']) {
        for (const size of [16, 32]) {
          const png = alpha(join(dir, `${kind}${variant}-${size}.png`));
          let covered = 0;
          let drawn = 0;
          for (let y = 0; y < size; y++) {
            for (let x = 0; x < size; x++) {
              if (png.at(x, y) > 0) drawn++;
              if (png.at(x, y) > 0 && x >= size * 0.4 && y >= size * 0.66) covered++;
            }
          }
          expect(drawn, `${kind}${variant}-${size} draws something`).toBeGreaterThan(size);
          expect(covered, `${kind}${variant}-${size}: pixels under the badge`).toBe(0);
        }
      }
    }
  });

  it('each state has its own shape (distinguishable without colour)', () => {
    const masks = ICON_KINDS.map((k) => {
      const png = alpha(join(dir, `${k}-32.png`));
      let bits = '';
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) bits += png.at(x, y) > 127 ? '1' : '0';
      return bits;
    });
    expect(new Set(masks).size).toBe(ICON_KINDS.length);
  });
});

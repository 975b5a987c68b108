// Types for icons.mjs (a build script in plain JS, imported by the unit test that measures the icons).
export type Rgb = [number, number, number];
export type Shape = (x: number, y: number) => boolean;
export const COLOURS: { light: Record<string, Rgb>; dark: Record<string, Rgb> };
export const BADGED: string[];
export const BADGE_SCALE: number;
export function renderPng(shape: Shape, rgb: Rgb, size: number): Buffer;
export function writeIcons(dir: string): string[];

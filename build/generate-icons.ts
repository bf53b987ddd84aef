/**
 * Draws Ferry's icons and writes them as PNG files (no image library: a small rasteriser with 4×4
 * supersampling and a PNG encoder on node:zlib). Run with `node build/generate-icons.ts`; the output
 * is committed, so packaging does not need this script.
 *
 *   build/icon.png                 1024×1024, electron-builder makes .icns and .ico from it
 *   build/icons/NxN.png            16…512, the Linux icon set
 *   build/tray/tray.png, @2x       32/64, colour tray icon (Windows, Linux)
 *   build/tray/trayTemplate.png    16/32, black silhouette that macOS tints for the menu bar
 *   build/tray/tray[Template]-STATE.png  the same with a state dot: uploading, paused, error
 *
 * The picture: a white ferry on two waves with an upload arrow above it, on a rounded square that
 * fades from deep navy to sea teal.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

type Rgba = [number, number, number, number];
/** Coverage of a shape at a point in the unit square (true: inside). */
type Shape = (x: number, y: number) => boolean;

const here = dirname(new URL(import.meta.url).pathname);

// Shapes, in a unit square with y going down ------------------------------------------------------

function roundedRect(x0: number, y0: number, x1: number, y1: number, r: number): Shape {
  return (x, y) => {
    if (x < x0 || x > x1 || y < y0 || y > y1) return false;
    const cx = Math.min(Math.max(x, x0 + r), x1 - r);
    const cy = Math.min(Math.max(y, y0 + r), y1 - r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  };
}

function polygon(points: ReadonlyArray<[number, number]>): Shape {
  return (x, y) => {
    let inside = false;
    for (let i = 0, j = points.length - 1; i < points.length; j = i, i += 1) {
      const [xi, yi] = points[i]!;
      const [xj, yj] = points[j]!;
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  };
}

/** A sine wave line of the given half thickness between x0 and x1. */
function wave(y0: number, amplitude: number, periods: number, halfThickness: number, x0: number, x1: number): Shape {
  return (x, y) => {
    if (x < x0 || x > x1) return false;
    const t = (x - x0) / (x1 - x0);
    const centre = y0 + amplitude * Math.sin(t * periods * 2 * Math.PI);
    // Rounded ends.
    const edge = Math.min(x - x0, x1 - x);
    const thickness = edge < halfThickness ? Math.sqrt(Math.max(0, halfThickness ** 2 - (halfThickness - edge) ** 2)) : halfThickness;
    return Math.abs(y - centre) <= thickness;
  };
}

const union =
  (...shapes: Shape[]): Shape =>
  (x, y) =>
    shapes.some((shape) => shape(x, y));
const minus =
  (shape: Shape, hole: Shape): Shape =>
  (x, y) =>
    shape(x, y) && !hole(x, y);

const arrow = union(
  polygon([
    [0.5, 0.14],
    [0.625, 0.28],
    [0.375, 0.28],
  ]),
  roundedRect(0.46, 0.26, 0.54, 0.4, 0.012),
);
const cabinWindows = union(roundedRect(0.405, 0.445, 0.455, 0.49, 0.01), roundedRect(0.475, 0.445, 0.525, 0.49, 0.01), roundedRect(0.545, 0.445, 0.595, 0.49, 0.01));
const cabin = minus(roundedRect(0.37, 0.42, 0.63, 0.535, 0.02), cabinWindows);
const hull = polygon([
  [0.2, 0.535],
  [0.8, 0.535],
  [0.7, 0.665],
  [0.3, 0.665],
]);
const boat = union(arrow, cabin, hull);
const waves = union(wave(0.735, 0.018, 2, 0.022, 0.2, 0.8), wave(0.815, 0.018, 2, 0.022, 0.26, 0.74));
const background = roundedRect(0.06, 0.06, 0.94, 0.94, 0.2);

// Rasterising -------------------------------------------------------------------------------------

const SAMPLES = 4;

function mix(a: Rgba, b: Rgba, t: number): Rgba {
  return [0, 1, 2, 3].map((i) => a[i]! + (b[i]! - a[i]!) * t) as Rgba;
}

/** Paints opaque layers (later ones on top), each a shape with a colour that may depend on the position. */
function render(size: number, layers: ReadonlyArray<[Shape, (x: number, y: number) => Rgba]>): Buffer {
  const pixels = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py += 1) {
    for (let px = 0; px < size; px += 1) {
      // Premultiplied accumulation over the samples of this pixel.
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < SAMPLES; sy += 1) {
        for (let sx = 0; sx < SAMPLES; sx += 1) {
          const x = (px + (sx + 0.5) / SAMPLES) / size;
          const y = (py + (sy + 0.5) / SAMPLES) / size;
          // Layers are opaque: the topmost one covering the sample gives its colour.
          let colour: Rgba = [0, 0, 0, 0];
          for (const [shape, paint] of layers) if (shape(x, y)) colour = paint(x, y);
          const alpha = colour[3] / 255;
          r += colour[0] * alpha;
          g += colour[1] * alpha;
          b += colour[2] * alpha;
          a += alpha;
        }
      }
      const offset = (py * size + px) * 4;
      const n = SAMPLES * SAMPLES;
      pixels[offset + 3] = Math.round((a / n) * 255);
      if (a > 0) {
        pixels[offset] = Math.round(r / a);
        pixels[offset + 1] = Math.round(g / a);
        pixels[offset + 2] = Math.round(b / a);
      }
    }
  }
  return pixels;
}

function png(size: number, rgba: Buffer): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y += 1) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function write(path: string, size: number, layers: ReadonlyArray<[Shape, (x: number, y: number) => Rgba]>): void {
  const target = join(here, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, png(size, render(size, layers)));
  console.log(`${path} (${size}×${size})`);
}

// The icons -----------------------------------------------------------------------------------------

const navy: Rgba = [15, 42, 61, 255];
const teal: Rgba = [27, 138, 154, 255];
const white: Rgba = [255, 255, 255, 255];
const foam: Rgba = [150, 226, 232, 255];
const black: Rgba = [0, 0, 0, 255];

const appIcon: ReadonlyArray<[Shape, (x: number, y: number) => Rgba]> = [
  [background, (_x, y) => mix(navy, teal, Math.min(1, Math.max(0, (y - 0.06) / 0.88)))],
  [waves, () => foam],
  [boat, () => white],
];

write('icon.png', 1024, appIcon);
for (const size of [16, 32, 48, 64, 128, 256, 512]) write(`icons/${size}x${size}.png`, size, appIcon);

// The tray: no background square (it sits on the panel's own colour); a teal boat with white-edged
// waves reads on dark and light panels alike.
const zoomed = (shape: Shape): Shape => (x, y) => shape(0.14 + x * 0.72, 0.1 + y * 0.76);
const trayColour: ReadonlyArray<[Shape, (x: number, y: number) => Rgba]> = [
  [zoomed(union(boat, waves)), () => teal],
];
write('tray/tray.png', 32, trayColour);
write('tray/tray@2x.png', 64, trayColour);
const trayTemplate: ReadonlyArray<[Shape, (x: number, y: number) => Rgba]> = [[zoomed(union(boat, waves)), () => black]];
write('tray/trayTemplate.png', 16, trayTemplate);
write('tray/trayTemplate@2x.png', 32, trayTemplate);

// Tray states: the same boat with a dot in the lower right corner — blue while uploading, amber when
// paused, red when something needs attention. The dot is cut out of the boat with a ring of
// transparency, so it reads on any panel colour. macOS template images cannot be coloured: there
// the dot alone tells that the state is not idle (the tooltip and the menu say which).
const circle =
  (cx: number, cy: number, r: number): Shape =>
  (x, y) =>
    (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const badgeRing = circle(0.79, 0.79, 0.25);
const badge = circle(0.79, 0.79, 0.18);
const badgeColours: Record<'uploading' | 'paused' | 'error', Rgba> = {
  uploading: [31, 138, 224, 255],
  paused: [224, 162, 31, 255],
  error: [216, 58, 58, 255],
};
for (const [state, colour] of Object.entries(badgeColours)) {
  const colourLayers: ReadonlyArray<[Shape, (x: number, y: number) => Rgba]> = [
    [minus(zoomed(union(boat, waves)), badgeRing), () => teal],
    [badge, () => colour],
  ];
  write(`tray/tray-${state}.png`, 32, colourLayers);
  write(`tray/tray-${state}@2x.png`, 64, colourLayers);
  const templateLayers: ReadonlyArray<[Shape, (x: number, y: number) => Rgba]> = [
    [minus(zoomed(union(boat, waves)), badgeRing), () => black],
    [badge, () => black],
  ];
  write(`tray/trayTemplate-${state}.png`, 16, templateLayers);
  write(`tray/trayTemplate-${state}@2x.png`, 32, templateLayers);
}

/**
 * Pictures the demo makes from the bundled photos with sharp: a three-face group picture to swap
 * into, and side-by-side sheets (source | target | result) for looking at results.
 */

import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { Image } from '../../core/image.js';
import { readImage } from '../media/image-io.js';

/** The bundled photos (test/fixtures/faces); see SOURCES.md there for where they come from. */
export const DEMO_PHOTOS = {
  astronaut: 'astronaut.png',
  grace_hopper: 'grace_hopper.jpg',
  camera: 'camera.png',
} as const;
export type DemoPhoto = keyof typeof DEMO_PHOTOS;

const NEUTRAL_GREY = { r: 200, g: 200, b: 200 };
const PHOTO_PIXEL_LIMIT = 4_000_000;

export async function loadDemoPhotos(fixturesDir: string): Promise<Record<DemoPhoto, Image>> {
  const entries = await Promise.all(
    (Object.keys(DEMO_PHOTOS) as DemoPhoto[]).map(async (name) => [name, await readImage(join(fixturesDir, DEMO_PHOTOS[name]), { maxPixels: PHOTO_PIXEL_LIMIT })] as const),
  );
  return Object.fromEntries(entries) as Record<DemoPhoto, Image>;
}

function toSharp(image: Image): Sharp {
  const raw = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return sharp(raw, { raw: { width: image.width, height: image.height, channels: image.channels } });
}

async function toImage(pipeline: Sharp): Promise<Image> {
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

async function rawBuffer(image: Image): Promise<{ input: Buffer; raw: { width: number; height: number; channels: 3 } }> {
  const rgb = image.channels === 3 ? image : await toImage(toSharp(image));
  return { input: Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength), raw: { width: rgb.width, height: rgb.height, channels: 3 } };
}

/** Resizes to a height, keeping the aspect ratio, optionally mirrored left to right. */
export async function resizeToHeight(image: Image, height: number, options: { mirror?: boolean } = {}): Promise<Image> {
  let pipeline = toSharp(image).resize({ height, kernel: 'lanczos3' });
  if (options.mirror) pipeline = pipeline.flop();
  return toImage(pipeline);
}

interface Placement {
  image: Image;
  left: number;
  top: number;
}

async function compose(width: number, height: number, placements: Placement[]): Promise<Image> {
  const layers = await Promise.all(placements.map(async (p) => ({ ...(await rawBuffer(p.image)), left: p.left, top: p.top })));
  const canvas = sharp({ create: { width, height, channels: 3, background: NEUTRAL_GREY } }).composite(layers);
  // Composite runs late in sharp's pipeline, so flatten first and drop any alpha in a second pass.
  const { data, info } = await canvas.raw().toBuffer({ resolveWithObject: true });
  return toImage(sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }));
}

/**
 * A group picture with three frontal faces of clearly different sizes (so "largest first" is
 * unambiguous): two photos side by side on top and a mirrored, smaller copy of the first below.
 * The layout stays close to square so each face keeps enough pixels for the detector.
 */
export async function makeGroupPicture(first: Image, second: Image): Promise<Image> {
  const margin = 24;
  const a = await resizeToHeight(first, 480);
  const b = await resizeToHeight(second, 440);
  const c = await resizeToHeight(first, 380, { mirror: true });
  const width = margin * 3 + a.width + b.width;
  const topRow = Math.max(a.height, b.height);
  const height = margin * 3 + topRow + c.height;
  return compose(width, height, [
    { image: a, left: margin, top: margin },
    { image: b, left: margin * 2 + a.width, top: margin + Math.round((topRow - b.height) / 2) },
    { image: c, left: Math.round((width - c.width) / 2), top: margin * 2 + topRow },
  ]);
}

/** Images scaled to one height and laid left to right with a gap, for comparing results. */
export async function sideBySide(images: readonly Image[], options: { height?: number; gap?: number } = {}): Promise<Image> {
  const height = options.height ?? 360;
  const gap = options.gap ?? 12;
  const scaled = await Promise.all(images.map((image) => resizeToHeight(image, height)));
  const placements: Placement[] = [];
  let left = gap;
  for (const image of scaled) {
    placements.push({ image, left, top: gap });
    left += image.width + gap;
  }
  return compose(left, height + gap * 2, placements);
}

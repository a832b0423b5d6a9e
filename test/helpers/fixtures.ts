/** Shared test helpers: fixture photos as Images, a shared model cache, and pixel statistics. */

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { Image } from '../../src/core/image.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/faces/', import.meta.url));

/** One model cache for the whole test run, so the built-in models are converted once. */
export const TEST_HOME = process.env.LIVESWAP_TEST_HOME ?? join(tmpdir(), 'liveswap-test-home');

export async function loadFixture(name: string): Promise<Image> {
  return decodeRgb(join(FIXTURES, name));
}

export async function decodeRgb(input: string | Buffer): Promise<Image> {
  const { data, info } = await sharp(input).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const rgb = info.channels === 3 ? data : await sharp(data, { raw: info }).toColourspace('srgb').removeAlpha().raw().toBuffer();
  return { width: info.width, height: info.height, channels: 3, data: new Uint8ClampedArray(rgb.buffer, rgb.byteOffset, info.width * info.height * 3) };
}

export async function encodePng(image: Image): Promise<Buffer> {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .png()
    .toBuffer();
}

/** Mean absolute difference over a rectangle, all channels. */
/**
 * Mean absolute difference of `block`×`block` cell means over a region: blind to a shift of a pixel
 * or two (a camera frame grabbed a moment before or after another), not to a changed picture.
 */
export function blockMeanAbsDiff(a: Image, b: Image, x0: number, y0: number, x1: number, y1: number, block = 4): number {
  let sum = 0;
  let n = 0;
  const c = a.channels;
  for (let by = Math.max(0, y0); by + block <= Math.min(a.height, y1); by += block) {
    for (let bx = Math.max(0, x0); bx + block <= Math.min(a.width, x1); bx += block) {
      for (let k = 0; k < c; k++) {
        let da = 0;
        let db = 0;
        for (let y = by; y < by + block; y++) {
          for (let x = bx; x < bx + block; x++) {
            da += a.data[(y * a.width + x) * c + k];
            db += b.data[(y * b.width + x) * c + k];
          }
        }
        sum += Math.abs(da - db) / (block * block);
        n++;
      }
    }
  }
  return sum / Math.max(1, n);
}

export function meanAbsDiff(a: Image, b: Image, x0: number, y0: number, x1: number, y1: number): number {
  let sum = 0;
  let n = 0;
  const c = a.channels;
  for (let y = Math.max(0, y0); y < Math.min(a.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(a.width, x1); x++) {
      for (let k = 0; k < c; k++) sum += Math.abs(a.data[(y * a.width + x) * c + k] - b.data[(y * a.width + x) * c + k]);
      n += c;
    }
  }
  return sum / Math.max(1, n);
}

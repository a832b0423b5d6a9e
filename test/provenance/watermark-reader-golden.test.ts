/**
 * The reader's numbers are pinned: per-bit soft values of a few deterministic frames (made here from
 * a seeded generator, no files), hashed bit for bit and compared with the values the reader gave
 * before its correlation moved into bit-order.ts. Files marked by any earlier embedder are read by
 * these same numbers, so a change here would be a change in what old files decode to.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { correlateCoefficients, frameCoefficients, measureFrame, WatermarkDetector, WatermarkEmbedder } from '../../src/provenance/watermark.js';
import { seededRandom } from '../helpers/random.js';

/** FNV-1a over the bytes of a Float32Array: equal only when every value is the same float. */
function hash(values: Float32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** A frame with flat areas, smooth shading, stripes and noise, from a seed. */
function frame(width: number, height: number, channels: 1 | 3 | 4, seed: number): Image {
  const random = seededRandom(seed);
  const data = new Uint8ClampedArray(width * height * channels);
  const fx = 0.02 + random() * 0.1;
  const fy = 0.02 + random() * 0.1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const flat = x < width / 3 && y < height / 2;
      const base = flat ? 40 : 128 + 60 * Math.sin(x * fx) * Math.cos(y * fy) + 30 * (x / width);
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = c === 3 ? 255 : base + c * 7 + (random() - 0.5) * (flat ? 2 : 12);
    }
  }
  return { width, height, channels, data };
}

const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 255);

const CASES: Array<{ name: string; image: () => Image; soft: string }> = [
  { name: '640×360 RGB', image: () => frame(640, 360, 3, 1), soft: 'e9f4aad8' },
  { name: '1280×720 RGBA', image: () => frame(1280, 720, 4, 2), soft: 'fa35c743' },
  { name: '500×300 grey', image: () => frame(500, 300, 1, 3), soft: '9d2c5b7e' },
  {
    name: '640×360 RGB, marked as a still',
    image: () => {
      const image = frame(640, 360, 3, 4);
      new WatermarkEmbedder(key, { assetId: 0x12345678, version: 1 }, { media: 'still' }).embed(image);
      return image;
    },
    soft: 'c21d606a',
  },
];

for (const { name, image, soft } of CASES) {
  test(`${name}: the reader's soft values are the pinned ones, by every entry point`, () => {
    const picture = image();
    const measured = measureFrame(key, picture);
    if (process.env.PRINT_GOLDEN) console.log(name, hash(measured));
    assert.equal(hash(measured), soft);
    assert.equal(hash(correlateCoefficients(key, frameCoefficients(picture))), soft);
    const detector = new WatermarkDetector(key);
    assert.equal(hash(detector.add(picture)), soft);
    assert.equal(hash(detector.add(picture)), soft, 'the detector’s second frame reads the same');
  });
}

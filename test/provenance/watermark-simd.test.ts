import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cloneImage, toRgba, type Image } from '../../src/core/image.js';
import { FrameMarker } from '../../src/provenance/marks.js';
import { watermarkKernels } from '../../src/provenance/upsample-simd.js';
import { decideWatermark, frameCoefficients, measureFrame, WatermarkEmbedder } from '../../src/provenance/watermark.js';
import { seededRandom, syntheticClip } from '../helpers/watermark-clips.js';

const PAYLOAD = { assetId: 0x5eed1234, version: 1 };

function key(seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256));
}

/** Where the bytes of two images differ, as "pixel (x, y) channel c: a vs b" for the first few. */
function differences(a: Image, b: Image): string[] {
  const out: string[] = [];
  for (let i = 0; i < a.data.length && out.length < 5; i++) {
    if (a.data[i] !== b.data[i]) {
      const pixel = Math.floor(i / a.channels);
      out.push(`pixel (${pixel % a.width}, ${Math.floor(pixel / a.width)}) channel ${i % a.channels}: ${a.data[i]} vs ${b.data[i]}`);
    }
  }
  return out;
}

test('the WebAssembly SIMD kernels compile in this runtime (else the comparisons below would compare TypeScript with itself)', () => {
  assert.ok(watermarkKernels(), 'WebAssembly SIMD is available in Node 20');
});

// Odd widths and heights (each kernel's tail: partial 16-byte chunks, partial runs of 8 pixels, odd
// row strides), the 4× width, and one narrower than the upsample kernel's reach (TypeScript there).
for (const [width, height, channels] of [
  [641, 361, 3],
  [1001, 563, 4],
  [1283, 721, 3],
  [333, 187, 4],
  [250, 141, 3],
  [1920, 1080, 4],
  [1919, 1079, 3],
] as const) {
  test(`${width}×${height} ${channels === 4 ? 'RGBA' : 'RGB'}: the SIMD path marks exactly the bytes of the TypeScript path, frame after frame`, async () => {
    const clip = await syntheticClip({ width, height, seed: width + height });
    const k = key(width);
    const fast = new WatermarkEmbedder(k, PAYLOAD);
    const reference = new WatermarkEmbedder(k, PAYLOAD, { simd: false });
    for (let f = 0; f < 3; f++) {
      const frame = channels === 4 ? toRgba(clip.frame(f)) : clip.frame(f);
      const a = cloneImage(frame);
      const b = cloneImage(frame);
      fast.embed(a);
      reference.embed(b);
      assert.deepEqual(differences(a, b), [], `frame ${f}`);
      let changed = 0;
      for (let i = 0; i < a.data.length; i++) if (a.data[i] !== frame.data[i]) changed++;
      assert.ok(changed > a.data.length / 10, `frame ${f}: only ${changed} bytes changed`);
      assert.deepEqual(Array.from(frameCoefficients(a).subarray(0, 50)), Array.from(frameCoefficients(b).subarray(0, 50)));
    }
    const marked = cloneImage(channels === 4 ? toRgba(clip.frame(0)) : clip.frame(0));
    fast.embed(marked);
    const detection = decideWatermark([measureFrame(k, marked)]);
    assert.equal(detection.found, true);
    assert.deepEqual(detection.payload, PAYLOAD);
  });
}

test('a video marker (label and watermark) leaves alpha alone and marks an odd-width RGBA frame as the reference does', async () => {
  const clip = await syntheticClip({ width: 853, height: 479, seed: 5 });
  const frame = toRgba(clip.frame(0));
  for (let i = 3; i < frame.data.length; i += 4) frame.data[i] = (i >> 2) & 255;
  const marker = new FrameMarker({ label: {}, watermark: { key: key(9), payload: PAYLOAD }, media: 'video' });
  const a = cloneImage(frame);
  marker.mark(a);
  const b = cloneImage(frame);
  new FrameMarker({ label: {}, watermark: { key: key(9), payload: PAYLOAD }, media: 'video', simd: false }).mark(b);
  assert.deepEqual(differences(a, b), []);
  // Alpha: untouched by the watermark (the label sets its box opaque).
  let alphaChanged = 0;
  for (let i = 3; i < a.data.length; i += 4) if (a.data[i] !== frame.data[i] && a.data[i] !== 255) alphaChanged++;
  assert.equal(alphaChanged, 0);
});

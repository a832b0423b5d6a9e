import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cloneImage, toRgba, type Image } from '../../src/core/image.js';
import { WATERMARK_BITS, decodePayload, encodePayload, type WatermarkPayload } from '../../src/provenance/payload.js';
import {
  DEFAULT_VIDEO_STRENGTH,
  WATERMARK_KEY_BYTES,
  WatermarkDetector,
  WatermarkEmbedder,
  correlateCoefficients,
  decideWatermark,
  decodeWindow,
  flipsFor,
  frameCoefficients,
  measureFrame,
  psnrLuma,
  type WatermarkOptions,
} from '../../src/provenance/watermark.js';
import { loadFixture } from '../helpers/fixtures.js';
import { seededRandom, syntheticClip } from '../helpers/watermark-clips.js';

const PAYLOAD: WatermarkPayload = { assetId: 0x0a1b2c3d, version: 1 };

function keyFrom(seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length: WATERMARK_KEY_BYTES }, () => Math.floor(random() * 256));
}

function marked(image: Image, key: Uint8Array, payload = PAYLOAD, options: WatermarkOptions = {}): Image {
  const copy = cloneImage(image);
  new WatermarkEmbedder(key, payload, options).embed(copy);
  return copy;
}

test('a marked frame decodes from that one frame at any size and aspect', async () => {
  const key = keyFrom(1);
  const sizes: Array<[number, number]> = [
    [1920, 1080],
    [1280, 720],
    [640, 480],
    [200, 100],
    [270, 480],
  ];
  for (const [width, height] of sizes) {
    const clip = await syntheticClip({ width, height, seed: width });
    const frame = marked(clip.frame(0), key);
    const detection = decideWatermark([measureFrame(key, frame)]);
    assert.equal(detection.found, true, `${width}×${height}`);
    assert.deepEqual(detection.payload, PAYLOAD);
    assert.deepEqual(Array.from(detection.bits), Array.from(encodePayload(PAYLOAD)));
    assert.equal(detection.framesUsed, 1);
    assert.equal(detection.decisions, 1);
    assert.equal(detection.bitsFlipped, 0);
    assert.equal(detection.pValue, 2 ** detection.flipsAllowed * 2 ** -32);
  }
});

test('a fixture photo (odd aspect, grey source) round-trips as RGB and RGBA', async () => {
  const key = keyFrom(2);
  for (const name of ['grace_hopper.jpg', 'camera.png']) {
    const photo = await loadFixture(name);
    for (const image of [photo, toRgba(photo)]) {
      const detection = decideWatermark([measureFrame(key, marked(image, key))]);
      assert.deepEqual(detection.payload, PAYLOAD, `${name} with ${image.channels} channels`);
    }
  }
});

test('the embedded correlation is near the strength and PSNR-Y stays within bounds', async () => {
  const key = keyFrom(3);
  const clip = await syntheticClip({ width: 1920, height: 1080, seed: 11 });
  const original = clip.frame(3);
  const frame = marked(original, key);
  const psnr = psnrLuma(original, frame);
  assert.ok(psnr >= 45 && psnr <= 52, `PSNR-Y ${psnr.toFixed(2)} dB at the video strength`);
  const signs = encodePayload(PAYLOAD);
  const soft = measureFrame(key, frame);
  for (let b = 0; b < WATERMARK_BITS; b++) {
    const signed = soft[b] * (signs[b] ? 1 : -1);
    // Upsampling to 1080p and area-downscaling back attenuates the chips a little.
    assert.ok(signed > 0.5 * DEFAULT_VIDEO_STRENGTH && signed < 1.3 * DEFAULT_VIDEO_STRENGTH, `bit ${b}: ${signed}`);
  }
  const still = marked(original, key, PAYLOAD, { media: 'still' });
  assert.ok(psnrLuma(original, still) < psnr, 'the still strength costs more PSNR');
  assert.equal(psnrLuma(original, original), Infinity);
});

test('a still deals the change to every chip; a video frame only to the lowest ones, in a layout that holds from frame to frame', async () => {
  const key = keyFrom(5);
  const clip = await syntheticClip({ width: 960, height: 540, seed: 5 });
  const original = clip.frame(0);
  const host = frameCoefficients(original);
  // Mean |change| per chip index (0..2: u+v = 2; 3..11: higher), after the residual's round trip to pixels and back.
  const change = (image: Image): number[] => {
    const after = frameCoefficients(image);
    const sums = new Array<number>(12).fill(0);
    for (let i = 0; i < after.length; i++) sums[i % 12] += Math.abs(after[i] - host[i]);
    return sums.map((s) => s / (after.length / 12));
  };
  const low = (c: number[]): number => (c[0] + c[1] + c[2]) / 3;
  const high = (c: number[]): number => c.slice(3).reduce((a, b) => a + b, 0) / 9;
  const still = change(marked(original, key, PAYLOAD, { media: 'still' }));
  assert.ok(high(still) > 0.5 * low(still), `still: low ${low(still).toFixed(3)}, high ${high(still).toFixed(3)}`);
  const embedder = new WatermarkEmbedder(key, PAYLOAD);
  const first = cloneImage(original);
  embedder.embed(first);
  const video = change(first);
  assert.ok(high(video) < 0.1 * low(video), `video: low ${low(video).toFixed(3)}, high ${high(video).toFixed(3)}`);
  // The same picture again: the same change, near enough that an encoder predicts it.
  const second = cloneImage(original);
  embedder.embed(second);
  let differ = 0;
  let moved = 0;
  for (let i = 0; i < first.data.length; i++) {
    differ += Math.abs(first.data[i] - second.data[i]);
    moved += Math.abs(first.data[i] - original.data[i]);
  }
  assert.ok(differ < 0.1 * moved, `frame to frame ${differ} against ${moved} in all`);
  assert.deepEqual(decideWatermark([measureFrame(key, first), measureFrame(key, second)]).payload, PAYLOAD);
});

test('RGBA: alpha is untouched and the same delta goes to R, G and B', async () => {
  const key = keyFrom(4);
  const clip = await syntheticClip({ width: 640, height: 360, seed: 4 });
  const rgba = toRgba(clip.frame(0));
  for (let i = 3; i < rgba.data.length; i += 4) rgba.data[i] = (i * 37) & 255;
  const frame = marked(rgba, key);
  let changed = 0;
  for (let i = 0; i < frame.data.length; i += 4) {
    assert.equal(frame.data[i + 3], rgba.data[i + 3]);
    const d = [0, 1, 2].map((c) => frame.data[i + c] - rgba.data[i + c]);
    const clipped = [0, 1, 2].some((c) => frame.data[i + c] === 0 || frame.data[i + c] === 255);
    if (!clipped) assert.ok(d[0] === d[1] && d[1] === d[2], `pixel ${i / 4}: ${d.join(',')}`);
    if (d[0] !== 0) changed++;
  }
  assert.ok(changed > frame.data.length / 4 / 4, `${changed} pixels changed`);
});

for (const [width, height] of [
  [1920, 1080],
  [1280, 720],
  [854, 480],
] as const) {
  test(`${width}×${height}: colour frames measure and mark as the general one-channel path does`, async () => {
    // A grey picture as RGB, RGBA and one channel: R = G = B makes the BT.601 luma the grey value, so
    // all three must give the same grid, though RGB/RGBA at 1920×1080 take the word-wise box path,
    // RGBA at any other size and RGB 4k pixels wide the lane sums (one pass per chip row), RGB 854
    // wide the per-row one, and one channel the per-pixel one. Marking: RGB and RGBA add the upsampled residual with the
    // WebAssembly SIMD kernels (the 4× one at 1920 wide, the table one otherwise).
    const clip = await syntheticClip({ width, height, seed: 12 });
    const colour = clip.frame(0);
    const grey: Image = { width, height, channels: 1, data: new Uint8ClampedArray(width * height) };
    for (let i = 0; i < grey.data.length; i++) grey.data[i] = colour.data[i * 3 + 1];
    const rgb: Image = { width, height, channels: 3, data: new Uint8ClampedArray(width * height * 3) };
    for (let i = 0; i < grey.data.length; i++) rgb.data.fill(grey.data[i], i * 3, i * 3 + 3);
    const rgba = toRgba(rgb);
    const reference = frameCoefficients(grey);
    for (const image of [rgb, rgba]) {
      const coefficients = frameCoefficients(image);
      let worst = 0;
      for (let i = 0; i < reference.length; i++) worst = Math.max(worst, Math.abs(coefficients[i] - reference[i]));
      assert.ok(worst < 1e-3, `${image.channels} channels: coefficients differ by up to ${worst}`);
    }
    // Colour: against the test's own BT.601 luma, rounded to bytes (hence the looser bound): the
    // rounding (±0.5, s.d. 0.29) averages over the pixels of a grid cell, so the bound is ~7 s.d. of that.
    const luma: Image = { width, height, channels: 1, data: new Uint8ClampedArray(width * height) };
    for (let i = 0; i < luma.data.length; i++) luma.data[i] = 0.299 * colour.data[i * 3] + 0.587 * colour.data[i * 3 + 1] + 0.114 * colour.data[i * 3 + 2];
    const lumaCoefficients = frameCoefficients(luma);
    for (const image of [colour, toRgba(colour)]) {
      const coefficients = frameCoefficients(image);
      let worst = 0;
      for (let i = 0; i < lumaCoefficients.length; i++) worst = Math.max(worst, Math.abs(coefficients[i] - lumaCoefficients[i]));
      const bound = 2 / Math.sqrt((width / 480) * (height / 270));
      assert.ok(worst < bound, `colour, ${image.channels} channels: coefficients differ by up to ${worst} (bound ${bound.toFixed(2)})`);
    }
    // At strength 150 the residual is beyond the kernels' 16-bit range and the TypeScript loops run;
    // grey always takes the general float path.
    const key = keyFrom(12);
    for (const strength of [DEFAULT_VIDEO_STRENGTH, 150]) {
      const markedGrey = marked(grey, key, PAYLOAD, { strength });
      for (const image of [rgb, rgba]) {
        const out = marked(image, key, PAYLOAD, { strength });
        let differ = 0;
        for (let i = 0; i < grey.data.length; i++) {
          const expected = markedGrey.data[i];
          for (let c = 0; c < 3; c++) {
            const got = out.data[i * image.channels + c];
            assert.ok(Math.abs(got - expected) <= 1, `strength ${strength}, ${image.channels} channels, pixel ${i}: ${got} vs ${expected}`);
            if (got !== expected) differ++;
          }
          if (image.channels === 4) assert.equal(out.data[i * 4 + 3], image.data[i * 4 + 3], `alpha of pixel ${i}`);
        }
        // Deltas that land near .5 may round either way (fixed point against float); anything more is a bug.
        assert.ok(differ < grey.data.length * 3 * 1e-2, `strength ${strength}, ${image.channels} channels: ${differ} bytes differ`);
      }
    }
  });
}

test('the wrong key finds nothing in a marked frame', async () => {
  const clip = await syntheticClip({ width: 640, height: 360, seed: 5 });
  const frames = [0, 1, 2, 3].map((i) => marked(clip.frame(i), keyFrom(5)));
  const coefficients = frames.map(frameCoefficients);
  for (let k = 0; k < 200; k++) {
    const key = keyFrom(1000 + k);
    const detection = decideWatermark(
      coefficients.map((c) => correlateCoefficients(key, c)),
      { fps: 2 },
    );
    assert.equal(detection.found, false);
    assert.equal(detection.pValue, 1);
  }
  assert.deepEqual(decideWatermark(frames.map((f) => measureFrame(keyFrom(5), f))).payload, PAYLOAD);
});

test('unmarked frames never decide found, over many keys', async () => {
  const clips = await Promise.all([21, 22, 23].map((seed) => syntheticClip({ width: 480, height: 270, seed })));
  const perClip = clips.map((clip) => Array.from({ length: 12 }, (_, i) => frameCoefficients(clip.frame(i))));
  let decisions = 0;
  for (let k = 0; k < 700; k++) {
    const key = keyFrom(5000 + k);
    for (const coefficients of perClip) {
      const detection = decideWatermark(
        coefficients.map((c) => correlateCoefficients(key, c)),
        { fps: 4 },
      );
      assert.equal(detection.found, false, `key ${k}`);
      decisions += detection.decisions;
    }
  }
  assert.ok(decisions > 2100 * 5, `${decisions} decisions`);
});

test('measureFrame is frameCoefficients then correlateCoefficients; the detector wraps both', async () => {
  const key = keyFrom(6);
  const clip = await syntheticClip({ width: 320, height: 240, seed: 6 });
  const embedder = new WatermarkEmbedder(key, PAYLOAD);
  const detector = new WatermarkDetector(key);
  for (let i = 0; i < 5; i++) {
    const frame = clip.frame(i);
    embedder.embed(frame);
    const soft = detector.add(frame);
    assert.deepEqual(soft, correlateCoefficients(key, frameCoefficients(frame)));
    assert.deepEqual(soft, measureFrame(key, frame));
  }
  assert.equal(detector.frameCount, 5);
  assert.deepEqual(detector.detection(30).payload, PAYLOAD);
});

test('decideWatermark finds a payload present in only part of a clip and reports the window', () => {
  const bits = encodePayload(PAYLOAD);
  const random = seededRandom(7);
  const inverted = bits.map((b) => 1 - b);
  assert.equal(decodePayload(inverted), undefined);
  // Frames 60..89 carry the payload; the rest carry its (invalid) inverse, so the whole clip fails.
  const frames: Float32Array[] = [];
  for (let i = 0; i < 120; i++) {
    const inside = i >= 60 && i < 90;
    frames.push(Float32Array.from(bits, (b) => random() - 0.5 + (inside ? (b ? 2 : -2) : b ? -1 : 1)));
  }
  const detection = decideWatermark(frames, { fps: 30 });
  assert.equal(detection.found, true);
  assert.deepEqual(detection.payload, PAYLOAD);
  assert.ok(detection.firstFrame >= 45 && detection.firstFrame <= 60, `first frame ${detection.firstFrame}`);
  assert.equal(detection.framesUsed, 30);
  assert.ok(detection.decisions > 1);
  assert.equal(detection.pValue, detection.decisions * 2 ** detection.flipsAllowed * 2 ** -32);

  const none = decideWatermark(frames.slice(0, 50), { fps: 30 });
  assert.equal(none.found, false);
  assert.equal(none.framesUsed, 50);
  assert.equal(none.firstFrame, 0);
  assert.equal(none.bits.length, 64);
  assert.equal(decideWatermark([]).found, false);
});

test('soft decoding corrects up to the allowed number of the least reliable bits, and no more', () => {
  const bits = encodePayload(PAYLOAD);
  const random = seededRandom(8);
  const strong = (b: number): number => (bits[b] ? 1 : -1) * (2 + random());
  for (let wrong = 1; wrong <= 4; wrong++) {
    const sum = Float64Array.from(bits, (_, b) => strong(b));
    // The wrong bits are the least reliable ones: small sums of the wrong sign.
    for (let k = 0; k < wrong; k++) sum[k * 13] = (bits[k * 13] ? -1 : 1) * 0.1 * (k + 1);
    assert.equal(decodeWindow(sum, 0), undefined, `${wrong} wrong, no flips`);
    const decoded = decodeWindow(sum, 4);
    assert.deepEqual(decoded?.payload, PAYLOAD, `${wrong} wrong`);
    assert.equal(decoded?.bitsFlipped, wrong);
    assert.deepEqual(Array.from(decoded!.bits), Array.from(bits));
    if (wrong > 1) assert.equal(decodeWindow(sum, wrong - 1), undefined, `${wrong} wrong, ${wrong - 1} flips`);
  }
  // A confidently wrong bit is not among the weakest, so it is not corrected.
  const sum = Float64Array.from(bits, (_, b) => strong(b));
  sum[5] = -sum[5];
  assert.equal(decodeWindow(sum, 4), undefined);
  // Random windows: 20,000 × 16 candidates at 2^-32 each, so none should pass.
  for (let t = 0; t < 20_000; t++)
    assert.equal(
      decodeWindow(
        Float64Array.from({ length: 64 }, () => random() - 0.5),
        4,
      ),
      undefined,
    );
  // The flips shrink as windows grow so that candidates × 2^-32 stays under 1e-6.
  assert.equal(flipsFor(1), 4);
  assert.equal(flipsFor(10), 4);
  assert.equal(flipsFor(1800), 1);
  assert.equal(flipsFor(5000), 0);
  for (const windows of [1, 10, 100, 1000, 4000]) assert.ok(windows * 2 ** flipsFor(windows) * 2 ** -32 <= 1e-6);
  assert.throws(() => decodeWindow(new Float64Array(63), 1), /64 sums/);
});

test('bad keys, sizes and options are refused with clear messages', () => {
  assert.throws(() => new WatermarkEmbedder(new Uint8Array(16), PAYLOAD), /key must be a Uint8Array of 32 bytes, got 16 bytes/);
  assert.throws(() => new WatermarkEmbedder(keyFrom(1), PAYLOAD, { strength: 0 }), /strength must be a positive number/);
  assert.throws(() => new WatermarkEmbedder(keyFrom(1), PAYLOAD, { media: 'audio' as 'video' }), /media must be 'video' or 'still', got audio/);
  const tiny: Image = { width: 8, height: 8, channels: 3, data: new Uint8ClampedArray(192) };
  assert.throws(() => new WatermarkEmbedder(keyFrom(1), PAYLOAD).embed(tiny), /at least 16×16 pixels, got 8×8/);
  assert.throws(() => decideWatermark([new Float32Array(63)]), /64 soft values/);
  assert.throws(() => decideWatermark([], { fps: 0 }), /fps must be a positive number/);
});

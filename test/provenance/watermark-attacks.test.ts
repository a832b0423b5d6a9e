/**
 * The watermark through real re-encodes (bundled ffmpeg, preset medium, yuv420p) and still-image
 * recompression. Short synthetic clips keep the whole file near half a minute on two cores.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { cloneImage } from '../../src/core/image.js';
import { encodePayload, type WatermarkPayload } from '../../src/provenance/payload.js';
import { WatermarkEmbedder, decideWatermark, decodeWindow, measureFrame } from '../../src/provenance/watermark.js';
import { decodeRgb, loadFixture } from '../helpers/fixtures.js';
import { ATTACKS, PHOTOS, roundTrip, seededRandom, syntheticClip, type Attack } from '../helpers/watermark-clips.js';

const FPS = 30;

function keyFrom(seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256));
}

interface Run {
  perFrame: Float32Array[];
  payload: WatermarkPayload;
}

async function markAndAttack(seed: number, width: number, height: number, frames: number, attack: Attack): Promise<Run> {
  const key = keyFrom(seed);
  const payload = { assetId: (seed * 2654435761) >>> 0, version: 1 };
  const clip = await syntheticClip({ width, height, seed });
  const embedder = new WatermarkEmbedder(key, payload);
  const perFrame: Float32Array[] = [];
  const decoded = await roundTrip({
    width,
    height,
    fps: FPS,
    frames,
    attack,
    source: (i) => {
      const frame = clip.frame(i);
      embedder.embed(frame);
      return frame;
    },
    onDecoded: (image) => perFrame.push(measureFrame(key, image)),
  });
  assert.equal(decoded, frames, 'every frame came back');
  return { perFrame, payload };
}

/**
 * Sliding windows of `size` frames (step half a window, tail included): how many decode to the
 * payload with the detector's rule for a clip this long (soft decoding included), and the mean
 * bit accuracy of their hard bits.
 */
function windows(run: Run, size: number): { decoded: number; total: number; accuracy: number } {
  const bits = encodePayload(run.payload);
  const flips = decideWatermark(run.perFrame, { fps: FPS }).flipsAllowed;
  const n = run.perFrame.length;
  const starts: number[] = [];
  for (let s = 0; s + size <= n; s += Math.max(1, size >> 1)) starts.push(s);
  if (starts[starts.length - 1] + size < n) starts.push(n - size);
  let decoded = 0;
  let matching = 0;
  for (const s of starts) {
    const sum = new Float32Array(64);
    for (let f = s; f < s + size; f++) for (let b = 0; b < 64; b++) sum[b] += run.perFrame[f][b];
    const hard = Array.from(sum, (v) => (v > 0 ? 1 : 0));
    if (decodeWindow(sum, flips)?.payload.assetId === run.payload.assetId) decoded++;
    matching += hard.filter((v, b) => v === bits[b]).length;
  }
  return { decoded, total: starts.length, accuracy: matching / (64 * starts.length) };
}

/** Each attack's clip is encoded once and shared by the tests that read it. */
const runs = new Map<string, Promise<Run>>();
function attacked(name: keyof typeof ATTACKS, seed: number, width: number, height: number, frames: number): Promise<Run> {
  let run = runs.get(name);
  if (!run) {
    run = markAndAttack(seed, width, height, frames, ATTACKS[name]);
    runs.set(name, run);
  }
  return run;
}

const h264 = (): Promise<Run> => attacked('h264', 101, 1920, 1080, 75);
const h265 = (): Promise<Run> => attacked('h265', 102, 1920, 1080, 45);
const brightness = (): Promise<Run> => attacked('brightness', 103, 1280, 720, 60);
const downscale = (): Promise<Run> => attacked('downscale', 104, 1920, 1080, 60);

function assertEveryWindowDecodes(run: Run, seconds: number): void {
  const result = windows(run, Math.min(run.perFrame.length, seconds * FPS));
  assert.equal(result.decoded, result.total, `${seconds}-s windows that decode: ${result.decoded}/${result.total} (bit accuracy ${(result.accuracy * 100).toFixed(1)} %)`);
  const detection = decideWatermark(run.perFrame, { fps: FPS });
  assert.deepEqual(detection.payload, run.payload);
  assert.ok(detection.pValue <= 1e-8, `p ${detection.pValue}`);
}

test('H.264 CRF 28, 1080p panning clip: every 1-s window decodes all 64 bits', async () => {
  assertEveryWindowDecodes(await h264(), 1);
});

test('H.265 CRF 28, 1080p panning clip: every 1-s window decodes all 64 bits', async () => {
  assertEveryWindowDecodes(await h265(), 1);
});

test('brightness +10 %, contrast 0.9, CRF 23 (720p): every 1-s window decodes all 64 bits', async () => {
  assertEveryWindowDecodes(await brightness(), 1);
});

test('0.5× downscale + CRF 23, 1080p: every 2-s window decodes all 64 bits', async () => {
  assertEveryWindowDecodes(await downscale(), 2);
});

test('stills: every bit back from one frame after JPEG q75 + 0.5× resize (both orders), fixture photos', async () => {
  for (const [index, name] of PHOTOS.entries()) {
    const key = keyFrom(200 + index);
    const payload = { assetId: 0x5eed0000 + index, version: 1 };
    const photo = await loadFixture(name);
    const marked = cloneImage(photo);
    new WatermarkEmbedder(key, payload, { media: 'still' }).embed(marked);
    const raw = sharp(Buffer.from(marked.data.buffer, marked.data.byteOffset, marked.data.length), { raw: { width: marked.width, height: marked.height, channels: 3 } });
    const half = [Math.round(marked.width / 2), Math.round(marked.height / 2)] as const;
    const attacked = [
      await sharp(await raw.clone().jpeg({ quality: 75 }).toBuffer())
        .resize(...half)
        .png()
        .toBuffer(),
      await raw
        .clone()
        .resize(...half)
        .jpeg({ quality: 75 })
        .toBuffer(),
    ];
    for (const file of attacked) {
      const detection = decideWatermark([measureFrame(key, await decodeRgb(file))]);
      assert.deepEqual(detection.payload, payload, name);
      // The unmarked photo gives nothing with the same key.
      assert.equal(decideWatermark([measureFrame(key, photo)]).found, false);
    }
  }
});

/**
 * The shot-change detector on synthetic clips: a hard cut between two clips is found at its first
 * frame, and nothing within clips that zoom, pan, flash or are noisy; sizes, channels, reset, options.
 */

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { LiveswapError } from '../../src/core/errors.js';
import { toRgba, type Image } from '../../src/core/image.js';
import { readFrames } from '../../src/node/media/ffmpeg-read.js';
import { DEFAULT_SHOT_CHANGE_OPTIONS, ShotChangeDetector } from '../../src/pipeline/shot-change.js';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES } from '../helpers/fixtures.js';

const PHOTOS = ['grace_hopper.jpg', 'astronaut.png', 'camera.png'] as const;
const WIDTH = 640;
const HEIGHT = 360;

/** Indices of the frames the detector calls cuts. */
function cuts(frames: readonly Image[], detector = new ShotChangeDetector()): number[] {
  return frames.flatMap((frame, i) => (detector.next(frame) ? [i] : []));
}

async function clipFrames(photo: string, frames: number): Promise<Image[]> {
  const path = await makeClip({ photo, motion: 'zoom', noise: 10, width: WIDTH, height: HEIGHT, frames });
  try {
    const out: Image[] = [];
    for await (const frame of readFrames(path)) out.push(frame);
    return out;
  } finally {
    await rm(dirname(path), { recursive: true, force: true });
  }
}

/** A pan: a window of the photo (scaled to cover a wider picture) moving `speed` px right per frame. */
async function pan(photo: string, speed: number, frames: number): Promise<Image[]> {
  const wide = WIDTH + speed * frames;
  const { data, info } = await sharp(`${FIXTURES}${photo}`).removeAlpha().resize(wide, HEIGHT, { fit: 'cover' }).raw().toBuffer({ resolveWithObject: true });
  return Array.from({ length: frames }, (_, k) => {
    const out = new Uint8ClampedArray(WIDTH * HEIGHT * 3);
    for (let y = 0; y < HEIGHT; y++) out.set(data.subarray((y * info.width + k * speed) * 3, (y * info.width + k * speed + WIDTH) * 3), y * WIDTH * 3);
    return { width: WIDTH, height: HEIGHT, channels: 3, data: out };
  });
}

/** The same frames with a flash of light (or a dip) on some of them: every channel times `gain`. */
function flashed(frames: readonly Image[], at: readonly number[], gain: number): Image[] {
  return frames.map((frame, i) => (at.includes(i) ? { ...frame, data: frame.data.map((v) => v * gain) } : frame));
}

describe('ShotChangeDetector', () => {
  const clips = new Map<string, Image[]>();
  before(async () => {
    for (const photo of PHOTOS) clips.set(photo, await clipFrames(photo, 24));
  });
  after(() => clips.clear());
  const clip = (photo: string): Image[] => clips.get(photo)!;

  test('finds a hard cut between two moving clips at the first frame of the second, and only there', () => {
    for (const a of PHOTOS) {
      for (const b of PHOTOS) {
        if (a === b) continue;
        const joined = [...clip(a).slice(0, 12), ...clip(b).slice(12)];
        assert.deepEqual(cuts(joined), [12], `${a} → ${b}`);
      }
    }
  });

  test('finds no cut within clips that zoom with noise, pan (up to 24 px a frame at 640 px) or flash', async () => {
    for (const photo of PHOTOS) {
      assert.deepEqual(cuts(clip(photo)), [], `${photo}: zoom and noise`);
      for (const speed of [4, 12, 24]) assert.deepEqual(cuts(await pan(photo, speed, 16)), [], `${photo}: pan of ${speed} px a frame`);
      // Stage lights: one and two bright (or dark) frames, then back.
      for (const gain of [1.6, 0.5]) assert.deepEqual(cuts(flashed(clip(photo), [8, 15, 16], gain)), [], `${photo}: flashes × ${gain}`);
    }
  });

  test('each measure alone is not enough: a flash changes tones but not structure', () => {
    const detector = new ShotChangeDetector();
    const frames = flashed(clip('astronaut.png'), [10], 1.6);
    for (const frame of frames.slice(0, 11)) detector.next(frame);
    const { structure, histogram, difference, level, cut } = detector.last;
    assert.equal(cut, false);
    assert.ok(histogram >= DEFAULT_SHOT_CHANGE_OPTIONS.minHistogram && difference >= DEFAULT_SHOT_CHANGE_OPTIONS.minJump * level, `tones ${histogram}, jump ${difference / level}`);
    assert.ok(structure < 0.1, `structure ${structure}`);
  });

  test('reads RGB, RGBA and grey alike; the first frame is no cut, a new size is, reset forgets the stream', () => {
    const joined = [...clip('grace_hopper.jpg').slice(0, 6), ...clip('camera.png').slice(6, 12)];
    assert.deepEqual(cuts(joined.map(toRgba)), [6]);
    const grey = joined.map((f): Image => ({ width: f.width, height: f.height, channels: 1, data: f.data.filter((_, i) => i % 3 === 1) }));
    assert.deepEqual(cuts(grey), [6]);

    const detector = new ShotChangeDetector();
    const small: Image = { width: 320, height: 180, channels: 3, data: new Uint8ClampedArray(320 * 180 * 3).fill(90) };
    assert.equal(detector.next(joined[0]!), false, 'the first frame');
    assert.equal(detector.next(small), true, 'another size');
    detector.reset();
    assert.equal(detector.next(joined[7]!), false, 'the first frame after reset');
    assert.equal(detector.next(joined[8]!), false);
  });

  test('black frames: a cut to and from black, none between two black frames', () => {
    const black: Image = { width: WIDTH, height: HEIGHT, channels: 3, data: new Uint8ClampedArray(WIDTH * HEIGHT * 3) };
    const frames = [...clip('astronaut.png').slice(0, 5), black, black, ...clip('astronaut.png').slice(5, 10)];
    assert.deepEqual(cuts(frames), [5, 7]);
  });

  test('costs well under a millisecond at 640×360 and a few at 1080p', async () => {
    const big = await sharp(`${FIXTURES}astronaut.png`).removeAlpha().resize(1920, 1080, { fit: 'cover' }).raw().toBuffer();
    const frames: [string, Image, number][] = [
      ['640×360', clip('astronaut.png')[0]!, 1],
      ['1920×1080', { width: 1920, height: 1080, channels: 3, data: new Uint8ClampedArray(big.buffer, big.byteOffset, big.length) }, 4],
    ];
    for (const [name, frame, limit] of frames) {
      const detector = new ShotChangeDetector();
      for (let i = 0; i < 5; i++) detector.next(frame);
      const runs = 50;
      const start = performance.now();
      for (let i = 0; i < runs; i++) detector.next(frame);
      const ms = (performance.now() - start) / runs;
      assert.ok(ms < limit, `${name}: ${ms.toFixed(3)} ms a frame`);
    }
  });

  test('options are checked with messages naming them', () => {
    const bad = (options: object, pattern: RegExp) =>
      assert.throws(
        () => new ShotChangeDetector(options),
        (error: unknown) => error instanceof LiveswapError && error.kind === 'usage' && pattern.test(error.message),
      );
    bad({ minStructure: 1.5 }, /minStructure/);
    bad({ minHistogram: -0.1 }, /minHistogram/);
    bad({ minJump: 0.5 }, /minJump/);
    assert.deepEqual(new ShotChangeDetector({ minJump: 4 }).options, { ...DEFAULT_SHOT_CHANGE_OPTIONS, minJump: 4 });
  });
});

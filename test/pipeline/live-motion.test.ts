/**
 * The live session's tracker looks where a moving face is going: the region handed to FaceMesh is
 * moved on by the face's motion since it was last seen, and a face that stands still is looked for
 * where it was.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Image } from '../../src/core/image.js';
import type { Face } from '../../src/face/face.js';
import { DEFAULT_LIVE_SETTINGS } from '../../src/pipeline/live-options.js';
import { LiveSession } from '../../src/pipeline/live.js';
import { liveEngineFixture } from '../helpers/live-engine.js';

/** The mean x of a face's landmarks (where a tracker's region is centred, near enough). */
const centreX = (face: Face): number => {
  let sum = 0;
  for (let i = 0; i < face.landmarks.length; i += 3) sum += face.landmarks[i]!;
  return sum / (face.landmarks.length / 3);
};

/** `image` moved right by `dx` pixels (what it uncovers filled with the border's grey). */
function shifted(image: Image, dx: number): Image {
  const { width, height } = image;
  const data = new Uint8ClampedArray(width * height * 4).fill(60);
  for (let y = 0; y < height; y++) {
    const row = y * width * 4;
    data.set(image.data.subarray(row, row + (width - dx) * 4), row + dx * 4);
  }
  return { width, height, channels: 4, data };
}

describe('LiveSession: the tracker looks ahead of a moving face', () => {
  const fx = liveEngineFixture(640, 360);

  /** Runs `frames` frames 33 ms apart, the face moved `step` pixels right on each; the x the tracker was asked at and found the face at, per tracked frame. */
  async function follow(step: number, frames: number): Promise<{ asked: number; found: number; before: number }[]> {
    const calls: { asked: number; found: number; before: number }[] = [];
    let last: number | undefined;
    const watched = {
      ...fx.engine,
      track: async (image: Image, face: Face) => {
        const found = await fx.engine.track!(image, face);
        if (found && last !== undefined) calls.push({ asked: centreX(face), found: centreX(found), before: last });
        return found;
      },
    };
    const live = new LiveSession(watched, { ...DEFAULT_LIVE_SETTINGS, detectEvery: 100, smoothing: false }, false);
    await live.addSource(1, 'grace.jpg', fx.source);
    for (let i = 0; i < frames; i++) {
      const result = await live.process(shifted(fx.camera, 40 + i * step), i * 33);
      assert.equal(result.faces.length, 1, `frame ${i}: the face is followed`);
      const box = result.faces[0]!.box;
      last = box[0] + box[2] / 2;
    }
    live.close();
    return calls;
  }

  it('moves the region by the face’s motion, and keeps it where it was for a face standing still', async () => {
    const moving = await follow(9, 6);
    assert.ok(moving.length >= 3, `tracked on ${moving.length} frames`);
    for (const { asked, found, before } of moving.slice(1)) {
      // Seen at `before` on the last frame and found ~9 px further now: looked for within 3 px of where it was found.
      assert.ok(found - before > 6, `the face moved (${before.toFixed(1)} → ${found.toFixed(1)})`);
      assert.ok(Math.abs(asked - found) < 3, `looked for at ${asked.toFixed(1)}, found at ${found.toFixed(1)} (last seen at ${before.toFixed(1)})`);
    }
    const still = await follow(0, 5);
    for (const { asked, found } of still) assert.ok(Math.abs(asked - found) < 1.5, `a still face is looked for where it is (${asked.toFixed(1)} vs ${found.toFixed(1)})`);
  });
});

/**
 * TalkClip's face following across passes, with a scripted finder on a clip whose frames say
 * their own number (frame i is a flat grey of 10 + 20·i): the planner follows a face only from the
 * frame just before, never from another part of the clip.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Image } from '../../src/core/image.js';
import type { Face } from '../../src/face/face.js';
import { ffmpegPath } from '../../src/node/media/ffmpeg-binary.js';
import type { NodeSwapper } from '../../src/node/jobs/swapper.js';
import { TalkClip } from '../../src/node/jobs/talk-clip.js';
import { makeFace } from '../helpers/synthetic-face.js';

const FRAMES = 12;
const WIDTH = 64;
const HEIGHT = 48;
/** Frames with a face in them; in 3–7 there is none (the detector finds none, the tracker loses it). */
const WITH_FACE = new Set([0, 1, 2, 8, 9, 10, 11]);

/** The clip frame an image is (its grey level). */
const frameOf = (image: Image): number => Math.round((image.data[(HEIGHT / 2) * WIDTH * image.channels]! - 10) / 20);
/** A face tagged with the frame it was found in (its box's x). */
const faceIn = (frame: number): Face => makeFace(frame, 10, 24);

describe('TalkClip following its face', () => {
  let dir: string;
  let clip: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-talk-clip-'));
    clip = join(dir, 'numbered.mp4');
    const raw = Buffer.alloc(FRAMES * WIDTH * HEIGHT);
    for (let f = 0; f < FRAMES; f++) raw.fill(10 + 20 * f, f * WIDTH * HEIGHT, (f + 1) * WIDTH * HEIGHT);
    const made = spawnSync(
      ffmpegPath(),
      ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', `${WIDTH}x${HEIGHT}`, '-r', '25', '-i', '-', '-c:v', 'libx264', '-qp', '0', '-pix_fmt', 'yuv420p', '-y', clip],
      { input: raw },
    );
    assert.equal(made.status, 0, made.stderr.toString());
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('follows a face only from the frame just before: a frame not kept from the first pass is looked for afresh on the next', async () => {
    const tracked: { frame: number; from: number }[] = [];
    const detected: number[] = [];
    const finder = {
      analyze: async (image: Image) => {
        const frame = frameOf(image);
        detected.push(frame);
        return WITH_FACE.has(frame) ? [faceIn(frame)] : [];
      },
      track: async (image: Image, face: Face) => {
        const frame = frameOf(image);
        tracked.push({ frame, from: face.box[0] });
        return WITH_FACE.has(frame) ? faceIn(frame) : undefined;
      },
    } as unknown as NodeSwapper;
    const player = await TalkClip.open(clip, { size: WIDTH, fps: 25 });
    try {
      const found: (number | undefined)[] = [];
      for (let f = 0; f < 2 * FRAMES; f++) {
        const frame = await player.next();
        assert.equal(frameOf(frame.image), f % FRAMES, 'the frames decode to their own numbers');
        found.push((await player.faceOf(frame, finder))?.box[0]);
      }
      // A frame shows its own face or none (while the face is missing the detector looks at most
      // every fifth frame, so a face can come back a few frames late); never a face from elsewhere.
      found.forEach((face, f) =>
        assert.ok(face === undefined || (face === f % FRAMES && WITH_FACE.has(face)), `frame ${f} shows the face of frame ${face}: ${JSON.stringify(found)}`),
      );
      assert.deepEqual(found.slice(0, 3), [0, 1, 2]);
      for (const call of tracked) assert.equal(call.from, call.frame - 1, `frame ${call.frame} was tracked from frame ${call.from}`);
      // While the face is missing on the first pass the detector looks at most every fifth frame
      // (0, 5, 10), so frames 3–4 and 6–9 keep no face; on the second pass the first of them is
      // looked for afresh, not tracked from frame 11.
      assert.deepEqual(detected.slice(0, 3), [0, 5, 10], `frames the detector looked at: ${detected.join(' ')}`);
      assert.equal(detected[3], 3, `frames the detector looked at: ${detected.join(' ')}`);
      assert.ok(player.stats.cached > 0, 'the second pass reuses what the first found');
    } finally {
      await player.close();
    }
  });
});

/** Stability measures on real clips: a still face swapped frame by frame stays still. */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { probeVideo } from '../../src/node/media/ffmpeg.js';
import { makeStaticClip } from '../../src/node/eval/eval-set.js';
import { evaluateVideo } from '../../src/node/eval/eval-video.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { makeClip } from '../helpers/clips.js';
import { loadFixture, TEST_HOME } from '../helpers/fixtures.js';

let swapper: NodeSwapper;
let dir: string;
before(async () => {
  swapper = await createNodeSwapper({ home: TEST_HOME });
  dir = await mkdtemp(join(tmpdir(), 'liveswap-eval-video-'));
});
after(async () => {
  await swapper.close();
  await rm(dir, { recursive: true, force: true });
});

describe('video stability', () => {
  test("the built-in still-face clip has the photo's size and the frames asked for", async () => {
    const photo = await loadFixture('grace_hopper.jpg');
    const path = join(dir, 'still.mp4');
    await makeStaticClip(path, photo, 12);
    const info = await probeVideo(path, { countFrames: true });
    assert.equal(info.width, photo.width & ~1);
    assert.equal(info.frameCount, 12);
  });

  test('a still face swapped frame by frame: every frame swapped, jitter and flicker small', async (t) => {
    const clip = await makeClip({ photo: 'grace_hopper.jpg', width: 480, height: 560, frames: 12, noise: 6, dir, name: 'noisy' });
    const source = await swapper.prepareSource(await loadFixture('astronaut.png'), { sourceFace: undefined, maxPixels: 50e6 });
    const result = await evaluateVideo(clip, 'noisy.mp4', source, 'astronaut', swapper, 'auto');
    t.diagnostic(`jitter ${result.jitterInput.toFixed(3)} → ${result.jitterOutput.toFixed(3)} px, flicker ${result.flickerInput.toFixed(3)} → ${result.flickerOutput.toFixed(3)}`);
    assert.equal(result.frames, 12);
    assert.equal(result.framesWithFace, 12);
    assert.equal(result.swappedFrames, 12);
    // A face that holds still must not start shaking: under a pixel of landmark jitter, and the
    // swapped face changes from frame to frame by at most a few grey levels.
    assert.ok(result.jitterOutput < 1, `output jitter ${result.jitterOutput}`);
    assert.ok(result.flickerOutput < 3, `output flicker ${result.flickerOutput}`);
  });
});

/**
 * A talking face in a video, given another identity in the same pass: the face is followed in
 * every frame (the clip, shorter than the speech, plays again from its start), its mouth follows
 * the plan, and the sound ends within a frame of the pictures. Real flite and ffmpeg; skipped,
 * with the reason, only where flite is not installed outside CI.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { measureTalk } from '../../src/node/eval/talk-measure.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { planTalkJob, runTalkJob } from '../../src/node/jobs/talk-job.js';
import { pearson } from '../../src/pipeline/talk-sync.js';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES, TEST_HOME } from '../helpers/fixtures.js';
import { closeTalkWorkspace, openTalkWorkspace, skipWithoutFlite } from '../helpers/talk-fixtures.js';

const skip = skipWithoutFlite('the talking-video test');

describe('a talking video face', { skip }, () => {
  let dir: string;
  let swapper: NodeSwapper;
  before(async () => ({ dir, swapper } = await openTalkWorkspace('liveswap-talk-video-')));
  after(() => closeTalkWorkspace({ dir, swapper }));

  it('follows the face in every frame, swaps it, moves its mouth with the speech and keeps the sound in step', async () => {
    const clip = await makeClip({ motion: 'zoom', width: 320, height: 360, fps: 25, frames: 20, dir, name: 'face' });
    const output = join(dir, 'talk.mp4');
    const plan = await planTalkJob({
      face: clip,
      source: join(FIXTURES, 'astronaut.png'),
      text: 'Hello, I am Bob. Papa made a map.',
      voice: 'kal16',
      output,
      marks: { label: true },
      home: join(dir, 'home'),
    });
    const result = await runTalkJob(plan, { open: (runtime) => createNodeSwapper({ ...runtime, home: TEST_HOME }) });
    assert.equal(result.swapped, true);
    assert.ok(result.frames > 20, `${result.frames} frames: the 20-frame clip plays again`);
    assert.equal(result.framesWithFace, result.frames);
    const measured = await measureTalk(output, swapper);
    assert.equal(measured.facesFound, measured.frames);
    assert.ok(Math.abs(measured.audioSeconds - measured.videoSeconds) <= 1 / result.fps, `audio ${measured.audioSeconds} s, video ${measured.videoSeconds} s`);
    const r = pearson(measured.mouth, result.mouth);
    assert.ok(r > 0.7, `measured vs planned opening: r = ${r}`);
  });
});

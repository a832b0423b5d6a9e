/**
 * Which face talks in a video (talk-faces.ts): only a shot's main face, tall enough in the frame and
 * clearly taller than any other face found with it. With a scripted face finder on synthetic frames:
 * a shot of two similar small faces has no speaker (and is searched again only now and then until the
 * next cut); a face dim at first talks once a later look finds it plain;
 * a shot of one large face and small ones makes the large one talk. With the real engine on clips of
 * fixture photos composed side by side: the lip-sync measure (talk-measure.ts) follows the same face.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Image } from '../../src/core/image.js';
import { expression } from '../../src/eval/attributes.js';
import type { Face } from '../../src/face/face.js';
import { measureTalk } from '../../src/node/eval/talk-measure.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { MAIN_FACE_DOMINANCE, mainFace, MIN_MAIN_FACE_SCORE, MIN_MAIN_FACE_SHARE, SPEAKERLESS_RECHECK_FRAMES, talkFacePlanner } from '../../src/node/jobs/talk-faces.js';
import type { FrameFaceFinder } from '../../src/pipeline/video.js';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES, TEST_HOME } from '../helpers/fixtures.js';
import { panShot } from '../helpers/pan-shot.js';
import { scriptedFinder } from '../helpers/scripted-finder.js';
import { makeFace } from '../helpers/synthetic-face.js';

const W = 320;
const H = 180;

/** The face planned on each frame, in order. */
async function follow(finder: FrameFaceFinder, frames: Image[]): Promise<(Face | undefined)[]> {
  const planner = talkFacePlanner(finder);
  const found: (Face | undefined)[] = [];
  for (const [i, image] of frames.entries()) found.push((await planner.plan(image, i / 25, i)).faces[0]?.face);
  return found;
}

describe('the main face', () => {
  it('is the largest face when it is tall enough and clearly taller than the next', () => {
    const h = 360;
    const tall = MIN_MAIN_FACE_SHARE * h;
    assert.equal(mainFace([], h), undefined);
    assert.equal(mainFace([makeFace(0, 0, tall - 1)], h), undefined, 'alone but too small');
    assert.equal(mainFace([makeFace(0, 0, tall)], h)?.box[2], tall, 'alone and tall enough');
    assert.equal(mainFace([{ ...makeFace(0, 0, 120), score: MIN_MAIN_FACE_SCORE - 0.01 }], h), undefined, 'alone and large, but dim: a face the detector is unsure of');
    assert.equal(mainFace([makeFace(0, 0, 72), makeFace(100, 0, 70)], h), undefined, 'two similar faces: an audience');
    assert.equal(mainFace([makeFace(0, 0, 60), makeFace(100, 0, 60 / MAIN_FACE_DOMINANCE + 1)], h), undefined, 'not clearly taller');
    assert.equal(mainFace([makeFace(0, 0, 120), makeFace(100, 0, 40), makeFace(200, 0, 30)], h)?.box[2], 120, 'one large face and small ones');
  });

  it('talks in no frame of a shot of two similar small faces, and the large face talks after the cut', async () => {
    const crowd = await panShot('grace_hopper.jpg', 8, W, H);
    const stage = await panShot('astronaut.png', 6, W, H);
    const script = new Map<Image, Face[]>([
      [crowd[0]!, [makeFace(40, 60, 34), makeFace(200, 64, 32)]],
      // Later in the shot the detector would find only one of them: still no speaker.
      [crowd[4]!, [makeFace(200, 64, 32)]],
      [stage[0]!, [makeFace(100, 20, 90), makeFace(20, 40, 30), makeFace(250, 50, 25)]],
    ]);
    const finder = scriptedFinder(script);
    const found = await follow(finder, [...crowd, ...stage]);
    assert.ok(
      found.slice(0, crowd.length).every((face) => face === undefined),
      'nobody in the audience talks',
    );
    assert.deepEqual(
      finder.detections.map((image) => [...crowd, ...stage].indexOf(image)),
      [0, crowd.length],
      'a shot without a speaker is not searched again until the cut',
    );
    assert.ok(
      found.slice(crowd.length).every((face) => face?.box[2] === 90),
      'after the cut the large face talks, held while tracked',
    );
  });

  it('looks at a shot without a speaker again now and then: a speaker unclear at first still talks once plain', async () => {
    const frames = await panShot('astronaut.png', 2 * SPEAKERLESS_RECHECK_FRAMES + 4, W, H);
    // The one face is dim (turning, blurred) on every frame the detector would see early in the shot;
    // from frame 2 × SPEAKERLESS_RECHECK_FRAMES on it is plain.
    const script = new Map<Image, Face[]>(
      frames.map((image, i) => [image, [{ ...makeFace(100, 20, 90), score: i < 2 * SPEAKERLESS_RECHECK_FRAMES ? MIN_MAIN_FACE_SCORE - 0.2 : 0.95 }]]),
    );
    const finder = scriptedFinder(script);
    const found = await follow(finder, frames);
    assert.deepEqual(
      finder.detections.map((image) => frames.indexOf(image)),
      [0, SPEAKERLESS_RECHECK_FRAMES, 2 * SPEAKERLESS_RECHECK_FRAMES],
      'the detector looks again on every SPEAKERLESS_RECHECK_FRAMES-th frame only',
    );
    assert.ok(
      found.slice(0, 2 * SPEAKERLESS_RECHECK_FRAMES).every((face) => face === undefined),
      'nothing talks while the face is dim',
    );
    assert.ok(
      found.slice(2 * SPEAKERLESS_RECHECK_FRAMES).every((face) => face?.box[2] === 90),
      'the face talks from the look that found it plain, held while tracked',
    );
  });
});

/** A 320×240 frame with fixture photos pasted on grey at the given heights and places, as a PNG file next to the clip. */
async function composed(file: string, parts: { photo: string; height: number; left: number; top: number }[]): Promise<string> {
  const layers = await Promise.all(
    parts.map(async (p) => ({ input: await sharp(`${FIXTURES}${p.photo}`).removeAlpha().resize({ height: p.height }).png().toBuffer(), left: p.left, top: p.top })),
  );
  await sharp({ create: { width: 320, height: 240, channels: 3, background: '#3c3c3c' } })
    .composite(layers)
    .removeAlpha()
    .png()
    .toFile(file);
  return file;
}

describe('the talk measure', () => {
  let swapper: NodeSwapper;
  const dirs: string[] = [];
  before(async () => {
    swapper = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
  });
  after(async () => {
    await swapper?.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** A 10-frame clip (with a tone) of the composed frame, and that frame as it was composed. */
  async function clipOf(parts: Parameters<typeof composed>[1]): Promise<{ clip: string; frame: Image }> {
    const dir = await mkdtemp(join(tmpdir(), 'liveswap-talk-main-'));
    dirs.push(dir);
    const photo = await composed(join(dir, 'frame.png'), parts);
    const clip = await makeClip({ dir, frames: 10, audioHz: 220, photo });
    const { data, info } = await sharp(photo).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { clip, frame: { width: info.width, height: info.height, channels: 3, data: new Uint8ClampedArray(data) } };
  }

  it('follows the face that talks: none among two similar faces, the large one beside a small one', async () => {
    const pair = await clipOf([
      { photo: 'grace_hopper.jpg', height: 120, left: 30, top: 60 },
      { photo: 'grace_hopper.jpg', height: 110, left: 190, top: 70 },
    ]);
    assert.equal((await swapper.analyze(pair.frame)).length, 2, 'both faces are found');
    assert.equal((await measureTalk(pair.clip, swapper)).facesFound, 0, 'two similar faces: no mouth is measured');

    const stage = await clipOf([
      { photo: 'grace_hopper.jpg', height: 240, left: 0, top: 0 },
      { photo: 'astronaut.png', height: 90, left: 230, top: 140 },
    ]);
    const [large, small] = await swapper.analyze(stage.frame);
    assert.ok(large && small, 'both faces are found');
    const measured = await measureTalk(stage.clip, swapper);
    assert.equal(measured.facesFound, measured.frames, 'the large face is measured on every frame');
    const open = measured.mouth[0]!;
    const [want, other] = [expression(large).mouthOpen, expression(small).mouthOpen];
    assert.ok(Math.abs(open - want) < Math.abs(open - other), `measured ${open}: the large face's ${want}, not the small one's ${other}`);
  });
});

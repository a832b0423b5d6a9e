/**
 * The talk's face following (talk-faces.ts: the video planner set for one face), with a scripted
 * face finder on synthetic frames: the largest face is followed by tracking alone, a face lost is
 * looked for again on that same frame, the detector is throttled while none is found, and a cut
 * starts afresh with the new shot's largest face. The frames are fixture photos panning (a cut:
 * another photo); only the script decides what is found in them.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Image } from '../../src/core/image.js';
import type { Face } from '../../src/face/face.js';
import { talkFacePlanner } from '../../src/node/jobs/talk-faces.js';
import { panShot } from '../helpers/pan-shot.js';
import { scriptedFinder } from '../helpers/scripted-finder.js';
import { makeFace } from '../helpers/synthetic-face.js';

const W = 320;
const H = 180;

/** `frames` frames of a fixture photo drifting right by 1 px a frame (a slow pan). */
const shot = (photo: string, frames: number): Promise<Image[]> => panShot(photo, frames, W, H);

describe('talk face following', () => {
  it('follows the largest face by tracking, looks again on the frame it is lost, and throttles the search while none is found', async () => {
    const frames = await shot('grace_hopper.jpg', 20);
    const big = makeFace(40, 30, 60);
    const small = makeFace(110, 20, 30);
    const script = new Map<Image, Face[]>([
      [frames[0]!, [big, small]],
      [frames[5]!, [big]],
    ]);
    // Lost on frame 5 and found again there; lost for good from frame 8 (the detector finds nothing).
    const lose = new Set<Image>([frames[5]!, ...frames.slice(8)]);
    const finder = scriptedFinder(script, lose);
    const planner = talkFacePlanner(finder, { shotChange: false, searchEvery: 5 });
    const found: (Face | undefined)[] = [];
    for (const [i, image] of frames.entries()) found.push((await planner.plan(image, i / 25, i)).faces[0]?.face);
    assert.equal(found[0]!.box[2], 60, 'the largest face is the one followed');
    assert.ok(found.slice(0, 8).every(Boolean), 'found on every frame up to the loss, frame 5 by the detector on that frame');
    const detected = frames.flatMap((image, i) => (finder.detections.includes(image) ? [i] : []));
    // Frames 0, 5 (lost, looked at again at once), 8 (lost, 3 frames after the last search: throttled until 10), 10 and 15.
    assert.deepEqual(detected, [0, 5, 10, 15]);
    assert.ok(found.slice(8).every((f) => f === undefined));
  });

  it('starts afresh at a cut with the new shot largest face', async () => {
    const first = await shot('grace_hopper.jpg', 6);
    const second = await shot('astronaut.png', 6);
    const script = new Map<Image, Face[]>([
      [first[0]!, [makeFace(20, 20, 50)]],
      [second[0]!, [makeFace(90, 30, 55), makeFace(10, 10, 30)]],
    ]);
    const finder = scriptedFinder(script);
    const planner = talkFacePlanner(finder);
    const found: (Face | undefined)[] = [];
    for (const [i, image] of [...first, ...second].entries()) found.push((await planner.plan(image, i / 25, i)).faces[0]?.face);
    assert.equal(found[5]!.box[0], 20);
    assert.ok(finder.detections.includes(second[0]!), 'the cut is detected afresh');
    assert.equal(found[6]!.box[0], 90, "after the cut the new shot's largest face talks, not the one tracked where the old one was");
    assert.equal(finder.detections.length, 2, 'no detection on a schedule');
  });
});

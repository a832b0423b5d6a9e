/**
 * The live session's face-following policy on its own, with a counting detector and tracker in
 * place of the models: the face-search budget while nothing is followed, a lost face's detections
 * spread over frames while others are tracked, unpainted faces tracked on every other frame, and
 * the tracker's region moved on by a face's motion (into a buffer reused from frame to frame).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { MESH_POINTS, type Face } from '../../src/face/face.js';
import { FollowPolicy, MOTION_MAX_GAP_MS, MOTION_MAX_SHIFT, type FollowBudget, type FollowedTrack } from '../../src/pipeline/follow-policy.js';

const IMAGE: Image = { width: 640, height: 360, channels: 4, data: new Uint8ClampedArray(640 * 360 * 4) };

/** A face of side `size` centred at (cx, cy), its landmarks on a small grid around the centre. */
function faceAt(cx: number, cy: number, size = 100): Face {
  const landmarks = new Float32Array(MESH_POINTS * 3);
  for (let i = 0; i < MESH_POINTS; i++) {
    landmarks[i * 3] = cx + ((i % 20) - 10) * (size / 40);
    landmarks[i * 3 + 1] = cy + (Math.floor(i / 20) - 12) * (size / 50);
    landmarks[i * 3 + 2] = i * 0.25;
  }
  return {
    box: [cx - size / 2, cy - size / 2, size, size],
    score: 0.9,
    meshScore: 0.9,
    kps5: new Float32Array(10),
    landmarks,
    roi: { cx, cy, size, angle: 0 },
  };
}

/** A detector and tracker that count their calls; the tracker finds the face it is given (or nothing, for faces listed in `gone`). */
function countingEngine(detected: () => Face[]) {
  const calls = { detect: 0, track: [] as Face[] };
  const gone = new Set<Face>();
  const engine = {
    detect: (): Promise<Face[]> => {
      calls.detect++;
      return Promise.resolve(detected());
    },
    track: (_image: Image, face: Face): Promise<Face | undefined> => {
      calls.track.push(face);
      return Promise.resolve(gone.has(face) ? undefined : face);
    },
  };
  return { engine, calls, gone };
}

const budget = (over: Partial<FollowBudget> = {}): FollowBudget => ({ detectInterval: 10, searchEvery: 3, onePainted: true, ...over });
const tracked = (trackId: number, raw: Face, observed = true): FollowedTrack => ({ trackId, raw, observed });

describe('FollowPolicy', () => {
  it('while nothing is followed, detects on every searchEvery-th frame only, and at once after searchAtOnce', async () => {
    const { engine, calls } = countingEngine(() => []);
    const policy = new FollowPolicy(engine);
    const ran: boolean[] = [];
    for (let frame = 0; frame < 7; frame++) {
      policy.beginFrame(frame * 33, '640x360', budget());
      const before = calls.detect;
      assert.deepEqual(await policy.find(IMAGE), []);
      ran.push(calls.detect > before);
      policy.endFrame([], calls.detect > before, new Set());
    }
    assert.deepEqual(ran, [true, false, false, true, false, false, true]);
    policy.beginFrame(7 * 33, '640x360', budget());
    await policy.find(IMAGE);
    assert.equal(calls.detect, 3, 'skipped: one frame since the last search');
    policy.searchAtOnce();
    policy.beginFrame(8 * 33, '640x360', budget());
    await policy.find(IMAGE);
    assert.equal(calls.detect, 4, 'searchAtOnce: the detector runs on the next frame');
    // With no search budget, every request is a detection.
    const unbudgeted = countingEngine(() => []);
    const every = new FollowPolicy(unbudgeted.engine);
    for (let frame = 0; frame < 4; frame++) {
      every.beginFrame(frame * 33, '640x360', budget({ searchEvery: 1 }));
      await every.find(IMAGE);
      every.endFrame([], true, new Set());
    }
    assert.equal(unbudgeted.calls.detect, 4);
  });

  it('while a face is lost and another followed, tracks the one still seen between detections, and detects at once when it is gone too', async () => {
    const seen = faceAt(200, 180);
    const lost = faceAt(450, 180);
    const { engine, calls, gone } = countingEngine(() => [seen]);
    const policy = new FollowPolicy(engine);
    policy.beginFrame(0, '640x360', budget());
    await policy.find(IMAGE);
    policy.endFrame([tracked(0, seen), tracked(1, lost, false)], true, new Set([0]));
    // The planner asks again on the next frames (the lost face): the face still seen is tracked instead, twice, then the detector runs.
    const detections: number[] = [];
    for (let frame = 1; frame <= 3; frame++) {
      policy.beginFrame(frame * 33, '640x360', budget());
      const faces = await policy.find(IMAGE);
      assert.equal(faces.length, 1, `frame ${frame}: the face still seen`);
      detections.push(calls.detect);
      policy.endFrame([tracked(0, faces[0]!), tracked(1, lost, false)], frame === 3, new Set([0]));
    }
    assert.deepEqual(detections, [1, 1, 2]);
    assert.equal(calls.track.length, 2);
    // The face still seen is gone too (a cut came with the loss): the detector runs on the same frame.
    gone.add(seen);
    policy.beginFrame(4 * 33, '640x360', budget());
    await policy.find(IMAGE);
    assert.equal(calls.detect, 3);
    assert.equal(calls.track.length, 3);
    // A scheduled detection is not put off.
    const scheduled = countingEngine(() => [seen]);
    const onTime = new FollowPolicy(scheduled.engine);
    onTime.beginFrame(0, '640x360', budget({ detectInterval: 1 }));
    await onTime.find(IMAGE);
    onTime.endFrame([tracked(0, seen), tracked(1, lost, false)], true, new Set([0]));
    onTime.beginFrame(33, '640x360', budget({ detectInterval: 1 }));
    await onTime.find(IMAGE);
    assert.equal(scheduled.calls.detect, 2);
    assert.equal(scheduled.calls.track.length, 0);
  });

  it('with one face painted, tracks a face not painted on every other frame and keeps it in between; with several painted, every frame', async () => {
    const painted = faceAt(200, 180);
    const other = faceAt(450, 180);
    for (const onePainted of [true, false]) {
      const { engine, calls } = countingEngine(() => []);
      const policy = new FollowPolicy(engine);
      const otherTracked: boolean[] = [];
      let faces = [painted, other];
      for (let frame = 0; frame < 6; frame++) {
        policy.beginFrame(frame * 33, '640x360', budget({ onePainted }));
        const next: Face[] = [];
        for (const face of faces) {
          const before = calls.track.length;
          const found = await policy.follow(IMAGE, face);
          assert.ok(found);
          if (face === other) otherTracked.push(calls.track.length > before);
          else assert.equal(calls.track.length, before + 1, 'the painted face is tracked on every frame');
          next.push(found);
        }
        faces = next;
        policy.endFrame([tracked(0, faces[0]!), tracked(1, faces[1]!)], false, new Set([0]));
      }
      // The first frame has no tracks yet (every face is tracked); then track 1 on the frames where (frames ended + 1) is even.
      assert.deepEqual(otherTracked, onePainted ? [true, true, false, true, false, true] : [true, true, true, true, true, true]);
    }
  });

  it('moves the tracker’s region on by the face’s motion, at most a quarter of its side and not after a long gap, reusing one buffer', async () => {
    /** A tracker that records the face it is given and finds `truth`. */
    let truth = faceAt(100, 180);
    const given: Face[] = [];
    const engine = {
      detect: () => Promise.resolve([truth]),
      track: (_image: Image, face: Face) => {
        given.push(face);
        return Promise.resolve(truth);
      },
    };
    const policy = new FollowPolicy(engine);
    let raw = truth;
    policy.beginFrame(0, '640x360', budget());
    policy.endFrame([tracked(0, raw)], true, new Set([0]));
    // The face moves 9 px right every 33 ms.
    for (let frame = 1; frame < 6; frame++) {
      truth = faceAt(100 + frame * 9, 180);
      policy.beginFrame(frame * 33, '640x360', budget());
      const before = raw.landmarks.slice();
      assert.equal(await policy.follow(IMAGE, raw), truth);
      const asked = given.at(-1)!;
      assert.deepEqual(raw.landmarks, before, 'the face given is left as it was');
      if (frame === 1) assert.equal(asked, raw, 'seen once: no motion known, looked for where it was');
      else {
        // Seen moving 9 px in 33 ms: looked for 9 px further on, the y and z values kept.
        assert.notEqual(asked, raw);
        assert.equal(asked.roi, raw.roi);
        for (let i = 0; i < asked.landmarks.length; i += 3) {
          assert.ok(Math.abs(asked.landmarks[i]! - (raw.landmarks[i]! + 9)) < 1e-3, `x of point ${i / 3}`);
          assert.equal(asked.landmarks[i + 1], raw.landmarks[i + 1]);
          assert.equal(asked.landmarks[i + 2], raw.landmarks[i + 2]);
        }
      }
      policy.endFrame([tracked(0, truth)], false, new Set([0]));
      raw = truth;
    }
    const buffers = new Set(given.slice(1).map((face) => face.landmarks));
    assert.equal(buffers.size, 1, 'one landmark buffer for the track, reused on every frame');

    // A fast face (100 px in 33 ms): the shift stops at a quarter of the region's side.
    const fast = new FollowPolicy(engine);
    const first = faceAt(100, 180);
    const second = faceAt(200, 180);
    fast.beginFrame(0, '640x360', budget());
    fast.endFrame([tracked(0, first)], true, new Set([0]));
    fast.beginFrame(33, '640x360', budget());
    fast.endFrame([tracked(0, second)], false, new Set([0]));
    fast.beginFrame(66, '640x360', budget());
    await fast.follow(IMAGE, second);
    assert.equal(given.at(-1)!.landmarks[0], Math.fround(second.landmarks[0]! + 100 * MOTION_MAX_SHIFT));

    // After a gap longer than MOTION_MAX_GAP_MS, the face is looked for where it was.
    fast.beginFrame(33 + MOTION_MAX_GAP_MS + 1, '640x360', budget());
    await fast.follow(IMAGE, second);
    assert.equal(given.at(-1), second);
  });

  it('forgets what was followed: no motion and no lost-face tracking after forget; reports a change of working size', async () => {
    const seen = faceAt(200, 180);
    const { engine, calls } = countingEngine(() => [seen]);
    const policy = new FollowPolicy(engine);
    assert.equal(policy.beginFrame(0, '640x360', budget()), false, 'the first frame is no change');
    await policy.find(IMAGE);
    policy.endFrame([tracked(0, seen), tracked(1, faceAt(450, 180), false)], true, new Set([0]));
    policy.forget();
    assert.equal(policy.beginFrame(33, '640x360', budget()), false);
    await policy.find(IMAGE);
    assert.equal(calls.detect, 2, 'nothing followed is tracked in place of the detection');
    assert.equal(calls.track.length, 0);
    assert.equal(policy.beginFrame(66, '320x180', budget()), true, 'another working size');
    assert.equal(policy.beginFrame(99, '320x180', budget()), false);
  });
});

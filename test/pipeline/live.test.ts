import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { toRgba, type Image } from '../../src/core/image.js';
import { FaceEmbedder } from '../../src/face/embedder.js';
import type { InferenceSession } from '../../src/models/runtime.js';
import { assembleEngine } from '../../src/pipeline/engines.js';
import { LiveSession } from '../../src/pipeline/live.js';
import { resampleRgba } from '../../src/pipeline/working-frame.js';
import { findLabel } from '../../src/provenance/label.js';
import type { MarkSettings } from '../../src/provenance/marks.js';
import { WATERMARK_VERSION } from '../../src/provenance/payload.js';
import { DEFAULT_LIVE_SETTINGS, type ProcessSettings } from '../../src/pipeline/live-options.js';
import { builtinModel } from '../../src/node/models/model-cache.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { framedPhoto } from '../helpers/clips.js';
import { FIXTURES, TEST_HOME, decodeRgb, loadFixture, meanAbsDiff } from '../helpers/fixtures.js';

const copy = (image: Image): Image => ({ ...image, data: new Uint8ClampedArray(image.data) });

/** Two people side by side, 640×360 RGBA. */
async function twoPeople(): Promise<Image> {
  const half = (file: string) => sharp(`${FIXTURES}${file}`).removeAlpha().resize(320, 360, { fit: 'contain', background: '#3c3c3c' }).png().toBuffer();
  const png = await sharp({ create: { width: 640, height: 360, channels: 3, background: '#000' } })
    .composite([
      { input: await half('grace_hopper.jpg'), left: 0, top: 0 },
      { input: await half('astronaut.png'), left: 320, top: 0 },
    ])
    .png()
    .toBuffer();
  return toRgba(await decodeRgb(png));
}

/** These tests compare pixels of the swap itself; the marks stage has its own test. */
const UNMARKED = false;

const settings = (over: Partial<ProcessSettings> = {}): ProcessSettings => ({ ...DEFAULT_LIVE_SETTINGS, ...over });

describe('LiveSession (the live app pipeline, on Node)', () => {
  const runtime = createNodeRuntime({ threads: 1 });
  const sessions: InferenceSession[] = [];
  let engine: ReturnType<typeof assembleEngine>;
  let embedLoads = 0;
  const load = async (id: 'blazeface' | 'facemesh' | 'faceres') => {
    const model = await builtinModel(id, TEST_HOME);
    const session = await runtime.load(model.bytes, model.path);
    sessions.push(session);
    return session;
  };
  const loadEmbed = async () => {
    embedLoads++;
    const embedder = FaceEmbedder.create(await load('faceres'));
    return (image: Image, face: Parameters<FaceEmbedder['embed']>[1]) => embedder.embed(image, face);
  };
  let camera: Image;
  let source: Image;

  before(async () => {
    engine = assembleEngine({ detector: await load('blazeface'), mesh: await load('facemesh') });
    camera = toRgba(await framedPhoto('astronaut.png', 640, 360));
    source = toRgba(await loadFixture('grace_hopper.jpg'));
  });
  after(() => Promise.all(sessions.map((s) => s.close())));

  it('marks every frame as the last stage: the label switch takes effect on the next frame', async () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
    const marks = (label: boolean): MarkSettings => ({
      label: label ? {} : false,
      watermark: { key, payload: { assetId: 0x0badcafe, version: WATERMARK_VERSION } },
      media: 'video',
    });
    const live = new LiveSession(engine, settings(), marks(true));
    await live.addSource(1, 'grace.jpg', source);
    const frame = copy(camera);
    const result = await live.process(frame, 0);
    assert.deepEqual(result.marks, { label: true, watermark: true, watermarkId: '0badcafe' });
    assert.ok(findLabel(frame), 'the label is on the frame');
    live.setMarks(marks(false));
    const next = copy(camera);
    assert.equal((await live.process(next, 33)).marks.label, false);
    assert.equal(findLabel(next), undefined, 'no label once switched off');
    live.close();
  });

  it('paints the source on the camera face, in place, and leaves the rest and the alpha alone', async () => {
    const live = new LiveSession(engine, settings(), UNMARKED);
    const state = await live.addSource(1, 'grace.jpg', source);
    assert.equal(state.error, undefined);
    assert.equal(state.faces.length, 1);
    assert.equal(live.mainSource, 1, 'the first usable photo becomes the main source');
    const frame = copy(camera);
    const result = await live.process(frame, 0);
    assert.equal(result.detected, true);
    assert.equal(result.faces.length, 1);
    const [face] = result.faces;
    assert.equal(face.sourceId, 1);
    const [x, y, w, h] = face.box;
    const r = Math.round;
    const inside = meanAbsDiff(frame, camera, r(x + w * 0.25), r(y + h * 0.3), r(x + w * 0.75), r(y + h * 0.8));
    assert.ok(inside > 8, `the face changed (mean difference ${inside.toFixed(1)})`);
    assert.ok(meanAbsDiff(frame, camera, 0, 0, r(x - w * 0.3), 360) < 0.5, 'left of the face is untouched');
    for (let i = 3; i < frame.data.length; i += 4) if (frame.data[i] !== 255) assert.fail(`alpha changed at pixel ${(i - 3) / 4}`);
    assert.ok(result.timings.warp > 0 && result.timings.detect > 0);
  });

  it('at a lower working resolution: paints the face found on the smaller copy, keeps the rest sharp, marks at full size', async () => {
    const full = toRgba(await framedPhoto('astronaut.png', 1280, 720));
    const live = new LiveSession(engine, settings(), UNMARKED);
    await live.addSource(1, 'grace.jpg', source);
    const frame = copy(full);
    const result = await live.process(frame, 0, resampleRgba(full, 640, 360));
    assert.equal(result.faces.length, 1);
    const [x, y, w, h] = result.faces[0]!.box;
    // The photo's face is near the middle: at 597 or so in the full frame's pixels, not at 298 (the working frame's).
    assert.ok(Math.abs(x + w / 2 - 640) < 100 && x + w <= 1280 && y + h <= 720, `the face box is in the full frame's pixels: ${result.faces[0]!.box.join(', ')}`);
    const r = Math.round;
    assert.ok(meanAbsDiff(frame, full, r(x + w * 0.25), r(y + h * 0.3), r(x + w * 0.75), r(y + h * 0.8)) > 8, 'the face changed');
    assert.ok(meanAbsDiff(frame, full, 0, 0, r(x - w * 0.3), 720) < 0.5, 'left of the face is untouched (not scaled down and up)');
    assert.ok(result.timings.upscale > 0);
    // Another working size finds the face afresh, at once.
    assert.equal((await live.process(copy(full), 33, resampleRgba(full, 960, 540))).detected, true);

    const key = Uint8Array.from({ length: 32 }, (_, i) => i * 5 + 3);
    const marked = new LiveSession(engine, settings(), { label: {}, watermark: { key, payload: { assetId: 0x5ca1ab1e, version: WATERMARK_VERSION } }, media: 'video' });
    await marked.addSource(1, 'grace.jpg', source);
    const shown = copy(full);
    await marked.process(shown, 0, resampleRgba(full, 640, 360));
    const label = findLabel(shown);
    assert.ok(label, 'the label is found on the full-size frame');
    assert.equal(label.text, 'AI-generated');
  });

  it('tracks between detections and reports every followed face', async () => {
    const live = new LiveSession(engine, settings({ detectEvery: 3 }), UNMARKED);
    await live.addSource(1, 'grace.jpg', source);
    const detected: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const result = await live.process(copy(camera), i * 33);
      detected.push(result.detected);
      assert.equal(result.faces.length, 1);
    }
    assert.deepEqual(detected, [true, false, false, true]);
  });

  it('budgets the face search: with no face followed the detector runs on every N-th frame, and at once after a reset', async () => {
    let calls = 0;
    const counted = {
      ...engine,
      finder: Object.assign(Object.create(engine.finder) as typeof engine.finder, { analyze: (image: Image) => (calls++, engine.finder.analyze(image)) }),
    };
    const live = new LiveSession(counted, settings(), UNMARKED);
    await live.addSource(1, 'grace.jpg', source);
    live.setQuality({ detectFactor: 1, searchEvery: 3 });
    const empty: Image = { width: 640, height: 360, channels: 4, data: new Uint8ClampedArray(640 * 360 * 4).fill(60) };
    const searched: number[] = [];
    for (let i = 0; i < 7; i++) {
      const before = calls;
      assert.equal((await live.process(copy(empty), i * 33)).faces.length, 0);
      if (calls > before) searched.push(i);
    }
    assert.deepEqual(searched, [0, 3, 6], 'one frame in three is searched');
    live.reset();
    const found = await live.process(copy(camera), 7 * 33);
    assert.equal(calls, 4, 'a new target is searched on its first frame');
    assert.equal(found.faces.length, 1);
    // A face followed: the tracker's own schedule, not the search budget.
    assert.equal((await live.process(copy(camera), 8 * 33)).faces.length, 1);
    assert.deepEqual(live.quality, { detectFactor: 1, searchEvery: 3 });
  });

  it('with one face painted, a face followed but not painted is tracked on every other frame only, and keeps its number', async () => {
    const tracked: number[] = [];
    const counted = { ...engine, track: (image: Image, face: Parameters<NonNullable<typeof engine.track>>[1]) => (tracked.push(face.box[0]), engine.track!(image, face)) };
    const people = await twoPeople();
    const live = new LiveSession(counted, settings({ detectEvery: 100 }), UNMARKED);
    await live.addSource(1, 'grace.jpg', source);
    const first = await live.process(copy(people), 0);
    assert.equal(first.faces.length, 2);
    const paintedId = first.faces.find((f) => f.sourceId !== null)!.trackId;
    const ids = first.faces.map((f) => f.trackId).sort();
    const byFrame: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const before = tracked.length;
      const result = await live.process(copy(people), i * 33);
      byFrame.push(tracked.length - before);
      assert.deepEqual(result.faces.map((f) => f.trackId).sort(), ids, 'both people stay followed, with their numbers');
      assert.equal(result.faces.find((f) => f.sourceId !== null)?.trackId, paintedId, 'the painted face stays the same');
    }
    // The painted face on every frame, the other on every other one: 2, 1, 2, … or 1, 2, 1, ….
    const [a, b] = byFrame as [number, number];
    assert.deepEqual([a, b].sort(), [1, 2]);
    assert.deepEqual(byFrame, [a, b, a, b, a, b]);
    // With every face painted, every face is tracked on every frame.
    live.updateSettings(settings({ detectEvery: 100, manyFaces: true }));
    await live.process(copy(people), 7 * 33);
    const before = tracked.length;
    await live.process(copy(people), 8 * 33);
    await live.process(copy(people), 9 * 33);
    assert.equal(tracked.length - before, 4);
  });

  it('budgets the detections a lost face asks for while others are followed: the faces still seen are tracked in between', async () => {
    let calls = 0;
    const counted = {
      ...engine,
      finder: Object.assign(Object.create(engine.finder) as typeof engine.finder, { analyze: (image: Image) => (calls++, engine.finder.analyze(image)) }),
    };
    const people = await twoPeople();
    // The person on the right leaves: their half turns grey.
    const leftAlone = copy(people);
    for (let y = 0; y < 360; y++) leftAlone.data.fill(60, (y * 640 + 320) * 4, (y * 640 + 640) * 4);
    const live = new LiveSession(counted, settings({ detectEvery: 100 }), UNMARKED);
    await live.addSource(1, 'grace.jpg', source);
    live.setQuality({ detectFactor: 1, searchEvery: 3 });
    const first = await live.process(copy(people), 0);
    assert.equal(first.faces.length, 2);
    const left = first.faces.reduce((a, b) => (a.box[0] < b.box[0] ? a : b));
    await live.process(copy(people), 33);
    const detectedOn: number[] = [];
    for (let i = 2; i < 10; i++) {
      const before = calls;
      const result = await live.process(copy(leftAlone), i * 33);
      if (calls > before) detectedOn.push(i);
      assert.ok(
        result.faces.some((f) => f.trackId === left.trackId && f.box[0] < 320),
        `frame ${i}: the person still in view is followed as before`,
      );
    }
    // Frame 2 loses the right face (tracked, not found); from frame 3 the planner asks for a detection on every frame
    // until the lost face is dropped: one in three runs, the others track the face still in view.
    assert.ok(detectedOn.length <= 3, `detected on frames ${detectedOn.join(', ')}`);
    assert.ok(detectedOn.length >= 1);
  });

  it('a change of detection budget keeps the faces followed and their track numbers', async () => {
    const live = new LiveSession(engine, settings({ detectEvery: 2 }), UNMARKED);
    await live.addSource(1, 'grace.jpg', source);
    const first = await live.process(copy(camera), 0);
    assert.equal(first.faces.length, 1);
    live.setQuality({ detectFactor: 3, searchEvery: 2 });
    const detected: boolean[] = [];
    for (let i = 1; i <= 6; i++) {
      const result = await live.process(copy(camera), i * 33);
      assert.deepEqual(
        result.faces.map((f) => f.trackId),
        first.faces.map((f) => f.trackId),
        'the same track, not a new one',
      );
      detected.push(result.detected);
    }
    assert.deepEqual(detected, [false, false, false, false, false, true], 'detection every 2 × 3 frames');
  });

  it('paints nothing without a usable source, and keeps a clear error for a photo without a face', async () => {
    const live = new LiveSession(engine, settings(), UNMARKED);
    const blank: Image = { width: 200, height: 200, channels: 4, data: new Uint8ClampedArray(200 * 200 * 4).fill(128) };
    const state = await live.addSource(7, 'wall.png', blank);
    assert.match(state.error ?? '', /No face was found in wall\.png/);
    assert.equal(live.mainSource, null);
    const frame = copy(camera);
    const result = await live.process(frame, 0);
    assert.equal(result.faces[0]?.sourceId, null);
    assert.equal(meanAbsDiff(frame, camera, 0, 0, 640, 360), 0);
  });

  it('follows setting changes: mirror-free opacity 0 paints an unchanged face', async () => {
    const live = new LiveSession(engine, settings(), UNMARKED);
    await live.addSource(1, 'grace.jpg', source);
    live.updateSettings(settings({ opacity: 0 }));
    const frame = copy(camera);
    await live.process(frame, 0);
    assert.ok(meanAbsDiff(frame, camera, 0, 0, 640, 360) < 0.05);
  });

  it('swaps one face or all of them, and a map puts a chosen source (or nobody) on each person', async () => {
    const people = await twoPeople();
    const live = new LiveSession(engine, settings(), UNMARKED, loadEmbed);
    await live.addSource(1, 'grace.jpg', source);
    await live.addSource(2, 'astronaut.jpg', toRgba(await loadFixture('astronaut.png')));
    const painted = async () => (await live.process(copy(people), 0)).faces.map((f) => f.sourceId);
    assert.deepEqual(
      (await painted()).filter((s) => s !== null),
      [1],
      'only the primary face by default',
    );
    live.updateSettings(settings({ manyFaces: true }));
    assert.deepEqual(await painted(), [1, 1]);
    assert.equal(embedLoads, 0, 'the recogniser is not loaded before the map is used');

    const result = await live.process(copy(people), 0);
    const left = result.faces.reduce((a, b) => (a.box[0] < b.box[0] ? a : b));
    const right = result.faces.find((f) => f !== left)!;
    live.assign(left.trackId, null);
    live.assign(right.trackId, 2);
    await live.process(copy(people), 33); // descriptors taken from this frame
    assert.equal(embedLoads, 1);
    assert.deepEqual(live.mapEntries.map((e) => e.sourceId).sort(), [2, null].sort());
    await live.process(copy(people), 66);
    const last = await live.process(copy(people), 99);
    const byTrack = new Map(last.faces.map((f) => [f.box[0] < 320 ? 'left' : 'right', f]));
    assert.equal(byTrack.get('left')?.sourceId, null, 'the person mapped to nobody is left alone');
    assert.equal(byTrack.get('right')?.sourceId, 2);
    assert.notEqual(byTrack.get('right')?.mapEntry, null);

    live.clearMap();
    assert.deepEqual(live.mapEntries, []);
    assert.deepEqual(await painted(), [1, 1]);
  });

  /** A 640×360 picture of `photo` small at the bottom left, grey elsewhere (where the camera face was). */
  async function cornerFace(photo: string): Promise<Image> {
    const face = await sharp(`${FIXTURES}${photo}`).removeAlpha().resize(240, 240, { fit: 'cover' }).png().toBuffer();
    const png = await sharp({ create: { width: 640, height: 360, channels: 3, background: '#3c3c3c' } })
      .composite([{ input: face, left: 10, top: 110 }])
      .png()
      .toBuffer();
    return toRgba(await decodeRgb(png));
  }

  for (const explicit of [true, false]) {
    it(`a new target${explicit ? ' (reset)' : ' found as a cut'}: its first frame is detected afresh and nothing of the old one is painted on it`, async () => {
      const live = new LiveSession(engine, settings(), UNMARKED);
      await live.addSource(1, 'grace.jpg', source);
      const cameraTracks = new Set<number>();
      let cameraBox: [number, number, number, number] | undefined;
      for (let i = 0; i < 3; i++) {
        const result = await live.process(copy(camera), i * 33);
        for (const face of result.faces) cameraTracks.add(face.trackId);
        cameraBox = result.faces[0]?.box;
      }
      assert.ok(cameraBox && cameraTracks.size === 1, 'the camera face is followed');
      const picture = await cornerFace('astronaut.png');
      if (explicit) live.reset();
      const frame = copy(picture);
      const result = await live.process(frame, 100);
      assert.equal(result.detected, true, 'detected, not tracked from the camera');
      assert.equal(result.cut, !explicit, 'a reset frame is no cut; without one the change is found as a cut');
      assert.deepEqual(
        result.faces.filter((f) => cameraTracks.has(f.trackId)),
        [],
        'no camera track is followed on the new picture',
      );
      assert.equal(result.faces.length, 1);
      const [face] = result.faces;
      assert.equal(face!.sourceId, 1, 'the new face is swapped at once');
      const [fx, fy, fw, fh] = face!.box;
      assert.ok(fx + fw < 250 && fy > 110, `the new face is the one at the bottom left: ${face!.box.join(',')}`);
      const [x, y, w, h] = cameraBox;
      assert.equal(meanAbsDiff(frame, picture, Math.max(250, x - w / 2), y - h / 2, x + w * 1.5, y + h * 1.5), 0, 'nothing painted where the camera face was');
      assert.ok(meanAbsDiff(frame, picture, fx, fy, fx + fw, fy + fh) > 4, 'the new face is painted');
    });
  }

  it('another face painted (main source, picked face) starts the faces afresh', async () => {
    const live = new LiveSession(engine, settings(), UNMARKED);
    await live.addSource(1, 'grace.jpg', source);
    await live.addSource(2, 'astronaut.jpg', toRgba(await loadFixture('astronaut.png')));
    const detected = async (i: number) => (await live.process(copy(camera), i * 33)).detected;
    assert.deepEqual([await detected(0), await detected(1)], [true, false]);
    live.setMainSource(2);
    assert.equal(await detected(2), true, 'after the main source changed');
    assert.equal(await detected(3), false);
    live.setMainSource(2);
    assert.equal(await detected(4), false, 'the same main source again changes nothing');
    live.removeSource(1);
    assert.equal(await detected(5), false, 'removing a source no face wears changes nothing');
  });

  it('picks another face of a source photo, and moves the main source when it is removed', async () => {
    const live = new LiveSession(engine, settings(), UNMARKED);
    await live.addSource(1, 'people.png', await twoPeople());
    await live.addSource(2, 'grace.jpg', source);
    assert.equal(live.sourceStates[0].faces.length, 2);
    await live.pickFace(1, 1);
    assert.equal(live.sourceStates[0].face, 1);
    await live.pickFace(1, 5); // out of range: ignored
    assert.equal(live.sourceStates[0].face, 1);
    live.removeSource(1);
    assert.equal(live.mainSource, 2);
    live.setMainSource(99);
    assert.equal(live.mainSource, 2, 'an unknown photo cannot be made the main source');
  });
});

/**
 * Face analysis on real photos: detection, landmarks, keypoint order, rotation, and no face; and on
 * fake sessions giving NaN, as a damaged model does: such faces are dropped, never passed on.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { createImage } from '../../src/core/image.js';
import { FaceAnalyzer, regionFor, SIMILAR_SHIFT } from '../../src/face/analyzer.js';
import { FaceMeshModel } from '../../src/face/facemesh.js';
import type { Face, FaceRoi } from '../../src/face/face.js';
import { primaryFaceIndex } from '../../src/face/select.js';
import { MODEL_SPECS, type ModelSpec } from '../../src/models/model-spec.js';
import type { InferenceSession } from '../../src/models/runtime.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { decodeRgb, FIXTURES, loadFixture, TEST_HOME } from '../helpers/fixtures.js';

let swapper: NodeSwapper;
before(async () => {
  swapper = await createNodeSwapper({ home: TEST_HOME });
});
after(async () => {
  await swapper.close();
});

const eyeDistance = (k: Float32Array) => Math.hypot(k[2] - k[0], k[3] - k[1]);

describe('FaceAnalyzer', () => {
  test('one frontal face: confident, landmarks inside the box, keypoints in image order', async () => {
    const image = await loadFixture('astronaut.png');
    const faces = await swapper.analyze(image);
    assert.equal(faces.length, 1);
    const [face] = faces;
    assert.ok(face.score > 0.7 && face.meshScore > 0.9, `scores ${face.score} / ${face.meshScore}`);
    const [x, y, w, h] = face.box;
    for (let i = 0; i < 468; i++) {
      assert.ok(face.landmarks[3 * i] >= x - 1e-3 && face.landmarks[3 * i] <= x + w + 1e-3);
      assert.ok(face.landmarks[3 * i + 1] >= y - 1e-3 && face.landmarks[3 * i + 1] <= y + h + 1e-3);
    }
    const k = face.kps5;
    assert.ok(k[0] < k[2], 'left eye (image left) first');
    assert.ok(k[5] > k[1] && k[5] < k[7], 'nose between eyes and mouth');
    assert.ok(k[6] < k[8], 'mouth corners image-left first');
    // The astronaut's face is about 95 px wide in a 512 px portrait, centred near x = 225.
    assert.ok(w > 70 && w < 130 && x + w / 2 > 180 && x + w / 2 < 270, `box ${face.box.map(Math.round)}`);
  });

  test('a tilted face is found with its tilt and the same proportions', async () => {
    const upright = (await swapper.analyze(await loadFixture('astronaut.png')))[0];
    // sharp turns clockwise for positive angles: in image coordinates (y down) the eye line then
    // points 25° below the x axis.
    const tilted = await decodeRgb(await sharp(`${FIXTURES}astronaut.png`).rotate(25, { background: '#808080' }).png().toBuffer());
    const faces = await swapper.analyze(tilted);
    assert.equal(faces.length, 1);
    const degrees = (faces[0].roi.angle * 180) / Math.PI;
    assert.ok(Math.abs(degrees - 25) < 6, `eye line at ${degrees.toFixed(1)}°`);
    const ratio = eyeDistance(faces[0].kps5) / eyeDistance(upright.kps5);
    assert.ok(Math.abs(ratio - 1) < 0.1, `eye distance ratio ${ratio.toFixed(3)}`);
  });

  test('no face in a flat picture or in noise', async () => {
    const flat = createImage(320, 240, 3);
    flat.data.fill(128);
    assert.deepEqual(await swapper.analyze(flat), []);
    const noise = createImage(320, 240, 3);
    let s = 1;
    for (let i = 0; i < noise.data.length; i++) noise.data[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
    assert.deepEqual(await swapper.analyze(noise), []);
  });
});

describe('following a face that moved', () => {
  /** The face with its landmarks moved by (dx, dy) times its region's size: where the last frame had it, when the face has since moved the other way. */
  const moved = (face: Face, dx: number, dy: number): Face => {
    const landmarks = face.landmarks.slice();
    for (let i = 0; i < landmarks.length; i += 3) {
      landmarks[i] += dx * face.roi.size;
      landmarks[i + 1] += dy * face.roi.size;
    }
    return { ...face, landmarks };
  };

  test('FaceMesh runs once for a region a little off the face, again for one further off, and lands on the same landmarks', async (t) => {
    const image = await loadFixture('astronaut.png');
    const [face] = await swapper.analyze(image);
    const run = t.mock.method(FaceMeshModel.prototype, 'run');
    const follow = async (dx: number, dy: number): Promise<{ runs: number; off: number }> => {
      run.mock.resetCalls();
      const found = await swapper.track!(image, moved(face!, dx, dy));
      assert.ok(found, `followed from (${dx}, ${dy})`);
      let sum = 0;
      for (let i = 0; i < 468; i++) sum += Math.hypot(found.landmarks[3 * i] - face!.landmarks[3 * i], found.landmarks[3 * i + 1] - face!.landmarks[3 * i + 1]);
      return { runs: run.mock.callCount(), off: sum / 468 / face!.roi.size };
    };
    const near = await follow(0.03, -0.02);
    const edge = await follow(0.035, 0.035);
    const far = await follow(0.07, 0.05);
    assert.equal(near.runs, 1, 'a region 3.6 % off: one pass');
    assert.equal(edge.runs, 1, `a region ${(100 * Math.hypot(0.035, 0.035)).toFixed(1)} % off, under ${100 * SIMILAR_SHIFT} %: one pass`);
    assert.equal(far.runs, 2, 'a region 8.6 % off: a second pass on the region its landmarks make');
    // One pass or two, the landmarks are where a fresh analysis put them, within about a pixel here (a region of about 200 px).
    for (const [name, r] of Object.entries({ near, edge, far })) assert.ok(r.off < 0.008, `${name}: landmarks ${(100 * r.off).toFixed(2)} % of the region from the analysis's`);
  });
});

describe('detecting a face followed from the frame before', () => {
  const at = (cx: number, cy: number, size: number): Face => ({ ...({} as Face), roi: { cx, cy, size, angle: 0 } });

  test('regionFor: the nearest followed face of about the same size is taken once; anything else keeps the detector region', () => {
    const a = at(100, 100, 80);
    const b = at(300, 100, 80);
    const known = [b, a];
    const detected = { cx: 110, cy: 95, size: 90, angle: 0.1 };
    assert.equal(regionFor(detected, known), a.roi, 'the face it is');
    assert.deepEqual(known, [b], 'taken from the faces left');
    assert.equal(regionFor(detected, known), detected, 'a second detection there is not the same face again');
    const far = { cx: 100 + 0.3 * 80, cy: 100, size: 80, angle: 0 };
    assert.equal(regionFor(far, [a]), far, 'a centre 30 % of the size away is another face');
    const bigger = { cx: 100, cy: 100, size: 80 * 1.4, angle: 0 };
    assert.equal(regionFor(bigger, [a]), bigger, '40 % larger is another face');
    assert.equal(regionFor(detected, []), detected, 'nothing followed');
  });

  test('a face followed is refined from its own region: one FaceMesh pass instead of two, the same landmarks', async (t) => {
    // The camera photo's detector region is off enough that FaceMesh runs twice from it.
    const image = await loadFixture('camera.png');
    const [face] = await swapper.analyze(image);
    const run = t.mock.method(FaceMeshModel.prototype, 'run');
    const regions = (): FaceRoi[] => run.mock.calls.map((call) => call.arguments[1]);
    const [afresh] = await swapper.analyze(image);
    assert.equal(run.mock.callCount(), 2, 'from the detector: two passes');
    run.mock.resetCalls();
    const [followed] = await swapper.analyze(image, [face!]);
    assert.deepEqual(regions(), [face!.roi], "from the face followed: one, on that face's region");
    let sum = 0;
    for (let i = 0; i < 468; i++) sum += Math.hypot(followed!.landmarks[3 * i] - afresh!.landmarks[3 * i], followed!.landmarks[3 * i + 1] - afresh!.landmarks[3 * i + 1]);
    // As far as one more pass moves them (about 1 % here; 0.5–1.1 % on the stage clip's detections).
    assert.ok(sum / 468 / face!.roi.size < 0.015, `landmarks ${((100 * sum) / 468 / face!.roi.size).toFixed(2)} % of the region apart`);
    assert.equal(followed!.score, afresh!.score, "the detector's score either way");
    // A face followed elsewhere (another person) is no help: the detector's region, two passes.
    run.mock.resetCalls();
    await swapper.analyze(image, [{ ...face!, roi: { ...face!.roi, cx: face!.roi.cx + face!.roi.size } }]);
    assert.equal(run.mock.callCount(), 2);
  });
});

describe('overlapping calls', () => {
  test('concurrent analyses and swaps give the same results as one at a time', async () => {
    const images = [await loadFixture('astronaut.png'), await loadFixture('grace_hopper.jpg'), await loadFixture('camera.png')];
    const oneByOne = [];
    for (const image of images) oneByOne.push(await swapper.analyze(image));
    const together = await Promise.all(images.map((image) => swapper.analyze(image)));
    assert.deepEqual(
      together.map((faces) => faces.map((f) => f.box)),
      oneByOne.map((faces) => faces.map((f) => f.box)),
    );
    const { resolveSwapOptions } = await import('../../src/pipeline/options.js');
    const options = resolveSwapOptions({});
    const sequential = await swapper.swap(images[1], images[0], options, { marks: false });
    const [a, b] = await Promise.all([swapper.swap(images[1], images[0], options, { marks: false }), swapper.swap(images[0], images[1], options)]);
    assert.deepEqual(a.image.data, sequential.image.data);
    assert.ok(b.report.swappedFaces.length === 1);
  });
});

/** A session with the row's tensor names whose every output is `fill` (or what `outputs` gives). */
function fakeSession(spec: ModelSpec, outputs: (name: string, index: number, shape: readonly number[]) => Float32Array): InferenceSession {
  const outputNames = spec.outputs.map((t, i) => t.name ?? `out${i}`);
  return {
    inputNames: spec.inputs.map((t, i) => t.name ?? `in${i}`),
    outputNames,
    run: () =>
      Promise.resolve(
        Object.fromEntries(
          spec.outputs.map((t, i) => {
            const shape = t.shape.map((d) => (typeof d === 'number' ? d : 1));
            return [outputNames[i]!, { data: outputs(outputNames[i]!, i, shape), dims: shape }];
          }),
        ),
      ),
    close: () => Promise.resolve(),
  };
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** BlazeFace whose first anchor is sure of a face at `box` values (NaN for a damaged model). */
function detectorSession(boxValue: number): InferenceSession {
  return fakeSession(MODEL_SPECS.blazeface, (_name, i, shape) => {
    const data = new Float32Array(size(shape));
    if (i < 2) {
      data.fill(-20);
      if (i === 0) data[0] = 20;
    } else if (i === 2) {
      data.fill(0);
      data.set([0, 0, 80, 80], 0);
      data[2] = boxValue;
    }
    return data;
  });
}

/** FaceMesh giving every point at `value` around the region's centre and the face flag `score`. */
function meshSession(value: number, score: number): InferenceSession {
  return fakeSession(MODEL_SPECS.facemesh, (_name, i, shape) => {
    const data = new Float32Array(size(shape));
    if (i === 0) for (let p = 0; p < data.length; p++) data[p] = Number.isNaN(value) ? value : 96 + ((p * 37) % 60) - 30;
    else data.fill(score);
    return data;
  });
}

describe('faces with non-finite numbers are dropped where they are made', () => {
  const image = createImage(128, 128, 3);

  test('a detector box of NaN is no face', async () => {
    const analyzer = FaceAnalyzer.create(detectorSession(Number.NaN), meshSession(0, 1));
    assert.deepEqual(await analyzer.analyze(image), []);
  });

  test('a mesh of NaN, or a NaN face flag, is no face', async () => {
    assert.deepEqual(await FaceAnalyzer.create(detectorSession(80), meshSession(Number.NaN, 1)).analyze(image), []);
    assert.deepEqual(await FaceAnalyzer.create(detectorSession(80), meshSession(0, Number.NaN)).analyze(image), []);
  });

  test('the same fakes with finite numbers do give a face (the fakes are sound)', async () => {
    const faces = await FaceAnalyzer.create(detectorSession(80), meshSession(0, 1)).analyze(image);
    assert.equal(faces.length, 1);
    assert.ok(faces[0]!.box.every(Number.isFinite));
  });

  test('primaryFaceIndex skips a non-finite face and never answers -1 for a finite one', async () => {
    const [face] = await FaceAnalyzer.create(detectorSession(80), meshSession(0, 1)).analyze(image);
    const broken: Face = { ...face!, box: [Number.NaN, 0, Number.NaN, 10] };
    assert.equal(primaryFaceIndex([broken, face!], 128, 128), 1);
    assert.equal(primaryFaceIndex([broken], 128, 128), -1);
    const centred: Face = { ...face!, box: [-5, -5, 10, 10] };
    assert.equal(primaryFaceIndex([centred], 0, 0), 0, 'a zero-sized frame rates it NaN (0 / 0), yet it is the one face');
  });
});

/**
 * The mesh engine's identity from several photos of one person (src/swap/mesh-combine.ts): each
 * photo's lighting is replaced by the set's, and a patch that one photo alone shows (an occluder,
 * an expression's crease) is voted out; one photo gives exactly the single-photo identity.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { CANONICAL_UV } from '../../src/face/canonical-uv.js';
import type { Face } from '../../src/face/face.js';
import { MESH_POINTS } from '../../src/face/face.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import { averageShapes, combineMeshIdentities } from '../../src/swap/mesh-combine.js';
import { MeshSwapper, type MeshIdentity } from '../../src/swap/mesh-engine.js';
import { loadFixture, TEST_HOME } from '../helpers/fixtures.js';

let swapper: NodeSwapper;
let photo: Image;
let face: Face;

before(async () => {
  swapper = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
  photo = await loadFixture('grace_hopper.jpg');
  [face] = await swapper.analyze(photo);
});
after(async () => {
  await swapper.close();
});

function copy(image: Image): Image {
  return { ...image, data: new Uint8ClampedArray(image.data) };
}

/** The photo lit by a horizontal ramp across the face, `from` at its left edge to `to` at its right. */
function ramp(image: Image, from: number, to: number): Image {
  const out = copy(image);
  const x0 = face.box[0];
  const x1 = face.box[0] + face.box[2];
  for (let y = 0; y < image.height; y++)
    for (let x = 0; x < image.width; x++) {
      const gain = from + (to - from) * Math.min(1, Math.max(0, (x - x0) / (x1 - x0)));
      for (let k = 0; k < 3; k++) out.data[(y * image.width + x) * 3 + k] = image.data[(y * image.width + x) * 3 + k] * gain;
    }
  return out;
}

/** A square of side `side` (pixels) centred on mesh point `index`, painted in `rgb`: an occluder or a crease one photo has. */
function patch(image: Image, index: number, side: number, rgb: [number, number, number]): Image {
  const out = copy(image);
  const cx = Math.round(face.landmarks[3 * index]);
  const cy = Math.round(face.landmarks[3 * index + 1]);
  for (let y = cy - side / 2; y < cy + side / 2; y++) for (let x = cx - side / 2; x < cx + side / 2; x++) out.data.set(rgb, (y * image.width + x) * 3);
  return out;
}

/** Mean absolute difference (RGB levels) of two textures over a square of texels around mesh point `index`, or over the whole confident face. */
function textureDiff(a: MeshIdentity, b: MeshIdentity, index?: number, radius = 0.03): number {
  const size = a.size;
  let sum = 0,
    n = 0;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      if (index !== undefined && Math.max(Math.abs((x + 0.5) / size - CANONICAL_UV[2 * index]), Math.abs((y + 0.5) / size - CANONICAL_UV[2 * index + 1])) > radius) continue;
      const i = 4 * (y * size + x);
      if (a.texture.data[i + 3] < 250 || b.texture.data[i + 3] < 250) continue;
      for (let k = 0; k < 3; k++) sum += Math.abs(a.texture.data[i + k] - b.texture.data[i + k]);
      n += 3;
    }
  return sum / n;
}

describe('mesh identity from several photos', () => {
  test("one photo's occluder is voted out, and each photo's lighting is replaced by the set's", () => {
    const engine = new MeshSwapper();
    const plain = engine.createIdentity(photo, face);
    // Point 205 is on the image-left cheek: one photo of four has a green square over it (a
    // hand, a sticker, a crease of its own expression). Two more are lit from opposite sides, so
    // the set's mean lighting is the plain photo's.
    const side = Math.round(face.box[2] * 0.18);
    const covered = engine.createIdentity(patch(photo, 205, side, [40, 200, 60]), face);
    const left = engine.createIdentity(ramp(photo, 1.3, 0.7), face);
    const right = engine.createIdentity(ramp(photo, 0.7, 1.3), face);
    const combined = combineMeshIdentities([plain, covered, left, right]);
    assert.equal(combined.size, plain.size);
    assert.equal(combined.photos, 4);

    const coveredDiff = textureDiff(covered, plain, 205);
    const combinedDiff = textureDiff(combined, plain, 205);
    assert.ok(coveredDiff > 40, `the occluder shows in its own photo's texture (${coveredDiff.toFixed(1)} levels)`);
    // A plain mean would keep a quarter of it (about coveredDiff / 4).
    assert.ok(combinedDiff < 4, `the occluder is voted out of the combination (${combinedDiff.toFixed(1)} levels from the plain photo)`);

    const litDiff = textureDiff(left, plain);
    const wholeDiff = textureDiff(combined, plain);
    assert.ok(litDiff > 10, `the relit photo differs from the plain one (${litDiff.toFixed(1)} levels)`);
    assert.ok(wholeDiff < 3, `the combination is lit like the set's mean, the plain photo (${wholeDiff.toFixed(1)} levels)`);
  });

  test("three photos: one photo's expression crease (a dark smile line) is voted out", () => {
    const engine = new MeshSwapper();
    const plain = engine.createIdentity(photo, face);
    const brighter = engine.createIdentity(ramp(photo, 1.1, 1.1), face);
    // A dark line from the nose wing (point 129) to the mouth corner (61): a nasolabial fold that
    // only this photo's expression has.
    const creased = copy(photo);
    const [ax, ay, bx, by] = [face.landmarks[3 * 129], face.landmarks[3 * 129 + 1], face.landmarks[3 * 61], face.landmarks[3 * 61 + 1]];
    const half = Math.max(2, Math.round(face.box[2] * 0.012));
    for (let t = 0; t <= 1; t += 0.002) {
      const x = Math.round(ax + (bx - ax) * t - half * 2),
        y = Math.round(ay + (by - ay) * t);
      for (let dy = -half; dy <= half; dy++) for (let dx = -half; dx <= half; dx++) creased.data.set([70, 45, 40], ((y + dy) * photo.width + x + dx) * 3);
    }
    const crease = engine.createIdentity(creased, face);
    const combined = combineMeshIdentities([plain, crease, brighter]);
    // The same set without the crease (the plain photo twice): what the combination should give.
    const clean = combineMeshIdentities([plain, engine.createIdentity(photo, face), brighter]);
    // Around the fold's middle in the texture (between the two points' texture positions), from `ref`.
    const region = (id: MeshIdentity, ref: MeshIdentity) => {
      const size = id.size;
      const u = ((CANONICAL_UV[2 * 129] + CANONICAL_UV[2 * 61]) / 2) * size,
        v = ((CANONICAL_UV[2 * 129 + 1] + CANONICAL_UV[2 * 61 + 1]) / 2) * size;
      const r = Math.round(size * 0.04);
      let sum = 0,
        n = 0;
      for (let y = Math.round(v) - r; y <= Math.round(v) + r; y++)
        for (let x = Math.round(u) - r; x <= Math.round(u) + r; x++) {
          const i = 4 * (y * size + x);
          for (let k = 0; k < 3; k++) sum += Math.abs(id.texture.data[i + k] - ref.texture.data[i + k]);
          n += 3;
        }
      return sum / n;
    };
    const shown = region(crease, plain);
    const left = region(combined, clean);
    assert.ok(shown > 8, `the crease shows in its own photo's texture (${shown.toFixed(1)} levels)`);
    // A plain mean would keep a third of it.
    assert.ok(left < shown / 8, `the crease is voted out (${left.toFixed(1)} levels left of ${shown.toFixed(1)})`);
  });

  test('with two photos nothing is voted; the combination lies between them', () => {
    const engine = new MeshSwapper();
    const plain = engine.createIdentity(photo, face);
    const covered = engine.createIdentity(patch(photo, 205, Math.round(face.box[2] * 0.18), [40, 200, 60]), face);
    const combined = combineMeshIdentities([plain, covered]);
    const d = textureDiff(combined, plain, 205);
    assert.ok(d > 5 && d < textureDiff(covered, plain, 205), `two photos are averaged (${d.toFixed(1)} levels)`);
  });

  test('one photo is the single-photo identity itself, and swaps byte for byte as before', async () => {
    const engine = new MeshSwapper();
    const identity = engine.createIdentity(photo, face);
    assert.equal(engine.combineIdentities([identity]), identity);
    const target = await loadFixture('astronaut.png');
    const options = resolveSwapOptions({ engine: 'mesh' });
    const single = await swapper.prepareSource(photo, options);
    const listed = await swapper.prepareSources([photo], options);
    const a = await swapper.swap(single, target, options, { marks: false });
    const b = await swapper.swap(listed, target, options, { marks: false });
    assert.deepEqual(b.report.notices, a.report.notices);
    assert.ok(Buffer.from(a.image.data).equals(Buffer.from(b.image.data)), 'the same pixels');
  });

  test('shapes seen at other scales and angles average to the same shape', () => {
    const shape = Float32Array.from(face.landmarks);
    const turned = new Float32Array(3 * MESH_POINTS);
    const [c, s] = [Math.cos(0.2), Math.sin(0.2)];
    for (let i = 0; i < MESH_POINTS; i++) {
      const [x, y, z] = [shape[3 * i], shape[3 * i + 1], shape[3 * i + 2]];
      turned[3 * i] = 1.5 * (c * x - s * y) + 40;
      turned[3 * i + 1] = 1.5 * (s * x + c * y) - 25;
      turned[3 * i + 2] = 1.5 * z;
    }
    const average = averageShapes([shape, turned], [undefined, undefined]);
    let worst = 0;
    for (let i = 0; i < 3 * MESH_POINTS; i++) worst = Math.max(worst, Math.abs(average[i] - shape[i]));
    assert.ok(worst < 0.05, `aligned before averaging (worst ${worst.toFixed(3)} px)`);
  });

  test('the library combines several photos for the mesh engine and says so', async () => {
    const options = resolveSwapOptions({ engine: 'mesh' });
    const prepared = await swapper.prepareSources([photo, ramp(photo, 1.2, 0.8)], options, ['a.jpg', 'b.jpg']);
    assert.ok(
      prepared.notices.some((n) => n.includes('Combined 2 source photos')),
      prepared.notices.join('; '),
    );
    const target = await loadFixture('astronaut.png');
    const { report } = await swapper.swap(prepared, target, options, { marks: false });
    assert.equal(report.swappedFaces.length, 1);
  });
});

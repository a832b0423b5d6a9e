/**
 * The mesh engine's identity from several photos of one person (src/swap/mesh-combine.ts): each
 * photo's lighting is replaced by the set's, and a patch that one photo alone shows (an occluder,
 * an expression's crease) is voted out; one photo gives exactly the single-photo identity. A photo
 * with an open mouth (src/swap/mesh-expression-weights.ts): its teeth and the dark inside of its
 * mouth must not reach the combined texture, neither in the lip gap nor on the lips nor, through
 * the lighting, around the mouth; nor a single photo's texture (src/swap/mesh-texture.ts).
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { dilate } from '../../src/core/morphology.js';
import { fillPolygon, gatherPoints } from '../../src/core/polygon.js';
import { CANONICAL_UV } from '../../src/face/canonical-uv.js';
import type { Face } from '../../src/face/face.js';
import { MESH_POINTS } from '../../src/face/face.js';
import { LIPS_INNER, LIPS_OUTER, POINT } from '../../src/face/mesh-indices.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import { averageShapes, combineMeshIdentities } from '../../src/swap/mesh-combine.js';
import { MeshSwapper, type MeshIdentity } from '../../src/swap/mesh-engine.js';
import { expressionFactors, expressionRegions, photoExpression } from '../../src/swap/mesh-expression-weights.js';
import { hideTeethOnLips } from '../../src/swap/mesh-texture.js';
import { meshTuning } from '../../src/swap/mesh-tuning.js';
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

/** The lower lip's points, inner and outer line (between the corners). */
const LOWER_LIP = [...LIPS_INNER.slice(11), ...LIPS_OUTER.slice(11)];

/**
 * The fixture photo with its mouth opened: the lower lip's points moved down by `gap` of the
 * mouth's width (most in the middle), and the opening between the inner lip lines painted as a
 * grin shows it, light teeth with a band of the mouth's dark inside between the rows.
 */
function openMouth(gap: number): { image: Image; face: Face } {
  const m = face.landmarks.slice();
  const width = Math.hypot(m[3 * POINT.mouthLeft] - m[3 * POINT.mouthRight], m[3 * POINT.mouthLeft + 1] - m[3 * POINT.mouthRight + 1]);
  const corners = [LIPS_INNER[0], LIPS_INNER[10]];
  const along = (i: number) => {
    // Parted most in the middle, not at the corners.
    const [ax, bx] = [m[3 * corners[0]], m[3 * corners[1]]];
    const t = (m[3 * i] - ax) / (bx - ax);
    return Math.sin(Math.PI * Math.min(1, Math.max(0, t)));
  };
  for (const i of LOWER_LIP) m[3 * i + 1] += gap * width * along(i);
  const image: Image = { ...photo, data: new Uint8ClampedArray(photo.data) };
  const opening = new Float32Array(photo.width * photo.height);
  fillPolygon(opening, photo.width, photo.height, gatherPoints(m, LIPS_INNER, 3));
  const midY = (m[3 * POINT.upperLipInner + 1] + m[3 * POINT.lowerLipInner + 1]) / 2;
  const band = (gap / 8) * width;
  for (let y = 0; y < photo.height; y++)
    for (let x = 0; x < photo.width; x++) {
      if (!opening[y * photo.width + x]) continue;
      image.data.set(Math.abs(y - midY) < band ? [35, 18, 20] : [226, 214, 196], (y * photo.width + x) * 3);
    }
  return { image, face: { ...face, landmarks: m } };
}

/** A region of the canonical layout at `size`: the polygon of `indices`, minus the one of `minus`. */
function uvRegion(size: number, indices: readonly number[], minus?: readonly number[]): Float32Array {
  const scaled = (idx: readonly number[]) => gatherPoints(CANONICAL_UV, idx).map((v) => v * size);
  const mask = new Float32Array(size * size);
  fillPolygon(mask, size, size, scaled(indices));
  if (minus) {
    const hole = new Float32Array(size * size);
    fillPolygon(hole, size, size, scaled(minus));
    for (let i = 0; i < mask.length; i++) if (hole[i]) mask[i] = 0;
  }
  return mask;
}

/** Mean lightness (RGB mean) of `identity`'s texture minus `reference`'s over `region`, and the mean confidence there. */
function lighterThan(identity: MeshIdentity, reference: MeshIdentity, region: Float32Array): { lighter: number; confidence: number } {
  let sum = 0,
    alpha = 0,
    n = 0;
  for (let i = 0; i < region.length; i++) {
    if (!region[i]) continue;
    for (let k = 0; k < 3; k++) sum += (identity.texture.data[4 * i + k] - reference.texture.data[4 * i + k]) / 3;
    alpha += identity.texture.data[4 * i + 3];
    n++;
  }
  return { lighter: sum / n, confidence: alpha / n / 255 };
}

/** A ring of skin around the lips (past their outer line, up to a fifth of the texture's size away from the mouth's middle). */
function aroundLips(size: number): Float32Array {
  const lips = uvRegion(size, LIPS_OUTER);
  const [cu, cv] = [CANONICAL_UV[2 * POINT.upperLipInner] * size, (CANONICAL_UV[2 * POINT.upperLipInner + 1] + CANONICAL_UV[2 * 152 + 1]) * 0.5 * size];
  const ring = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (!lips[y * size + x] && Math.hypot(x - cu, y - cv) < size * 0.2) ring[y * size + x] = 1;
  return ring;
}

/** Mean of the RGB mean over `region`. */
function meanLevel(identity: MeshIdentity, region: Float32Array): number {
  let sum = 0,
    n = 0;
  for (let i = 0; i < region.length; i++) {
    if (!region[i]) continue;
    for (let k = 0; k < 3; k++) sum += identity.texture.data[4 * i + k] / 3;
    n++;
  }
  return sum / n;
}

/** The share of `region`'s texels within 40 levels (RGB distance) of the painted teeth's colour. */
function toothShare(identity: MeshIdentity, region: Float32Array): number {
  let teeth = 0,
    n = 0;
  for (let i = 0; i < region.length; i++) {
    if (!region[i]) continue;
    const d = identity.texture.data;
    if (Math.hypot(d[4 * i] - 226, d[4 * i + 1] - 214, d[4 * i + 2] - 196) < 40) teeth++;
    n++;
  }
  return teeth / n;
}

describe('mesh identity from one photo: an open mouth', () => {
  test("a grinning photo's teeth leave no tooth colour in its texture's lip gap or on its lips: the lips' colour, at low confidence", () => {
    const closed = new MeshSwapper().createIdentity(photo, face);
    const open = openMouth(0.16);
    // The same photo with the teeth kept, as before: the fixture does put teeth into the texture.
    const kept = new MeshSwapper(meshTuning({ hideTeeth: false })).createIdentity(open.image, open.face);
    const grinning = new MeshSwapper().createIdentity(open.image, open.face);
    const size = grinning.size;
    const gap = dilate(uvRegion(size, LIPS_INNER), size, size, 5);
    const mouth = uvRegion(size, LIPS_OUTER);
    assert.ok(toothShare(kept, gap) > 0.25, `the teeth kept: ${(100 * toothShare(kept, gap)).toFixed(0)} % of the lip gap tooth-coloured`);
    // Before, only the confidence on the lips dropped: the widened gap was 61 % tooth-coloured at full confidence.
    for (const [name, region] of [
      ['lip gap', gap],
      ['lips', mouth],
    ] as const) {
      const share = toothShare(grinning, region);
      assert.ok(share < 0.01, `${(100 * share).toFixed(1)} % of the ${name} tooth-coloured`);
    }
    const lips = meanLevel(closed, uvRegion(size, LIPS_OUTER, LIPS_INNER));
    const lighter = meanLevel(grinning, uvRegion(size, LIPS_INNER)) - lips;
    const keptLighter = meanLevel(kept, uvRegion(size, LIPS_INNER)) - lips;
    assert.ok(
      lighter < keptLighter / 2,
      `the gap holds the lips' colour, not the teeth (${lighter.toFixed(1)} levels lighter than the closed photo's lips, ${keptLighter.toFixed(1)} with the teeth)`,
    );
    const confidence = lighterThan(grinning, closed, uvRegion(size, LIPS_INNER)).confidence;
    assert.ok(confidence < 0.1, `the target's mouth shows in the gap (confidence ${confidence.toFixed(2)})`);
    // A closed mouth keeps its lips as the lip test alone leaves them: nothing more is taken for teeth.
    const before = new MeshSwapper(meshTuning({ hideTeeth: false })).createIdentity(photo, face);
    hideTeethOnLips(before.texture, before.uv);
    const lipsOnly = uvRegion(size, LIPS_OUTER);
    const change = lighterThan(closed, before, lipsOnly);
    const was = lighterThan(before, before, lipsOnly).confidence;
    assert.ok(
      Math.abs(change.lighter) < 1 && change.confidence > was - 0.02,
      `a closed mouth's lips stay (${change.lighter.toFixed(2)} levels, confidence ${change.confidence.toFixed(3)}, was ${was.toFixed(3)})`,
    );
  });
});

describe('mesh identity from several photos: an open mouth', () => {
  // The photos' own teeth removal is off here, so the combination's own is what is tested.
  const engine = new MeshSwapper(meshTuning({ hideTeeth: false }));

  test("an open-mouth photo's teeth and lip gap do not leak into the combined texture, nor its light onto the skin around", () => {
    const closed = engine.createIdentity(photo, face);
    const open = openMouth(0.16);
    const grinning = engine.createIdentity(open.image, open.face);
    const combined = combineMeshIdentities([closed, grinning]);
    const size = closed.size;
    assert.equal(combined.size, size);
    // Where the teeth land in the texture: the lip gap with the lip line around it (what the
    // painted lips read at their inner edge), and the lips.
    for (const [name, region] of [
      ['lip gap', dilate(uvRegion(size, LIPS_INNER), size, size, 5)],
      ['lips', uvRegion(size, LIPS_OUTER)],
    ] as const) {
      const own = lighterThan(grinning, closed, region);
      assert.ok(own.lighter > 12, `the open photo's own texture carries its teeth (${own.lighter.toFixed(1)} levels lighter over the ${name})`);
      const left = lighterThan(combined, closed, region);
      // The combination before kept a sixth of it in the gap, a fifth on the lips.
      assert.ok(
        Math.abs(left.lighter) < own.lighter / 10,
        `no teeth in the combination (${left.lighter.toFixed(1)} levels lighter over the ${name}, the open photo ${own.lighter.toFixed(1)})`,
      );
      assert.ok(left.confidence > 0.8, `the closed photo carries the ${name} at full confidence (${left.confidence.toFixed(2)})`);
    }
    // Nor do the teeth light the skin around the mouth through each photo's lighting estimate.
    const skin = aroundLips(size);
    const lit = lighterThan(combined, closed, skin);
    assert.ok(Math.abs(lit.lighter) < 1.5, `the skin around the mouth keeps the closed photo's light (${lit.lighter.toFixed(2)} levels)`);
  });

  test('two open-mouth photos: the gap is left to the target (low confidence) and holds no tooth colour', () => {
    const closed = engine.createIdentity(photo, face);
    const a = openMouth(0.16);
    const b = openMouth(0.2);
    const combined = combineMeshIdentities([engine.createIdentity(a.image, a.face), engine.createIdentity(b.image, b.face)]);
    const size = combined.size;
    const gap = uvRegion(size, LIPS_INNER);
    const inGap = lighterThan(combined, closed, gap);
    assert.ok(inGap.confidence < 0.25, `confidence in the lip gap ${inGap.confidence.toFixed(2)}`);
    // Against the closed photo's lips (its gap is a dark line): teeth would be about 90 levels lighter.
    const lighter = meanLevel(combined, gap) - meanLevel(closed, uvRegion(size, LIPS_OUTER, LIPS_INNER));
    assert.ok(lighter < 30, `the gap holds the colour around it, not the teeth (${lighter.toFixed(1)} levels lighter than the closed photo's lips)`);
  });

  test('expression weights: the more expressive photo is weighted down around its mouth and eyes; equal photos are left alone', () => {
    const regions = expressionRegions(128);
    const neutral = { mouthOpen: 0.01, eyesOpen: 0.3, smile: 0 };
    const grin = { mouthOpen: 0.2, eyesOpen: 0.18, smile: 1 };
    const [f0, f1] = expressionFactors([neutral, grin], regions);
    const uv = (index: number): [number, number] => [CANONICAL_UV[2 * index], CANONICAL_UV[2 * index + 1]];
    const at = (f: Float32Array, [u, v]: [number, number]) => f[Math.floor(v * 128) * 128 + Math.floor(u * 128)];
    // The lower lip, the skin under it, the upper lid and the outer eye corner.
    const below = uv(POINT.lowerLipInner);
    const places: [string, [number, number]][] = [
      ['lower lip', below],
      ['skin under the lip', [below[0], below[1] + 0.05]],
      ['upper lid', uv(159)],
      ['outer eye corner', uv(POINT.rightEyeOuter)],
    ];
    for (const [name, place] of places) {
      assert.equal(at(f0, place), 1, `the neutral photo keeps its weight on the ${name}`);
      assert.ok(at(f1, place) < 0.5, `the grin is weighted down on the ${name} (${at(f1, place).toFixed(2)})`);
    }
    assert.ok(at(f1, uv(10)) > 0.99, 'the forehead keeps both photos');
    const same = expressionFactors([grin, grin], regions);
    assert.ok(
      same.every((f) => f.every((v) => v === 1)),
      'equally expressive photos keep their weights',
    );
    // The expression read from a mesh: the fixture's closed mouth, and the same mesh opened.
    assert.ok(photoExpression(face.landmarks, 0).mouthOpen < 0.04);
    assert.ok(photoExpression(openMouth(0.16).face.landmarks, 0).mouthOpen > 0.12);
  });
});

/**
 * The mesh engine end to end on the fixture photos, checked for content: the face changed, the
 * rest of the picture did not, there is no seam, and the target's pose and expression survive.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { seamRatio } from '../../src/eval/image-metrics.js';
import { maskEdgeBand } from '../../src/eval/seam.js';
import type { Face } from '../../src/face/face.js';
import { faceSize } from '../../src/face/face.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { makeGroupPicture } from '../../src/node/eval/demo-assets.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import { loadFixture, meanAbsDiff, TEST_HOME } from '../helpers/fixtures.js';

let swapper: NodeSwapper;
const photos: Record<string, Image> = {};

before(async () => {
  swapper = await createNodeSwapper({ home: TEST_HOME });
  for (const name of ['astronaut.png', 'grace_hopper.jpg']) photos[name] = await loadFixture(name);
});

after(async () => {
  await swapper.close();
});

/** Share of pixels outside the face boxes (each grown by `grow` of its size) that are unchanged. */
function unchangedOutside(a: Image, b: Image, faces: readonly Face[], grow: number): number {
  let same = 0;
  let total = 0;
  const boxes = faces.map((f) => {
    const g = faceSize(f) * grow;
    return [f.box[0] - g, f.box[1] - g, f.box[0] + f.box[2] + g, f.box[1] + f.box[3] + g];
  });
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (boxes.some(([x0, y0, x1, y1]) => x >= x0 && x < x1 && y >= y0 && y < y1)) continue;
      total++;
      const i = (y * a.width + x) * 3;
      if (a.data[i] === b.data[i] && a.data[i + 1] === b.data[i + 1] && a.data[i + 2] === b.data[i + 2]) same++;
    }
  }
  return same / total;
}

/** RMS distance between two meshes, in units of the face size. */
function landmarkError(a: Face, b: Face): number {
  let sum = 0;
  for (let i = 0; i < 468; i++) sum += (a.landmarks[3 * i] - b.landmarks[3 * i]) ** 2 + (a.landmarks[3 * i + 1] - b.landmarks[3 * i + 1]) ** 2;
  return Math.sqrt(sum / 468) / faceSize(b);
}

async function checkSwap(t: { diagnostic(message: string): void }, sourceName: string, targetName: string): Promise<void> {
  const source = photos[sourceName];
  const target = photos[targetName];
  const { image, report } = await swapper.swap(source, target, resolveSwapOptions({}), { marks: false });
  assert.equal(image.width, target.width);
  assert.equal(image.height, target.height);
  assert.deepEqual(report.swappedFaces, [0]);

  const [targetFace] = await swapper.analyze(target);
  const outside = unchangedOutside(image, target, [targetFace], 0.25);
  const [x, y, w, h] = targetFace.box;
  // The inner face: cheeks, nose and mouth, away from the eye openings' feather.
  const inner = meanAbsDiff(image, target, Math.round(x + w * 0.2), Math.round(y + h * 0.55), Math.round(x + w * 0.8), Math.round(y + h * 0.9));
  const seam = seamRatio(image, target, maskEdgeBand(targetFace, target));
  const [outputFace] = await swapper.analyze(image);
  assert.ok(outputFace, 'a face is found on the output');
  const drift = landmarkError(outputFace, targetFace);
  t.diagnostic(
    `${sourceName} → ${targetName}: unchanged outside ${(outside * 100).toFixed(2)} %, inner change ${inner.toFixed(1)}, seam gradient ratio ${seam.toFixed(2)}, landmark drift ${(drift * 100).toFixed(2)} % of face size`,
  );

  assert.ok(outside >= 0.995, `outside the dilated face box ${(outside * 100).toFixed(2)} % of pixels are unchanged (need ≥ 99.5 %)`);
  assert.ok(inner > 6, `the face changed (mean abs difference ${inner.toFixed(1)})`);
  assert.ok(seam <= 1.5, `gradient across the mask edge is ${seam.toFixed(2)}× the target's (need ≤ 1.5)`);
  assert.ok(drift <= 0.03, `landmarks moved ${(drift * 100).toFixed(2)} % of the face size (need ≤ 3 %)`);
}

describe('mesh engine on the fixture photos', () => {
  test('astronaut onto grace_hopper', async (t) => checkSwap(t, 'astronaut.png', 'grace_hopper.jpg'));
  test('grace_hopper onto astronaut', async (t) => checkSwap(t, 'grace_hopper.jpg', 'astronaut.png'));

  test('--many-faces swaps every face of a three-face group picture', async (t) => {
    // The group holds two astronauts and one grace_hopper; swapping each identity in turn means
    // every face gets a foreign identity once (a large change) and its own once (a small one).
    const group = await makeGroupPicture(photos['astronaut.png'], photos['grace_hopper.jpg']);
    const faces = await swapper.analyze(group);
    assert.equal(faces.length, 3, 'the group picture has three detectable faces');
    const changes = faces.map(() => [] as number[]);
    for (const source of ['grace_hopper.jpg', 'astronaut.png']) {
      const { image, report } = await swapper.swap(photos[source], group, resolveSwapOptions({ manyFaces: true }), { marks: false });
      assert.deepEqual([...report.swappedFaces].sort(), [0, 1, 2]);
      assert.ok(unchangedOutside(image, group, faces, 0.25) >= 0.995);
      faces.forEach((face, i) => {
        const [x, y, w, h] = face.box;
        changes[i].push(meanAbsDiff(image, group, Math.round(x + w * 0.2), Math.round(y + h * 0.55), Math.round(x + w * 0.8), Math.round(y + h * 0.9)));
      });
    }
    faces.forEach((face, i) => {
      t.diagnostic(`face ${i} at ${face.box.map(Math.round).join(',')}: inner change ${changes[i].map((c) => c.toFixed(1)).join(' / ')}`);
      assert.ok(Math.max(...changes[i]) > 10, `face ${i} took on a foreign identity`);
      assert.ok(Math.min(...changes[i]) > 1, `face ${i} was repainted both times`);
    });
  });

  test('without --many-faces only the chosen face changes', async () => {
    const group = await makeGroupPicture(photos['astronaut.png'], photos['grace_hopper.jpg']);
    const faces = await swapper.analyze(group);
    const { image, report } = await swapper.swap(photos['astronaut.png'], group, resolveSwapOptions({}), { marks: false });
    assert.equal(report.swappedFaces.length, 1);
    const chosen = report.swappedFaces[0];
    faces.forEach((face, i) => {
      const [x, y, w, h] = face.box;
      const change = meanAbsDiff(image, group, Math.round(x), Math.round(y), Math.round(x + w), Math.round(y + h));
      if (i === chosen) assert.ok(change > 4, `chosen face ${i} changed by only ${change.toFixed(2)}`);
      else assert.ok(change < 0.5, `face ${i} was not asked for but changed by ${change.toFixed(2)}`);
    });
  });

  test('--face-outline bends the jaw line and its surroundings, and nothing beyond its ring', async (t) => {
    const target = photos['grace_hopper.jpg'];
    const [face] = await swapper.analyze(target);
    const plain = await swapper.swap(photos['astronaut.png'], target, resolveSwapOptions({}), { marks: false });
    const shaped = await swapper.swap(photos['astronaut.png'], target, resolveSwapOptions({ faceOutline: 1 }), { marks: false });
    // Just outside the outline beside the jaw (the ring), the frame moved with the new outline.
    const [x, y, w, h] = face.box;
    const beside =
      meanAbsDiff(shaped.image, plain.image, Math.round(x - w * 0.12), Math.round(y + h * 0.55), Math.round(x + w * 0.12), Math.round(y + h * 0.9)) +
      meanAbsDiff(shaped.image, plain.image, Math.round(x + w * 0.88), Math.round(y + h * 0.55), Math.round(x + w * 1.12), Math.round(y + h * 0.9));
    const outside = unchangedOutside(shaped.image, target, [face], 0.5);
    t.diagnostic(`change beside the jaw ${beside.toFixed(2)}, unchanged beyond half a face ${(outside * 100).toFixed(2)} %`);
    assert.ok(beside > 0.3, 'the jaw line and what is beside it moved');
    assert.ok(outside >= 0.995, `beyond the ring ${(outside * 100).toFixed(2)} % of pixels are unchanged`);
    // And --face-shape 0 is the target's geometry: the same as no shape at all.
    const none = await swapper.swap(photos['astronaut.png'], target, resolveSwapOptions({ faceShape: 0 }), { marks: false });
    assert.ok(meanAbsDiff(none.image, plain.image, 0, 0, target.width, target.height) > 0.05, 'shape transfer changes the default result');
  });

  test('opacity 0 leaves the target as it was', async () => {
    const target = photos['grace_hopper.jpg'];
    const { image } = await swapper.swap(photos['astronaut.png'], target, resolveSwapOptions({ opacity: 0 }), { marks: false });
    assert.ok(meanAbsDiff(image, target, 0, 0, target.width, target.height) < 0.05);
  });

  test("the mouth mask keeps the target's open mouth", async () => {
    // The astronaut smiles with her teeth showing: with the mask her teeth stay, without it they are painted over.
    const target = photos['astronaut.png'];
    const [face] = await swapper.analyze(target);
    const lips = [78, 13, 308, 14].map((i) => [face.landmarks[3 * i], face.landmarks[3 * i + 1]]);
    const x0 = Math.round(Math.min(...lips.map((p) => p[0])) + 3);
    const x1 = Math.round(Math.max(...lips.map((p) => p[0])) - 3);
    const y0 = Math.round(Math.min(...lips.map((p) => p[1])));
    const y1 = Math.round(Math.max(...lips.map((p) => p[1])));
    const withMask = await swapper.swap(photos['grace_hopper.jpg'], target, resolveSwapOptions({ mouthMask: true }), { marks: false });
    const without = await swapper.swap(photos['grace_hopper.jpg'], target, resolveSwapOptions({ mouthMask: false }), { marks: false });
    const kept = meanAbsDiff(withMask.image, target, x0, y0, x1, y1);
    const painted = meanAbsDiff(without.image, target, x0, y0, x1, y1);
    assert.ok(kept < painted, `mouth interior: ${kept.toFixed(1)} with the mask vs ${painted.toFixed(1)} without`);
  });
});

describe('source and target face choice', () => {
  test('several faces in the source: the largest is used, and the report says so', async () => {
    const group = await makeGroupPicture(photos['astronaut.png'], photos['grace_hopper.jpg']);
    const { report } = await swapper.swap(group, photos['astronaut.png'], resolveSwapOptions({}), { marks: false });
    assert.equal(report.sourceFaces.length, 3);
    assert.equal(report.sourceFaceUsed, 0);
    const areas = report.sourceFaces.map((f) => f.box[2] * f.box[3]);
    assert.equal(Math.max(...areas), areas[0], 'face 0 is the largest');
    assert.match(report.notices.join('\n'), /3 faces; using the largest/);
  });

  test('--source-face picks another source face, and no notice is given', async () => {
    const group = await makeGroupPicture(photos['astronaut.png'], photos['grace_hopper.jpg']);
    const { report } = await swapper.swap(group, photos['astronaut.png'], resolveSwapOptions({ sourceFace: 2 }), { marks: false });
    assert.equal(report.sourceFaceUsed, 2);
    assert.deepEqual(report.notices, []);
  });

  test('the default target face is the large central one, not the left-most', async () => {
    // Three faces: a small one at the far left, a large one in the middle, a medium one at the right.
    const { createImage: make } = await import('../../src/core/image.js');
    const { resizeToHeight } = await import('../../src/node/eval/demo-assets.js');
    const small = await resizeToHeight(photos['astronaut.png'], 300);
    const large = await resizeToHeight(photos['astronaut.png'], 520);
    const medium = await resizeToHeight(photos['astronaut.png'], 420, { mirror: true });
    const canvas = make(small.width + large.width + medium.width + 40, 540, 3);
    canvas.data.fill(120);
    const place = (img: Image, left: number, top: number) => {
      for (let y = 0; y < img.height; y++) canvas.data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((top + y) * canvas.width + left) * 3);
    };
    place(small, 0, 140);
    place(large, small.width + 20, 10);
    place(medium, small.width + large.width + 40, 70);
    const faces = await swapper.analyze(canvas);
    assert.equal(faces.length, 3);
    const { report } = await swapper.swap(photos['grace_hopper.jpg'], canvas, resolveSwapOptions({}), { marks: false });
    const chosen = report.targetFaces[report.swappedFaces[0]];
    const centreX = chosen.box[0] + chosen.box[2] / 2;
    assert.ok(centreX > small.width + 20 && centreX < small.width + 20 + large.width, `the swapped face is the middle one (centre x ${centreX.toFixed(0)})`);
  });
});

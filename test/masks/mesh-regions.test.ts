/**
 * Partial swaps with the mesh engine on the fixture photos (nothing downloaded): --mask-regions
 * changes only the chosen region, --keep-regions leaves the kept one as the target's, and mask
 * strength interpolates between the target and the swap. Regions are measured with the same
 * landmark parse the engine draws, shrunk (inside) or grown (outside) by a margin.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { dilate } from '../../src/core/filters.js';
import { cloneImage, type Image } from '../../src/core/image.js';
import { BISENET_CLASSES, meshLabelMap, type FaceRegion } from '../../src/face/face-regions.js';
import { faceSize, type Face } from '../../src/face/face.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import type { PreparedSource } from '../../src/pipeline/still.js';
import { resolvePaintOptions, type PaintOptions } from '../../src/pipeline/options.js';
import { decodeRgb, FIXTURES, loadFixture, TEST_HOME } from '../helpers/fixtures.js';

let swapper: NodeSwapper;
let target: Image;
let face: Face;
let prepared: PreparedSource;
let labels: Uint8Array;
let full: Image;

/** The target painted under `options` (mouth mask off, so the mouth is the engine's to paint). */
async function paint(options: Partial<PaintOptions>): Promise<Image> {
  const out = cloneImage(target);
  await swapper.paintFaces(out, [{ face, identity: prepared.identity }], resolvePaintOptions({ engine: 'mesh', mouthMask: false, ...options }));
  return out;
}

/** Mean absolute difference (0..255, all channels) over the pixels `where` picks, and how many. */
function meanDiff(a: Image, b: Image, where: (i: number) => boolean): { mean: number; pixels: number } {
  let sum = 0;
  let pixels = 0;
  for (let i = 0; i < a.width * a.height; i++) {
    if (!where(i)) continue;
    for (let k = 0; k < 3; k++) sum += Math.abs(a.data[3 * i + k] - b.data[3 * i + k]);
    pixels++;
  }
  return { mean: sum / Math.max(1, 3 * pixels), pixels };
}

/** Inside: the region shrunk by 1 % of the face; outside: the face box farther than 6 % of the face from it. */
function regionSets(region: FaceRegion): { inside: (i: number) => boolean; outside: (i: number) => boolean } {
  const { width: w, height: h } = target;
  const size = faceSize(face);
  const mask = new Float32Array(w * h);
  const rest = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) {
    mask[i] = labels[i] === BISENET_CLASSES[region] ? 1 : 0;
    rest[i] = 1 - mask[i];
  }
  const near = dilate(mask, w, h, 2 * Math.round(0.06 * size) + 1);
  const edge = dilate(rest, w, h, 2 * Math.round(0.01 * size) + 1);
  const [bx, by, bw, bh] = face.box;
  const inBox = (i: number) => {
    const x = i % w;
    const y = Math.floor(i / w);
    return x >= bx && x < bx + bw && y >= by && y < by + bh;
  };
  return { inside: (i) => edge[i] === 0, outside: (i) => near[i] === 0 && inBox(i) };
}

before(async () => {
  swapper = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
  // The astronaut at twice its size: her face is about 210 pixels across, her smile open.
  target = await decodeRgb(await sharp(`${FIXTURES}astronaut.png`).resize(1024, 1024).png().toBuffer());
  prepared = await swapper.prepareSource(await loadFixture('grace_hopper.jpg'), { sourceFace: undefined, maxPixels: 50_000_000 });
  [face] = await swapper.analyze(target);
  assert.ok(face, 'the target face is found');
  labels = meshLabelMap(face.landmarks, 3, target.width, target.height, (x, y) => [x, y]);
  // The whole face with the target's geometry: what a partial swap takes its regions from.
  full = await paint({ faceShape: 0 });
});
after(async () => {
  await swapper?.close();
});

describe('mesh engine region masks', () => {
  test('--mask-regions nose changes the nose and nothing away from it', async () => {
    const only = await paint({ maskRegions: ['nose'] });
    const { inside, outside } = regionSets('nose');
    const changed = meanDiff(only, target, inside);
    const asFull = meanDiff(only, full, inside);
    const away = meanDiff(only, target, outside);
    console.log(
      `nose only: inside vs target ${changed.mean.toFixed(2)} (${changed.pixels} px), inside vs full swap ${asFull.mean.toFixed(2)}, outside vs target ${away.mean.toFixed(3)} (${away.pixels} px)`,
    );
    assert.ok(changed.pixels > 500, 'the nose has pixels to measure');
    assert.ok(changed.mean > 10, `the nose is swapped (${changed.mean.toFixed(2)})`);
    assert.ok(asFull.mean < 2, `the nose is the full swap's (${asFull.mean.toFixed(2)})`);
    assert.ok(away.mean < 1, `away from the nose the face is the target's (${away.mean.toFixed(3)})`);
  });

  test('--keep-regions nose keeps the nose and swaps the rest', async () => {
    const keep = await paint({ keepRegions: ['nose'] });
    const { inside, outside } = regionSets('nose');
    const kept = meanDiff(keep, target, inside);
    const rest = meanDiff(keep, full, outside);
    const swapped = meanDiff(keep, target, outside);
    console.log(`nose kept: inside vs target ${kept.mean.toFixed(3)}, outside vs full swap ${rest.mean.toFixed(3)}, outside vs target ${swapped.mean.toFixed(2)}`);
    assert.ok(kept.mean < 0.5, `the nose is the target's (${kept.mean.toFixed(3)})`);
    assert.ok(rest.mean < 1, `the rest is the full swap's (${rest.mean.toFixed(3)})`);
    assert.ok(swapped.mean > 5, `the rest is swapped (${swapped.mean.toFixed(2)})`);
  });

  test('a small kept region (an eyebrow, the lower lip) stays the target: the blend carries no swapped colour into it', async () => {
    for (const region of ['left-eyebrow', 'lower-lip'] as const) {
      const keep = await paint({ keepRegions: [region] });
      const { inside, outside } = regionSets(region);
      const kept = meanDiff(keep, target, inside);
      const rest = meanDiff(keep, full, outside);
      console.log(`${region} kept: inside vs target ${kept.mean.toFixed(3)} (${kept.pixels} px), outside vs full swap ${rest.mean.toFixed(3)}`);
      assert.ok(kept.pixels > 100, `${region} has pixels to measure`);
      assert.ok(kept.mean < 0.3, `${region} is the target's (${kept.mean.toFixed(3)})`);
      assert.ok(rest.mean < 1, `the rest is the full swap's (${rest.mean.toFixed(3)})`);
    }
  });

  test('--keep-regions mouth leaves the open mouth as the target', async () => {
    const keep = await paint({ keepRegions: ['mouth'] });
    const { inside } = regionSets('mouth');
    const kept = meanDiff(keep, target, inside);
    const swapped = meanDiff(full, target, inside);
    console.log(`mouth kept: inside vs target ${kept.mean.toFixed(3)} (${kept.pixels} px); the full swap there ${swapped.mean.toFixed(2)}`);
    assert.ok(kept.pixels > 100, 'the open mouth has pixels to measure');
    assert.ok(swapped.mean > 20, 'the full swap paints the mouth');
    assert.ok(kept.mean < 1, `the mouth is the target's (${kept.mean.toFixed(3)})`);
  });

  test('mask strength: 0 is the target, 1 the full swap, 0.5 midway', async () => {
    const [bx, by, bw, bh] = face.box;
    const inBox = (i: number) => {
      const x = i % target.width;
      const y = Math.floor(i / target.width);
      return x >= bx && x < bx + bw && y >= by && y < by + bh;
    };
    const zero = await paint({ maskStrength: 0 });
    assert.deepEqual(zero.data, target.data, 'strength 0 leaves the target untouched');
    const whole = await paint({ maskStrength: 1, faceShape: 0 });
    assert.deepEqual(whole.data, full.data, 'strength 1 is the full swap');
    const half = await paint({ maskStrength: 0.5 });
    // Midway pixel by pixel: half − (target + full)/2, within rounding of the 8-bit frame. The eyes
    // are left out: the full swap recolours the irises in the frame itself, which strength < 1 does not.
    const eyes = new Set([BISENET_CLASSES['left-eye'], BISENET_CLASSES['right-eye']]);
    let worst = 0;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < target.width * target.height; i++) {
      if (!inBox(i) || eyes.has(labels[i])) continue;
      for (let k = 0; k < 3; k++) {
        const d = Math.abs(half.data[3 * i + k] - (target.data[3 * i + k] + full.data[3 * i + k]) / 2);
        worst = Math.max(worst, d);
        sum += d;
        n++;
      }
    }
    const toTarget = meanDiff(half, target, inBox).mean;
    const toFull = meanDiff(half, full, inBox).mean;
    console.log(`strength 0.5: vs target ${toTarget.toFixed(2)}, vs full ${toFull.toFixed(2)}, from the midpoint mean ${(sum / n).toFixed(3)} worst ${worst.toFixed(1)}`);
    assert.ok(sum / n < 0.6 && worst <= 2, `0.5 is the midpoint of target and swap (mean off by ${(sum / n).toFixed(3)})`);
    assert.ok(Math.abs(toTarget - toFull) < 0.15 * (toTarget + toFull), 'as far from the target as from the full swap');
  });

  test('the options refuse unknown regions and take comma-separated text', () => {
    assert.deepEqual(resolvePaintOptions({ maskRegions: ['nose,mouth'] as never }).maskRegions, ['nose', 'mouth']);
    assert.deepEqual(resolvePaintOptions({ maskPadding: ['10,20'] as never }).maskPadding, [10, 20, 10, 20]);
    assert.throws(() => resolvePaintOptions({ maskRegions: ['ears'] as never }), /maskRegions/);
    assert.throws(() => resolvePaintOptions({ maskStrength: 2 }), /maskStrength/);
  });
});

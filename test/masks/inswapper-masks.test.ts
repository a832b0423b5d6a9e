/**
 * Masks on the inswapper engine, end to end through the Node swapper with stand-in models (the
 * insightface stand-ins and an XSeg stand-in, installed in a store whose registry has their
 * hashes, so engine selection verifies them and hands the mask model to the engine): a partial
 * swap drawn from FaceMesh's points changes only the chosen region, and what the occluder marks
 * as covered keeps the target; both also with a pixel boost (the masks made in the boosted crop).
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyAffine, type Affine } from '../../src/core/affine.js';
import { cloneImage, type Image } from '../../src/core/image.js';
import { BISENET_CLASSES, meshLabelMap } from '../../src/face/face-regions.js';
import type { Face } from '../../src/face/face.js';
import { estimateNormFor } from '../../src/face/model-input.js';
import { MODEL_SPECS } from '../../src/models/model-spec.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { resolvePaintOptions, type PaintOptions } from '../../src/pipeline/options.js';
import type { PreparedSource } from '../../src/pipeline/still.js';
import { arcfaceStandin, inswapperStandin, scrfdStandin, standinStore } from '../helpers/standin-models.js';
import { loadFixture, TEST_HOME } from '../helpers/fixtures.js';
import { xsegStandin, type Box } from './mask-standins.js';

/** Covered in XSeg's 256×256 input, the 128-pixel swapper crop at twice its size: the mouth and chin. */
const COVERED: Box = [64, 176, 192, 250];

let dir: string;
let swapper: NodeSwapper;
let target: Image;
let face: Face;
let prepared: PreparedSource;
let matrix: Affine;
let fullSwap: Image;

async function paint(options: Partial<PaintOptions>): Promise<Image> {
  const out = cloneImage(target);
  await swapper.paintFaces(out, [{ face, identity: prepared.identity }], resolvePaintOptions({ engine: 'inswapper', ...options }));
  return out;
}

function meanDiff(a: Image, b: Image, where: (x: number, y: number) => boolean): { mean: number; pixels: number } {
  let sum = 0;
  let pixels = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (!where(x, y)) continue;
      const i = (y * a.width + x) * 3;
      for (let k = 0; k < 3; k++) sum += Math.abs(a.data[i + k] - b.data[i + k]);
      pixels++;
    }
  }
  return { mean: sum / Math.max(1, 3 * pixels), pixels };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-inswapper-masks-'));
  // As test/swap/inswapper-engine.test.ts: the stand-in detector answers the astronaut's face for
  // any input, so the target is the astronaut recoloured.
  const source = await loadFixture('astronaut.png');
  target = cloneImage(source);
  for (let i = 0; i < target.data.length; i += 3) target.data.set([target.data[i + 2] * 0.9, target.data[i] * 0.8 + 20, target.data[i + 1]], i);
  const mesh = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
  const [meshFace] = await mesh.analyze(source);
  await mesh.close();
  const toCanvas = (v: ArrayLike<number>) => Array.from(v, (x) => (x - 0.5) * 1.25);
  const box = [meshFace.box[0], meshFace.box[1], meshFace.box[0] + meshFace.box[2], meshFace.box[1] + meshFace.box[3]];
  const store = await standinStore(join(dir, 'home'), {
    det_10g: scrfdStandin([{ box: toCanvas(box) as [number, number, number, number], kps5: toCanvas(meshFace.kps5), score: 0.92 }]),
    w600k_r50: arcfaceStandin(),
    inswapper_128: inswapperStandin(),
    xseg_1: xsegStandin('xseg_1', COVERED),
  });
  swapper = await createNodeSwapper({ home: TEST_HOME, store, engine: 'inswapper' });
  prepared = await swapper.prepareSource(source, { sourceFace: undefined, maxPixels: 50_000_000 });
  [face] = await swapper.analyze(target);
  assert.ok(face && face.meshScore > 0, 'the target face has FaceMesh points');
  matrix = estimateNormFor(face.kps5Reference ?? face.kps5.map((v) => v - 0.5), MODEL_SPECS.inswapper_128.input);
  fullSwap = await paint({});
});
after(async () => {
  await swapper?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('inswapper engine masks (stand-ins)', () => {
  async function noseOnly(boost?: number): Promise<void> {
    const extra = boost ? { pixelBoost: boost } : {};
    const nose = await paint({ maskRegions: ['nose'], ...extra });
    const full = boost ? await paint(extra) : fullSwap;
    const labels = meshLabelMap(face.landmarks, 3, target.width, target.height, (x, y) => [x, y]);
    const isNose = (x: number, y: number) => labels[y * target.width + x] === BISENET_CLASSES.nose;
    let [nx0, ny0, nx1, ny1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== BISENET_CLASSES.nose) continue;
      const [x, y] = [i % target.width, Math.floor(i / target.width)];
      [nx0, ny0, nx1, ny1] = [Math.min(nx0, x), Math.min(ny0, y), Math.max(nx1, x), Math.max(ny1, y)];
    }
    const reach = 0.08 * Math.max(face.box[2], face.box[3]);
    const away = (x: number, y: number) => x < nx0 - reach || x > nx1 + reach || y < ny0 - reach || y > ny1 + reach;
    const changed = meanDiff(nose, target, isNose);
    const asFull = meanDiff(nose, full, isNose);
    const rest = meanDiff(nose, target, away);
    const fullRest = meanDiff(full, target, away);
    console.log(
      `inswapper${boost ? ` (pixel boost ${boost})` : ''} nose: inside vs target ${changed.mean.toFixed(2)} (${changed.pixels} px), vs full ${asFull.mean.toFixed(2)}; away vs target ${rest.mean.toFixed(3)} (full swap there ${fullRest.mean.toFixed(2)})`,
    );
    assert.ok(changed.mean > 5 && asFull.mean < 0.25 * changed.mean, 'the nose is swapped');
    assert.ok(fullRest.mean > 1 && rest.mean < 0.05, `away from the nose the target stays (${rest.mean.toFixed(3)})`);
  }

  test('--mask-regions nose from FaceMesh points changes the nose and nothing away from it', () => noseOnly());

  test('with --pixel-boost 256 the regions are made in the boosted crop: the nose changes, nothing away from it', () => noseOnly(256));

  async function occlusion(boost?: number): Promise<void> {
    const extra = boost ? { pixelBoost: boost } : {};
    const occluded = await paint({ occlusionMask: 'xseg_1', ...extra });
    const full = boost ? await paint(extra) : fullSwap;
    const at = (x: number, y: number) => applyAffine(matrix, x, y).map((v) => v * 2);
    const covered = (x: number, y: number) => {
      const [u, v] = at(x, y);
      return u >= COVERED[0] + 2 && u < COVERED[2] - 2 && v >= COVERED[1] + 2 && v < COVERED[3] - 2;
    };
    const clear = (x: number, y: number) => {
      const [u, v] = at(x, y);
      return u >= 0 && v >= 0 && u < 256 && v < 256 && (u < COVERED[0] - 30 || u >= COVERED[2] + 30 || v < COVERED[1] - 30);
    };
    const kept = meanDiff(occluded, target, covered);
    const swappedThere = meanDiff(full, target, covered);
    const elsewhere = meanDiff(occluded, full, clear);
    console.log(
      `inswapper${boost ? ` (pixel boost ${boost})` : ''} occlusion: covered vs target ${kept.mean.toFixed(3)} (${kept.pixels} px; full swap there ${swappedThere.mean.toFixed(2)}), elsewhere vs full ${elsewhere.mean.toFixed(3)}`,
    );
    assert.ok(swappedThere.mean > 2, 'the covered part is on the swapped face');
    assert.ok(kept.mean < 0.05, `the covered part stays the target (${kept.mean.toFixed(3)})`);
    assert.ok(elsewhere.mean < 0.5, `the rest is the full swap (${elsewhere.mean.toFixed(3)})`);
  }

  test('--occlusion-mask xseg_1: what the stand-in marks as covered stays the target', () => occlusion());

  test('--occlusion-mask xseg_1 with --pixel-boost 256: XSeg reads the boosted crop, the covered part stays the target', () => occlusion(256));
});

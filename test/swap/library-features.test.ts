/**
 * Every swapper, mask and enhancer option through the library's own entry (src/index.ts), end to
 * end with stand-in models of each row's exact I/O in one model store: each FaceFusion swapper row
 * and InSwapper swap a face; on one swapper, pixel boost, the enhancer with its blend and CodeFormer's
 * weight, XSeg occlusion, regions and kept regions from a BiSeNet parser, and the box mask's padding,
 * blur and strength each do what they say (measured inside and outside the crop areas they name);
 * and the command line with every one of those flags at once.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runSwap } from '../../src/cli/swap-command.js';
import { applyAffine, type Affine } from '../../src/core/affine.js';
import {
  cloneImage,
  createNodeSwapper,
  ENGINE_NAMES,
  FACE_ENHANCERS,
  FACE_PARSERS,
  FACE_REGIONS,
  LiveswapError,
  OCCLUSION_MASKS,
  PIXEL_BOOSTS,
  readImage,
  resolveSwapOptions,
  writeImage,
  type Face,
  type Image,
  type NodeSwapper,
  type SwapOptions,
} from '../../src/index.js';
import { estimateNormFor } from '../../src/face/model-input.js';
import { FACEFUSION_SWAPPER_IDS } from '../../src/models/model-spec-facefusion.js';
import { MODEL_SPECS, type ModelSpec } from '../../src/models/model-spec.js';
import { converterStandin, enhancerStandin, swapperStandin } from '../helpers/facefusion-standins.js';
import { arcfaceStandin, inswapperStandin, scrfdStandin, standinStore } from '../helpers/standin-models.js';
import { loadFixture, TEST_HOME } from '../helpers/fixtures.js';
import { bisenetStandin, xsegStandin, type Box } from '../masks/mask-standins.js';

/** In XSeg's 256×256 input (the swapper crop resized): the mouth and chin are covered. */
const COVERED: Box = [64, 176, 192, 250];
/** In BiSeNet's 512×512 input: this box is labelled nose (10). */
const NOSE: Box = [176, 208, 336, 368];

let dir: string;
let source: Image;
let target: Image;
let swapper: NodeSwapper;
let face: Face;
/** Frame → hyperswap_1a_256's 256 crop (arcface_128 template). */
let matrix: Affine;
let plain: Image;
const models: Record<string, Uint8Array> = {};

const swap = async (options: Partial<SwapOptions>, on = swapper): Promise<Image> => (await on.swap(source, target, resolveSwapOptions(options), { marks: false })).image;

/** Mean absolute difference of a and b over the frame pixels `where` picks (by their crop coordinates u, v at 256). */
function meanDiff(a: Image, b: Image, where: (u: number, v: number) => boolean): { mean: number; pixels: number } {
  let sum = 0;
  let pixels = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const [u, v] = applyAffine(matrix, x, y);
      if (!where(u, v)) continue;
      const i = (y * a.width + x) * 3;
      for (let k = 0; k < 3; k++) sum += Math.abs(a.data[i + k]! - b.data[i + k]!);
      pixels++;
    }
  }
  return { mean: sum / Math.max(1, 3 * pixels), pixels };
}
/** Crop coordinates (at 256) inside `box` given in a `side`-pixel model input, shrunk by `margin` there. */
const inBox = (box: Box, side: number, margin: number) => (u: number, v: number) => {
  const [p, q] = [(u * side) / 256, (v * side) / 256];
  return p >= box[0] + margin && p < box[2] - margin && q >= box[1] + margin && q < box[3] - margin;
};
const inCrop = (u: number, v: number) => u >= 24 && v >= 24 && u < 232 && v < 232;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-library-features-'));
  source = await loadFixture('astronaut.png');
  target = cloneImage(source);
  for (let i = 0; i < target.data.length; i += 3) target.data.set([target.data[i + 2]! * 0.9, target.data[i]! * 0.8 + 20, target.data[i + 1]!], i);
  const mesh = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
  const [meshFace] = await mesh.analyze(source);
  await mesh.close();
  const toCanvas = (v: ArrayLike<number>) => Array.from(v, (x) => (x - 0.5) * 1.25);
  const box = [meshFace!.box[0], meshFace!.box[1], meshFace!.box[0] + meshFace!.box[2], meshFace!.box[1] + meshFace!.box[3]];
  models.det_10g = scrfdStandin([{ box: toCanvas(box) as [number, number, number, number], kps5: toCanvas(meshFace!.kps5), score: 0.92 }]);
  models.w600k_r50 = arcfaceStandin();
  models.inswapper_128 = inswapperStandin();
  for (const id of ['crossface_ghost', 'crossface_hififace', 'crossface_simswap']) models[id] = converterStandin();
  for (const id of FACEFUSION_SWAPPER_IDS) models[id] = swapperStandin(MODEL_SPECS[id] as ModelSpec, 'source');
  models['gfpgan_1.4'] = enhancerStandin(MODEL_SPECS['gfpgan_1.4'], 0.5, 0);
  models.codeformer = enhancerStandin(MODEL_SPECS.codeformer, 0, 0);
  models.xseg_1 = xsegStandin('xseg_1', COVERED);
  models.bisenet_resnet_34 = bisenetStandin('bisenet_resnet_34', 10, NOSE);
  const store = await standinStore(join(dir, 'home'), models);
  swapper = await createNodeSwapper({ home: TEST_HOME, store, engine: 'hyperswap_1a_256' });
  [face] = await swapper.analyze(target);
  matrix = estimateNormFor(face!.kps5Reference ?? face!.kps5.map((v) => v - 0.5), MODEL_SPECS.hyperswap_1a_256.input);
  plain = await swap({});
});
after(async () => {
  await swapper?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the library: every feature end to end on stand-ins', () => {
  test("the choice lists are the library's exports", () => {
    assert.ok(FACEFUSION_SWAPPER_IDS.every((id) => (ENGINE_NAMES as readonly string[]).includes(id)));
    assert.deepEqual([...FACE_REGIONS].sort(), ['glasses', 'left-eye', 'left-eyebrow', 'lower-lip', 'mouth', 'nose', 'right-eye', 'right-eyebrow', 'skin', 'upper-lip'].sort());
    assert.ok(FACE_PARSERS.includes('bisenet_resnet_34') && OCCLUSION_MASKS.includes('all') && FACE_ENHANCERS.includes('codeformer') && PIXEL_BOOSTS.includes(1024));
  });

  test('every swapper row (and inswapper) swaps the face, each with its converter or image source', async () => {
    const store = await standinStore(join(dir, 'each'), models);
    const changed: string[] = [];
    for (const engine of ['inswapper', ...FACEFUSION_SWAPPER_IDS] as const) {
      const each = await createNodeSwapper({ home: TEST_HOME, store, engine });
      try {
        const result = await each.swap(source, target, resolveSwapOptions({}), { marks: false });
        assert.equal(result.report.engine, engine);
        const diff = meanDiff(result.image, target, inCrop).mean;
        assert.ok(diff > 3, `${engine}: the face changed (${diff.toFixed(2)})`);
        changed.push(`${engine} ${diff.toFixed(1)}`);
      } finally {
        await each.close();
      }
    }
    console.log(`mean change in the crop: ${changed.join(', ')}`);
  });

  test('pixel boost: tiles at 512 give the stand-in face as at 256; a size the model does not divide is a usage error', async () => {
    const boosted = await swap({ pixelBoost: 512 });
    assert.ok(meanDiff(boosted, plain, inBox([48, 48, 208, 208], 256, 0)).mean < 2);
    await assert.rejects(swap({ pixelBoost: 384 }), (e: unknown) => e instanceof LiveswapError && e.kind === 'usage');
  });

  test("face enhancer: blend 0 changes nothing, blend 100 does; CodeFormer's weight reaches the face", async () => {
    assert.deepEqual((await swap({ faceEnhancer: 'gfpgan_1.4', faceEnhancerBlend: 0 })).data, plain.data);
    const enhanced = await swap({ faceEnhancer: 'gfpgan_1.4', faceEnhancerBlend: 100 });
    assert.ok(meanDiff(enhanced, plain, inCrop).mean > 2);
    const low = await swap({ faceEnhancer: 'codeformer', faceEnhancerBlend: 100, faceEnhancerWeight: 0 });
    const high = await swap({ faceEnhancer: 'codeformer', faceEnhancerBlend: 100, faceEnhancerWeight: 1 });
    assert.ok(meanDiff(low, high, inBox([64, 64, 192, 192], 256, 0)).mean > 20, 'weight 0 and 1 give different faces');
  });

  test('occlusion (XSeg) keeps the covered part, for the swap and the enhancer', async () => {
    const covered = inBox(COVERED, 256, 12);
    for (const extra of [{}, { faceEnhancer: 'gfpgan_1.4' as const, faceEnhancerBlend: 100 }]) {
      const full = Object.keys(extra).length ? await swap(extra) : plain;
      const occluded = await swap({ occlusionMask: 'xseg_1', ...extra });
      const kept = meanDiff(occluded, target, covered);
      assert.ok(meanDiff(full, target, covered).mean > 3, 'the covered part is swapped without occlusion');
      assert.ok(kept.pixels > 100 && kept.mean < 0.5, `covered stays the target (${kept.mean.toFixed(3)}, ${JSON.stringify(extra)})`);
      assert.ok(meanDiff(occluded, full, inBox([48, 40, 208, 120], 256, 0)).mean < 0.5, 'the clear part is as without occlusion');
    }
  });

  test('regions from the BiSeNet parser: --mask-regions nose changes the nose only, --keep-regions nose keeps it', async () => {
    const nose = await swap({ maskRegions: ['nose'], faceParser: 'bisenet_resnet_34' });
    const kept = await swap({ keepRegions: ['nose'], faceParser: 'bisenet_resnet_34' });
    const inside = inBox(NOSE, 512, 24);
    const outside = (u: number, v: number) => inCrop(u, v) && !inBox(NOSE, 512, -16)(u, v);
    const rows = {
      noseInside: meanDiff(nose, target, inside).mean,
      noseOutside: meanDiff(nose, target, outside).mean,
      keptInside: meanDiff(kept, target, inside).mean,
      keptOutside: meanDiff(kept, plain, outside).mean,
    };
    console.log(`parser regions: ${JSON.stringify(rows)}`);
    assert.ok(rows.noseInside > 3 && rows.noseOutside < 0.5, 'only the nose box is swapped');
    assert.ok(rows.keptInside < 0.5 && rows.keptOutside < 0.5, 'the kept nose stays the target, the rest is the full swap');
  });

  test('box mask padding and blur, and mask strength', async () => {
    const padded = await swap({ maskPadding: [60, 0, 0, 0] });
    const eyes = inBox([40, 60, 216, 120], 256, 0);
    assert.ok(meanDiff(padded, target, eyes).mean < 0.5 && meanDiff(plain, target, eyes).mean > 3, 'the padded-off top keeps the target');
    const sharp = await swap({ maskBlur: 0 });
    const edge = (u: number, v: number) => inCrop(u, v) && !inBox([40, 40, 216, 216], 256, 0)(u, v);
    assert.ok(meanDiff(sharp, plain, edge).mean > 0.5, 'blur 0 changes the edge');
    const half = await swap({ maskStrength: 0.5 });
    const full = meanDiff(plain, target, inCrop).mean;
    const partial = meanDiff(half, target, inCrop).mean;
    assert.ok(Math.abs(partial - full / 2) < 0.1 * full, `strength 0.5: ${partial.toFixed(2)} of ${full.toFixed(2)}`);
  });
});

describe('the command line: every mask, parser, occlusion and enhancer flag at once', () => {
  test('liveswap swap --engine hyperswap_1a_256 with each flag given', async () => {
    const store = await standinStore(join(dir, 'cli'), models);
    const [sourcePath, targetPath, output] = ['source.png', 'target.png', 'out.png'].map((name) => join(dir, name));
    await writeImage(sourcePath!, source);
    await writeImage(targetPath!, target);
    const out: string[] = [];
    await runSwap(
      {
        source: sourcePath,
        target: targetPath,
        output,
        engine: 'hyperswap_1a_256',
        pixelBoost: '512',
        swapperWeight: '0.6',
        maskRegions: ['skin,nose'],
        keepRegions: ['mouth'],
        faceParser: 'bisenet_resnet_34',
        maskStrength: '0.9',
        maskPadding: ['5,0,0,0'],
        maskBlur: '0.2',
        occlusionMask: 'xseg_1',
        faceEnhancer: 'codeformer',
        faceEnhancerBlend: '70',
        faceEnhancerWeight: '0.3',
        json: true,
      },
      { out: (t) => out.push(t), err: () => undefined },
      (r) => createNodeSwapper({ ...r, home: TEST_HOME, store }),
    );
    const summary = JSON.parse(out.join('')) as { engine: string; swappedFaces: number[] };
    assert.equal(summary.engine, 'hyperswap_1a_256');
    assert.deepEqual(summary.swappedFaces, [0]);
    const written = await readImage(output!, { maxPixels: 50_000_000 });
    assert.ok(meanDiff(written, target, inBox([48, 40, 208, 160], 256, 0)).mean > 3, 'the face changed');
    assert.ok(meanDiff(written, target, inBox(COVERED, 256, 12)).mean < 2, 'the covered part stays');
  });
});

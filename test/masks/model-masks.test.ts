/**
 * The mask models' code paths with stand-in ONNX files (mask-standins.ts) and the mask arithmetic
 * against the spec's formulas: an XSeg stand-in that marks a rectangle as covered keeps the
 * target there; a BiSeNet stand-in that labels a box "nose" makes --mask-regions nose change
 * only that box; a model asked for and not installed is an error naming the pull command; the
 * box mask (F9.1–F9.3), the refinement (F9.5) and the combination (minimum, clipped) reproduce
 * values computed here from the formulas.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyAffine, type Affine } from '../../src/core/affine.js';
import { gaussianBlur } from '../../src/core/filters.js';
import { cloneImage, type Image } from '../../src/core/image.js';
import { Compositor } from '../../src/compose/paste.js';
import type { SwapSettings } from '../../src/compose/patch.js';
import { applyCropMasks, boxMask, combineMasks, refineModelMask, type CropMask } from '../../src/compose/region-mask.js';
import { faceSize, type Face } from '../../src/face/face.js';
import { estimateNormFor } from '../../src/face/model-input.js';
import { MODEL_SPECS, type ModelSpecId } from '../../src/models/model-spec.js';
import { nodeModelReader } from '../../src/node/models/model-bytes.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { loadModel } from '../../src/pipeline/engines.js';
import { maskModelLoader } from '../../src/pipeline/mask-models.js';
import type { InferenceSession } from '../../src/models/runtime.js';
import { BOX_MASK_CROP, MeshSwapper, type MeshIdentity } from '../../src/swap/mesh-engine.js';
import { loadFixture, TEST_HOME } from '../helpers/fixtures.js';
import { bisenetStandin, xsegStandin, type Box } from './mask-standins.js';

/** Covered in XSeg's 256×256 input (the crop itself): over the mouth and chin, like a hand. */
const COVERED: Box = [64, 176, 192, 250];
/** Labelled nose in BiSeNet's 512×512 input (the crop at twice its size). */
const NOSE: Box = [200, 220, 312, 340];

let swapper: NodeSwapper;
let dir: string;
const sessions: InferenceSession[] = [];
let target: Image;
let face: Face;
let identity: MeshIdentity;
let engine: MeshSwapper;
let matrix: Affine;

/** The target painted by the mesh engine with these masks (mouth mask off, colour matched). */
async function paint(masks: SwapSettings['masks'], on: MeshSwapper = engine, faceShape?: number, mouthMask = false): Promise<Image> {
  const settings: SwapSettings = { mouthMask, opacity: 1, sharpness: 0, colorMatch: true, masks, faceShape };
  const out = cloneImage(target);
  new Compositor().compose(out, await on.render(out, face, identity, settings), settings);
  return out;
}

/** Mean absolute difference over the frame pixels whose crop coordinates (256 crop) `where` accepts, inside the face box. */
function meanDiff(a: Image, b: Image, where: (u: number, v: number) => boolean): { mean: number; pixels: number } {
  const [bx, by, bw, bh] = face.box;
  let sum = 0;
  let pixels = 0;
  for (let y = Math.floor(by); y < by + bh; y++) {
    for (let x = Math.floor(bx); x < bx + bw; x++) {
      const [u, v] = applyAffine(matrix, x, y);
      if (!where(u, v)) continue;
      const i = (y * a.width + x) * 3;
      for (let k = 0; k < 3; k++) sum += Math.abs(a.data[i + k] - b.data[i + k]);
      pixels++;
    }
  }
  return { mean: sum / Math.max(1, 3 * pixels), pixels };
}

const inBox = (box: Box, scale: number, margin: number) => (u: number, v: number) =>
  u * scale >= box[0] + margin && u * scale < box[2] - margin && v * scale >= box[1] + margin && v * scale < box[3] - margin;

before(async () => {
  swapper = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
  dir = mkdtempSync(join(tmpdir(), 'liveswap-mask-models-'));
  const files: Partial<Record<ModelSpecId, string>> = {};
  const write = (id: ModelSpecId, bytes: Uint8Array) => {
    files[id] = join(dir, MODEL_SPECS[id].origin === 'download' ? MODEL_SPECS[id].file : `${id}.onnx`);
    writeFileSync(files[id], bytes);
  };
  write('xseg_1', xsegStandin('xseg_1', COVERED));
  write('bisenet_resnet_34', bisenetStandin('bisenet_resnet_34', 10, NOSE));
  const runtime = createNodeRuntime({ threads: 1 });
  const reader = nodeModelReader(TEST_HOME);
  engine = new MeshSwapper(
    undefined,
    maskModelLoader(files, (row, location) => loadModel(row, location, reader, runtime), sessions, []),
  );
  const source = await loadFixture('grace_hopper.jpg');
  const [sourceFace] = await swapper.analyze(source);
  identity = engine.createIdentity(source, sourceFace);
  target = await loadFixture('astronaut.png');
  [face] = await swapper.analyze(target);
  matrix = estimateNormFor(
    face.kps5.map((v) => v - 0.5),
    BOX_MASK_CROP,
  );
});
after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await swapper?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('mask models with stand-ins', () => {
  test('XSeg: what the occluder marks as covered keeps the target', async () => {
    const full = await paint({ regions: undefined });
    const occluded = await paint({ occlusion: 'xseg_1' });
    const covered = inBox(COVERED, 1, 2);
    const clear = (u: number, v: number) => !inBox(COVERED, 1, -14)(u, v);
    const kept = meanDiff(occluded, target, covered);
    const swappedThere = meanDiff(full, target, covered);
    const elsewhere = meanDiff(occluded, full, clear);
    console.log(
      `occlusion: covered vs target ${kept.mean.toFixed(3)} (${kept.pixels} px; the full swap there ${swappedThere.mean.toFixed(2)}), elsewhere vs full swap ${elsewhere.mean.toFixed(3)} (${elsewhere.pixels} px)`,
    );
    assert.ok(kept.pixels > 200 && swappedThere.mean > 5, 'the covered part is on the swapped face');
    assert.ok(kept.mean < 1, `the covered part stays the target's (${kept.mean.toFixed(3)})`);
    assert.ok(elsewhere.mean < 1, `the rest is the full swap's (${elsewhere.mean.toFixed(3)})`);
  });

  test('BiSeNet: --mask-regions nose with a parser that labels a box "nose" changes only that box', async () => {
    const nose = await paint({ regions: ['nose'], parser: 'bisenet_resnet_34' });
    // A partial swap keeps the target's geometry, and its mouth when the mouth is not chosen: the whole face painted so.
    const full = await paint(undefined, engine, 0, true);
    // F9.7 then F9.5: the selection shrinks by about 2σ (10 crop pixels) before it reaches 1.
    const inside = inBox(NOSE, 2, 24);
    const outside = (u: number, v: number) => !inBox(NOSE, 2, -8)(u, v);
    const changed = meanDiff(nose, target, inside);
    const asFull = meanDiff(nose, full, inside);
    const away = meanDiff(nose, target, outside);
    console.log(
      `parser nose: inside vs target ${changed.mean.toFixed(2)} (${changed.pixels} px), inside vs full ${asFull.mean.toFixed(3)}, outside vs target ${away.mean.toFixed(3)} (${away.pixels} px)`,
    );
    assert.ok(changed.pixels > 50 && changed.mean > 5, `the box is swapped (${changed.mean.toFixed(2)})`);
    assert.ok(asFull.mean < 2, `as the full swap (${asFull.mean.toFixed(3)})`);
    assert.ok(away.mean < 0.5, `nothing else changes (${away.mean.toFixed(3)})`);
  });

  test('a mask model asked for and not installed is an error naming the pull command', async () => {
    await assert.rejects(paint({ occlusion: 'xseg_2' }), /xseg_2 model, which is not installed: run `liveswap models pull xseg_2`/);
    await assert.rejects(paint({ occlusion: 'all' }), /liveswap models pull xseg_2/);
    await assert.rejects(paint({ regions: ['nose'], parser: 'bisenet_resnet_18' }), /liveswap models pull bisenet_resnet_18/);
    await assert.rejects(paint({ occlusion: 'xseg_1' }, new MeshSwapper()), /liveswap models pull xseg_1/);
  });
});

describe('mask arithmetic against the spec', () => {
  test('F9.1–F9.3: the box mask at 128 (blur 0.3: b 19, z 9, σ 4.75) and with a 10 % top padding', () => {
    for (const [padding, top] of [
      [[0, 0, 0, 0], 9],
      [[10, 0, 0, 0], 12],
    ] as const) {
      const hard = new Float32Array(128 * 128);
      for (let y = top; y < 128 - 9; y++) hard.fill(1, y * 128 + 9, y * 128 + 128 - 9);
      // ksize 39 from σ 4.75 (cvRound(8σ + 1) | 1), BORDER_REFLECT_101.
      const expected = gaussianBlur(hard, 128, 128, 1, 39, 4.75);
      const got = boxMask(128, 128, 0.3, padding);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
      assert.ok(worst < 1e-6, `padding ${padding.join(',')}: off by ${worst}`);
    }
    assert.deepEqual(Array.from(boxMask(8, 8, 0).slice(0, 16)), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0], 'blur 0: z = 1, hard edges');
  });

  test('F9.5: (clip(blur(clip(m)), 0.5, 1) − 0.5)·2 with σ 5 (ksize 41)', () => {
    const m = new Float32Array(64 * 64);
    for (let i = 0; i < m.length; i++) m[i] = i % 64 < 32 ? -0.5 : 1.5;
    const clipped = m.map((v) => Math.min(1, Math.max(0, v)));
    const blurred = gaussianBlur(clipped, 64, 64, 1, 41, 5);
    const expected = blurred.map((v) => (Math.min(1, Math.max(0.5, v)) - 0.5) * 2);
    const got = refineModelMask(m, 64, 64);
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-6);
    assert.equal(got[31], 0, 'the half at 0.5 and below is cut to 0');
    assert.ok(got[40] > 0 && got[40] < 1);
  });

  test('combination: the minimum of every mask, clipped to [0, 1], then strength', () => {
    const a = Float32Array.of(0.2, 0.9, 1.3, -0.1);
    const b = Float32Array.of(0.5, 0.4, 1.2, 0.3);
    assert.deepEqual(Array.from(combineMasks([a, b])), [0.2, 0.4, 1, 0].map(Math.fround));
    // The same rule over a frame region: crop masks sampled at pixel centres (identity map here).
    const rect = { x0: 0, y0: 0, x1: 4, y1: 1 };
    const crop = (data: Float32Array): CropMask => ({ data, width: 4, height: 1, matrix: [1, 0, 0, 0, 1, 0], outside: 0 });
    const target = Float32Array.of(1, 0.3, 1, 1);
    applyCropMasks(target, rect, 1, 4, 1, [crop(a), crop(b)], 0.5);
    assert.deepEqual(Array.from(target), [0.1, 0.15, 0.5, 0].map(Math.fround));
  });

  test('the face is big enough to measure', () => {
    assert.ok(faceSize(face) > 90);
  });
});

/**
 * FaceFusion's swappers, pixel boost and face enhancers on stand-in models with each row's exact
 * tensor names, shapes and dtypes: the tiling against its definition (space-to-depth, spec §7.2),
 * each family's pre/post and source (converter, normalisation, image source, identity weight)
 * against the spec's formulas, the enhancer's fidelity weight and paste, and the whole swap through
 * the library and `liveswap swap` with `--engine`, `--pixel-boost` and `--face-enhancer`.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runSwap } from '../../src/cli/swap-command.js';
import { LiveswapError } from '../../src/core/errors.js';
import { Compositor } from '../../src/compose/paste.js';
import { pasteEnhanced } from '../../src/compose/enhancer-paste.js';
import type { CropMask, FaceMaskSettings } from '../../src/compose/region-mask.js';
import { applyAffine, invertAffine } from '../../src/core/affine.js';
import { gaussianBlur } from '../../src/core/filters.js';
import { cloneImage, createImage, toRgb, toRgba, type Image } from '../../src/core/image.js';
import { ArcFaceEmbedder } from '../../src/face/arcface.js';
import type { Face } from '../../src/face/face.js';
import { MODEL_SPECS, type ModelSpec, type SwapperTraits } from '../../src/models/model-spec.js';
import type { InferenceSession } from '../../src/models/runtime.js';
import { writeImage } from '../../src/node/media/image-io.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import { FaceEnhancer } from '../../src/swap/face-enhancer.js';
import { Occluder } from '../../src/face/mask-models.js';
import type { MaskModels } from '../../src/compose/occlusion-mask.js';
import { xsegStandin } from '../masks/mask-standins.js';
import { ModelSwapEngine } from '../../src/swap/model-swap-engine.js';
import { depthToSpace, pixelBoostFactor, spaceToDepth } from '../../src/swap/pixel-boost.js';
import { applyIdentityWeight, cropForRow, inputAtSize, l2Normalise, swapperInputBlob } from '../../src/swap/swapper-families.js';
import { converterMatrix, converterStandin, enhancerStandin, sourceMix, swapperStandin } from '../helpers/facefusion-standins.js';
import { arcfaceStandin, scrfdStandin, standinStore } from '../helpers/standin-models.js';
import { makeClip } from '../helpers/clips.js';
import { loadFixture, meanAbsDiff, TEST_HOME } from '../helpers/fixtures.js';

const runtime = createNodeRuntime({ threads: 1 });
const load = (bytes: Uint8Array, label: string): Promise<InferenceSession> => runtime.load(bytes, label);

/** A square picture (512 by default) with detail everywhere; KPS are a face's five points on it (OpenCV convention). */
function patterned(side = 512): Image {
  const image = createImage(side, side, 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const i = (y * side + x) * 3;
      image.data[i] = (x * 3 + y) & 255;
      image.data[i + 1] = (y * 5 + (x >> 2)) & 255;
      image.data[i + 2] = ((x ^ y) * 7) & 255;
    }
  }
  return image;
}
const KPS = Float32Array.of(200, 220, 312, 222, 256, 290, 212, 350, 300, 348);
const FACE = { kps5: KPS.map((v) => v + 0.5), kps5Reference: KPS, box: [150, 150, 212, 260], score: 0.9, meshScore: 0, landmarks: new Float32Array(0) } as unknown as Face;

function traitsOf(id: string): SwapperTraits {
  const row: ModelSpec = MODEL_SPECS[id as keyof typeof MODEL_SPECS];
  assert.ok(row.origin === 'download' && row.swap);
  return row.swap;
}

function maxDiff(a: Image, b: Image): number {
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}

describe('pixel boost: space-to-depth by its definition', () => {
  test('sub-image (i, j) holds the crop pixels at rows y·t + i and columns x·t + j, and depth-to-space undoes it', () => {
    const crop = createImage(12, 12, 3);
    for (let i = 0; i < crop.data.length; i++) crop.data[i] = (i * 29) & 255;
    for (const t of [1, 2, 3, 4]) {
      const tiles = spaceToDepth(crop, t);
      assert.equal(tiles.length, t * t);
      for (let i = 0; i < t; i++) {
        for (let j = 0; j < t; j++) {
          const tile = tiles[i * t + j]!;
          for (let y = 0; y < 12 / t; y++) {
            for (let x = 0; x < 12 / t; x++) {
              for (let k = 0; k < 3; k++) assert.equal(tile.data[(y * tile.width + x) * 3 + k], crop.data[((y * t + i) * 12 + x * t + j) * 3 + k]);
            }
          }
        }
      }
      assert.deepEqual(depthToSpace(tiles, t).data, crop.data);
    }
  });

  test('a boost the model size does not divide is refused with the sizes that fit', () => {
    assert.equal(pixelBoostFactor('hyperswap_1a_256', 256, 768), 3);
    assert.equal(pixelBoostFactor('inswapper_128', 128, 384), 3);
    assert.throws(
      () => pixelBoostFactor('blendswap_256', 256, 384),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'usage' && /384 does not fit blendswap_256.*256, 512, 768, 1024/.test(e.message),
    );
    assert.throws(() => pixelBoostFactor('simswap_unofficial_512', 512, 768), /whole multiple/);
    assert.throws(() => pixelBoostFactor('hyperswap_1a_256', 256, 128), /Use one of 256/);
  });
});

describe('family pre/post by the spec', () => {
  test("simswap_256's target is ImageNet-normalised per channel: (p/255 − mean_c)/std_c, RGB planes", () => {
    const row = MODEL_SPECS.simswap_256;
    const crop = createImage(2, 1, 3);
    crop.data.set([10, 128, 250, 0, 255, 77]);
    const blob = swapperInputBlob(crop, row.input);
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    for (let k = 0; k < 3; k++) for (let p = 0; p < 2; p++) assert.ok(Math.abs(blob[k * 2 + p]! - (crop.data[p * 3 + k]! / 255 - mean[k]!) / std[k]!) < 1e-5);
  });

  test('identity weight: w = 0.35 − 0.7·weight mixes the (normalised) target embedding in; 0.5 leaves the source', () => {
    const source = Float32Array.of(1, 0, 0);
    const target = Float32Array.of(0, 3, 4);
    assert.equal(applyIdentityWeight(source, target, 0.5, 'normalised'), source);
    const mixed = applyIdentityWeight(source, target, 0, 'normalised');
    assert.deepEqual(
      Array.from(mixed, (v) => Math.round(v * 1e4) / 1e4),
      [0.65, 0.21, 0.28],
    );
    const raw = applyIdentityWeight(source, target, 1, 'raw');
    assert.deepEqual(
      Array.from(raw, (v) => Math.round(v * 1e4) / 1e4),
      [1.35, -1.05, -1.4],
    );
    assert.equal(applyIdentityWeight(source, target, 0, 'none'), source);
  });
});

describe('the generic swapper on stand-ins with the rows’ I/O', () => {
  const frame = patterned();
  let embedder: ArcFaceEmbedder;
  let converter: InferenceSession;
  before(async () => {
    embedder = ArcFaceEmbedder.create(await load(arcfaceStandin(), 'w600k_r50'));
    converter = await load(converterStandin(), 'crossface');
  });

  async function engineFor(id: string, mode: 'identity' | 'source'): Promise<ModelSwapEngine> {
    const row: ModelSpec = MODEL_SPECS[id as keyof typeof MODEL_SPECS];
    const traits = traitsOf(id);
    const converterId = traits.source.kind === 'embedding' ? traits.source.converter : null;
    return ModelSwapEngine.create({
      swapper: { session: await load(swapperStandin(row, mode), id), row, label: id },
      embedder: traits.source.kind === 'embedding' ? embedder : undefined,
      converter: converterId ? { session: converter, row: MODEL_SPECS[converterId as keyof typeof MODEL_SPECS], label: converterId } : undefined,
    });
  }

  for (const id of ['hyperswap_1a_256', 'ghost_2_256', 'uniface_256', 'hififace_unofficial_256', 'simswap_unofficial_512']) {
    test(`${id}: an identity model gives the crop back at the model size and, tiled, at every boost that fits`, async () => {
      const engine = await engineFor(id, 'identity');
      const size = MODEL_SPECS[id as keyof typeof MODEL_SPECS].input.size;
      const identity = await engine.createIdentity(frame, FACE);
      for (const boost of [size, size * 2]) {
        const patch = await engine.render(frame, FACE, identity, { mouthMask: false, opacity: 1, sharpness: 0, colorMatch: false, pixelBoost: boost });
        assert.equal(patch.strategy, 'facefusion');
        if (patch.strategy !== 'facefusion') return;
        assert.equal(patch.crop.width, boost);
        const { crop, matrix } = cropForRow(frame, KPS, inputAtSize(engine.row.input, boost));
        assert.deepEqual(patch.matrix, matrix);
        // x·std + mean after (p/255 − mean)/std: the same pixel, or one less where float32 lands just under it.
        assert.ok(maxDiff(patch.crop, crop) <= 1, `${id} at ${boost}: max difference ${maxDiff(patch.crop, crop)}`);
      }
      await assert.rejects(
        engine.render(frame, FACE, identity, { mouthMask: false, opacity: 1, sharpness: 0, colorMatch: false, pixelBoost: size + 128 }),
        (e: unknown) => e instanceof LiveswapError && e.kind === 'usage',
      );
    });
  }

  /** The colour the `source` stand-in paints: tanh(source·P) per channel, then the row's output scale. */
  function expectedColour(source: Float32Array, traits: SwapperTraits, width: number): number[] {
    const mix = sourceMix(width);
    return [0, 1, 2].map((c) => {
      let sum = 0;
      for (let i = 0; i < width; i++) sum += source[i]! * mix[i * 3 + c]!;
      const v = Math.tanh(sum);
      const scaled = traits.denormaliseOutput ? v * 0.5 + 0.5 : v;
      return Math.floor(Math.min(1, Math.max(0, scaled)) * 255);
    });
  }

  function centreColour(crop: Image): number[] {
    const i = ((crop.height >> 1) * crop.width + (crop.width >> 1)) * 3;
    return [crop.data[i]!, crop.data[i + 1]!, crop.data[i + 2]!];
  }

  function converted(embedding: Float32Array): Float32Array {
    const q = converterMatrix();
    const out = new Float32Array(512);
    for (let i = 0; i < 512; i++) for (let j = 0; j < 512; j++) out[j] += embedding[i]! * q[i * 512 + j]!;
    return out;
  }

  const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 1);

  test('sources by family: hyperswap n, ghost e·Q as is, simswap normalise(e·Q); the painted colour follows', async () => {
    const { embedding, normedEmbedding } = await embedder.embed(frame, KPS);
    const cases: [string, Float32Array][] = [
      ['hyperswap_1b_256', normedEmbedding],
      ['ghost_1_256', converted(embedding)],
      ['simswap_256', l2Normalise(converted(embedding))],
    ];
    for (const [id, source] of cases) {
      const engine = await engineFor(id, 'source');
      const identity = await engine.createIdentity(frame, FACE);
      for (let i = 0; i < 512; i++) assert.ok(Math.abs(identity.source[i]! - source[i]!) < 1e-4 * Math.max(1, Math.abs(source[i]!)), `${id} source[${i}]`);
      const patch = await engine.render(frame, FACE, identity, { mouthMask: false, opacity: 1, sharpness: 0, colorMatch: false });
      assert.ok(patch.strategy === 'facefusion');
      assert.ok(close(centreColour(patch.crop), expectedColour(source, traitsOf(id), 512)), `${id}: ${centreColour(patch.crop)}`);
    }
  });

  test('several photos: FaceFusion averages the embeddings first, then converts (simswap: normalise(mean(e)·Q); hyperswap: mean(n), not normalised again)', async () => {
    const other = patterned();
    for (let i = 0; i < other.data.length; i++) other.data[i] = (other.data[i]! * 7 + 40) & 255;
    const a = await embedder.embed(frame, KPS);
    const b = await embedder.embed(other, KPS);
    assert.ok(Math.abs(Math.hypot(...a.embedding) - Math.hypot(...b.embedding)) > 1e-3, 'the two raw embeddings differ in length');
    const meanOf = (x: Float32Array, y: Float32Array) => x.map((v, i) => (v + y[i]!) / 2);
    const cases: [string, Float32Array][] = [
      ['simswap_256', l2Normalise(converted(meanOf(a.embedding, b.embedding)))],
      ['ghost_3_256', converted(meanOf(a.embedding, b.embedding))],
      ['hyperswap_1c_256', meanOf(a.normedEmbedding, b.normedEmbedding)],
    ];
    for (const [id, expected] of cases) {
      const engine = await engineFor(id, 'source');
      const combined = await engine.combineIdentities([await engine.createIdentity(frame, FACE), await engine.createIdentity(other, FACE)]);
      for (let i = 0; i < 512; i++) assert.ok(Math.abs(combined.source[i]! - expected[i]!) < 1e-4 * Math.max(1, Math.abs(expected[i]!)), `${id} source[${i}]`);
    }
  });

  test("blendswap_256's source is the source face on arcface_112_v2 at 112, RGB/255 planes", async () => {
    const engine = await engineFor('blendswap_256', 'source');
    const identity = await engine.createIdentity(frame, FACE);
    assert.equal(identity.source.length, 3 * 112 * 112);
    const template = [0.34191607, 0.46157411, 0.65653393, 0.45983393, 0.500225, 0.64050536, 0.37097589, 0.82469196, 0.63151696, 0.82325089].map((v) => v * 112);
    const input = { size: 112, mean: 0, std: 255, channels: 'RGB', layout: 'NCHW', crop: { kind: 'five-point', template, border: 'replicate' } } as const;
    const { crop } = cropForRow(frame, KPS, input);
    const means = [0, 1, 2].map((k) => {
      let sum = 0;
      for (let p = 0; p < 112 * 112; p++) sum += crop.data[p * 3 + k]! / 255;
      return sum / (112 * 112);
    });
    for (let p = 0; p < 112 * 112; p += 997) assert.ok(Math.abs(identity.source[p]! - crop.data[p * 3]! / 255) < 1e-6);
    const patch = await engine.render(frame, FACE, identity, { mouthMask: false, opacity: 1, sharpness: 0, colorMatch: false });
    assert.ok(patch.strategy === 'facefusion');
    assert.ok(close(centreColour(patch.crop), expectedColour(Float32Array.from(means), traitsOf('blendswap_256'), 3)));
  });

  test("the identity weight moves a hyperswap face; FaceFusion's default 0.5 does not", async () => {
    const engine = await engineFor('hyperswap_1a_256', 'source');
    const identity = await engine.createIdentity(frame, FACE);
    const settings = { mouthMask: false, opacity: 1, sharpness: 0, colorMatch: false };
    const plain = await engine.render(frame, FACE, identity, settings);
    const half = await engine.render(frame, FACE, identity, { ...settings, identityWeight: 0.5 });
    const other = patterned();
    other.data.reverse();
    const weighted = await engine.render(other, FACE, identity, { ...settings, identityWeight: 0 });
    assert.ok(plain.strategy === 'facefusion' && half.strategy === 'facefusion' && weighted.strategy === 'facefusion');
    assert.deepEqual(half.crop.data, plain.crop.data);
    assert.notDeepEqual(centreColour(weighted.crop), centreColour(plain.crop));
  });

  test("masks the settings ask for come with the patch, in the boosted crop; the box mask is the paste's own", async () => {
    const engine = await engineFor('hyperswap_1a_256', 'identity');
    const identity = await engine.createIdentity(frame, FACE);
    const settings = { mouthMask: false, opacity: 1, sharpness: 0, colorMatch: false, pixelBoost: 512 };
    const meshFace = { ...FACE, meshScore: 1, landmarks: new Float32Array(468 * 3).fill(256) } as Face;
    const patch = await engine.render(frame, meshFace, identity, { ...settings, masks: { keepRegions: ['nose'], boxPadding: [10, 0, 0, 0] as const } });
    assert.ok(patch.strategy === 'facefusion' && patch.masks?.length === 1, 'the region mask, not the box');
    const boxOnly = await engine.render(frame, FACE, identity, { ...settings, masks: { boxPadding: [10, 0, 0, 0] as const, boxBlur: 0.3 } });
    assert.ok(boxOnly.strategy === 'facefusion' && boxOnly.masks === undefined);
  });

  test("FaceFusion's paste (spec F7.1–F7.5): the crop under the box mask; padding, region masks and strength by the minimum", async () => {
    const engine = await engineFor('hyperswap_1a_256', 'source');
    const identity = await engine.createIdentity(frame, FACE);
    const settings = { mouthMask: false, opacity: 1, sharpness: 0, colorMatch: false };
    const patch = await engine.render(frame, FACE, identity, settings);
    assert.ok(patch.strategy === 'facefusion');
    const paste = (masks?: FaceMaskSettings, extra: readonly CropMask[] = []): Image => {
      const out = cloneImage(frame);
      new Compositor().compose(out, { ...patch, masks: extra.length ? extra : undefined }, { ...settings, masks });
      return out;
    };
    // The reference: FaceFusion's box mask (blur 0.3, no padding) and its paste-back, written from F9.1–F9.3 and F7.1–F7.5.
    const size = patch.crop.width;
    const reference = cloneImage(frame);
    const b = Math.trunc(size * 0.5 * 0.3);
    const z = Math.max(Math.floor(b / 2), 1);
    const box = new Float32Array(size * size);
    for (let y = z; y < size - z; y++) box.fill(1, y * size + z, y * size + size - z);
    pasteEnhanced(reference, patch.crop, patch.matrix, gaussianBlur(box, size, size, 1, 0, 0.25 * b), 1);
    const plain = paste();
    assert.deepEqual(plain.data, reference.data);
    // A canvas's RGBA frame: the same colours, its alpha untouched.
    const rgba = toRgba(frame);
    new Compositor().compose(rgba, patch, settings);
    assert.deepEqual(toRgb(rgba).data, plain.data);
    assert.ok(rgba.data.every((v, i) => i % 4 !== 3 || v === 255));
    const diff = (a: Image, b: Image, x0 = 0, y0 = 0, x1 = 512, y1 = 512) => meanAbsDiff(a, b, x0, y0, x1, y1);
    assert.ok(diff(plain, frame) > 5, 'the face is pasted');
    // Top padding of 60 %: the crop's upper rows keep the frame; the lower part is pasted as before.
    const padded = paste({ boxPadding: [60, 0, 0, 0] });
    const eyes = 222; // the eyes' row in the frame, inside the padded-off part of the crop
    assert.equal(diff(padded, frame, 0, eyes - 10, 512, eyes + 10), 0);
    assert.ok(diff(plain, frame, 0, eyes - 10, 512, eyes + 10) > 5);
    // Below the padded part and its blur (60 % of the crop + 3σ), the paste is as without padding.
    const [, low] = applyAffine(invertAffine(patch.matrix), size / 2, 0.85 * size);
    assert.equal(diff(padded, plain, 0, Math.ceil(low), 512, Math.ceil(low) + 8), 0);
    // A region mask (here: the crop's right half) and the box by the minimum; strength 0.5 halves what changes.
    const half = new Float32Array(size * size);
    for (let y = 0; y < size; y++) half.fill(1, y * size + size / 2, (y + 1) * size);
    const right = paste({}, [{ data: half, width: size, height: size, matrix: patch.matrix, outside: 0 }]);
    assert.equal(diff(right, frame, 0, 0, 230, 512), 0);
    assert.ok(diff(right, frame) > 1);
    const strength = paste({ strength: 0.5 });
    const full = diff(plain, frame);
    const halfway = diff(strength, frame);
    assert.ok(Math.abs(halfway - full / 2) < 0.1 * full, `strength 0.5 moves ${halfway.toFixed(2)} of ${full.toFixed(2)}`);
  });

  test('a converter row missing, or a file with other tensor names, is refused naming the row', async () => {
    const row = MODEL_SPECS.ghost_1_256;
    await assert.rejects(
      async () => ModelSwapEngine.create({ swapper: { session: await load(swapperStandin(row, 'identity'), 'g'), row, label: 'g' }, embedder }),
      /needs its embedding converter crossface_ghost/,
    );
    const wrong = MODEL_SPECS.hyperswap_1a_256;
    await assert.rejects(
      async () => ModelSwapEngine.create({ swapper: { session: await load(converterStandin(), 'c'), row: wrong, label: 'c.onnx' }, embedder }),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'model' && e.message.includes("hyperswap_1a_256 model's row"),
    );
  });
});

describe('face enhancers on stand-ins', () => {
  test('gfpgan_1.4: F8.4 turns 0 into 128; the paste keeps the blend share inside the box mask and leaves the frame outside alone', async () => {
    const row = MODEL_SPECS['gfpgan_1.4'];
    const enhancer = FaceEnhancer.create(await load(enhancerStandin(row, 0, 0), 'gfpgan'), row);
    const frame = patterned(1024);
    const full = cloneImage(frame);
    await enhancer.enhance(full, FACE, { blend: 100, weight: 0.5 });
    const centre = (image: Image) => Array.from(image.data.subarray((285 * 1024 + 256) * 3, (285 * 1024 + 256) * 3 + 3));
    assert.deepEqual(centre(full), [128, 128, 128]);
    // The FFHQ crop of this face covers about 580 pixels of the frame around it: the last rows lie outside.
    const tail = 1024 * 3 * 100;
    assert.deepEqual(full.data.subarray(full.data.length - tail), frame.data.subarray(frame.data.length - tail), 'rows far below the face are untouched');
    const half = cloneImage(frame);
    await enhancer.enhance(half, FACE, { blend: 50, weight: 0.5 });
    const before = centre(frame);
    const mixed = centre(half);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(mixed[k]! - (before[k]! + 128) / 2) <= 1, `blend 50: ${mixed} from ${before}`);
    const none = cloneImage(frame);
    await enhancer.enhance(none, FACE, { blend: 0, weight: 0.5 });
    assert.deepEqual(none.data, frame.data);
  });

  test("with occlusion on, XSeg's mask of the crop joins the box mask: the covered part is not enhanced (F8.2)", async () => {
    const row = MODEL_SPECS['gfpgan_1.4'];
    const xseg = Occluder.create(await load(xsegStandin('xseg_1', [0, 128, 256, 256]), 'xseg_1'), MODEL_SPECS.xseg_1);
    const models: MaskModels = {
      installed: new Set(['xseg_1'] as const),
      occluder: async () => xseg,
      parser: () => Promise.reject(new Error('no parser here')),
    };
    const session = await load(enhancerStandin(row, 0, 0), 'gfpgan');
    const frame = patterned(1024);
    const { matrix } = cropForRow(frame, KPS, row.input);
    const im = invertAffine(matrix);
    const pixel = (image: Image, u: number, v: number) => {
      const [x, y] = applyAffine(im, u, v).map(Math.round);
      return Array.from(image.data.subarray((y! * 1024 + x!) * 3, (y! * 1024 + x!) * 3 + 3));
    };
    const occluded = cloneImage(frame);
    await FaceEnhancer.create(session, row, 'gfpgan', models).enhance(occluded, FACE, { blend: 100, weight: 0.5, occlusion: 'xseg_1' });
    // The crop's upper half is clear: enhanced (the stand-in paints 128); its lower half, covered, well past the blur: the frame.
    // (float32 blurs leave the clear part's mask a hair under 1: truncation may land one below 128)
    const enhanced = (p: number[]) => p.every((v) => v === 127 || v === 128);
    assert.ok(enhanced(pixel(occluded, 256, 160)), `${pixel(occluded, 256, 160)}`);
    assert.deepEqual(pixel(occluded, 256, 400), pixel(frame, 256, 400));
    const plain = cloneImage(frame);
    await FaceEnhancer.create(session, row, 'gfpgan', models).enhance(plain, FACE, { blend: 100, weight: 0.5 });
    assert.ok(enhanced(pixel(plain, 256, 400)), `${pixel(plain, 256, 400)}`);
    await assert.rejects(FaceEnhancer.create(session, row).enhance(cloneImage(frame), FACE, { blend: 100, weight: 0.5, occlusion: 'xseg_1' }), /liveswap models pull xseg_1/);
  });

  test("codeformer's fidelity weight goes in as float64 and reaches the output", async () => {
    const row = MODEL_SPECS.codeformer;
    assert.deepEqual(
      row.inputs.map((t) => [t.name, t.dtype]),
      [
        ['input', 'float32'],
        ['weight', 'float64'],
      ],
    );
    const enhancer = FaceEnhancer.create(await load(enhancerStandin(row, 0, 0), 'codeformer'), row);
    for (const weight of [0, 0.5, 1]) {
      const { crop } = await enhancer.enhanceCrop(patterned(), FACE, weight);
      assert.equal(crop.data[0], Math.round(((weight + 1) / 2) * 255));
    }
  });

  test('gpen_bfr_256 cuts on arcface_128 at 256', async () => {
    const row = MODEL_SPECS.gpen_bfr_256;
    const enhancer = FaceEnhancer.create(await load(enhancerStandin(row, 1, 0), 'gpen'), row);
    const { crop, matrix } = await enhancer.enhanceCrop(patterned(), FACE, 0.5);
    const expected = cropForRow(patterned(), KPS, row.input);
    assert.deepEqual(matrix, expected.matrix);
    assert.ok(maxDiff(crop, expected.crop) <= 1);
  });
});

describe('end to end: library and liveswap swap', () => {
  let dir: string;
  let source: Image;
  let target: Image;
  const models: Record<string, Uint8Array> = {};
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-model-swappers-'));
    source = await loadFixture('astronaut.png');
    target = cloneImage(source);
    for (let i = 0; i < target.data.length; i += 3) target.data.set([target.data[i + 2]! * 0.9, target.data[i]! * 0.8 + 20, target.data[i + 1]!], i);
    const mesh = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
    const [face] = await mesh.analyze(source);
    await mesh.close();
    const toCanvas = (v: ArrayLike<number>) => Array.from(v, (x) => (x - 0.5) * 1.25);
    const box = [face!.box[0], face!.box[1], face!.box[0] + face!.box[2], face!.box[1] + face!.box[3]];
    models.det_10g = scrfdStandin([{ box: toCanvas(box) as [number, number, number, number], kps5: toCanvas(face!.kps5), score: 0.92 }]);
    models.w600k_r50 = arcfaceStandin();
    models.crossface_simswap = converterStandin();
    models.simswap_256 = swapperStandin(MODEL_SPECS.simswap_256, 'source');
    models.hyperswap_1a_256 = swapperStandin(MODEL_SPECS.hyperswap_1a_256, 'source');
    models['gfpgan_1.4'] = enhancerStandin(MODEL_SPECS['gfpgan_1.4'], 0.5, 0);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('simswap_256 with its converter, pixel boost 512 and gfpgan_1.4 through the library', async () => {
    const store = await standinStore(join(dir, 'home'), models);
    const swapper = await createNodeSwapper({ home: TEST_HOME, store, engine: 'simswap_256' });
    try {
      assert.equal(swapper.engine, 'simswap_256');
      const plain = await swapper.swap(source, target, resolveSwapOptions({}), { marks: false });
      assert.equal(plain.report.engine, 'simswap_256');
      const [face] = await swapper.analyze(target);
      const [x, y, w, h] = face!.box;
      const region = [Math.round(x + w * 0.3), Math.round(y + h * 0.35), Math.round(x + w * 0.7), Math.round(y + h * 0.75)] as const;
      assert.ok(meanAbsDiff(plain.image, target, ...region) > 5, 'the face changed');
      const boosted = await swapper.swap(source, target, resolveSwapOptions({ pixelBoost: 512 }), { marks: false });
      // The stand-in paints one colour: tiles at 512 give the same face as one crop at 256.
      assert.ok(meanAbsDiff(boosted.image, plain.image, ...region) < 2);
      const enhanced = await swapper.swap(source, target, resolveSwapOptions({ faceEnhancer: 'gfpgan_1.4', faceEnhancerBlend: 100 }), { marks: false });
      assert.ok(meanAbsDiff(enhanced.image, plain.image, ...region) > 2, 'the enhancer changed the face');
      await assert.rejects(
        swapper.swap(source, target, resolveSwapOptions({ faceEnhancer: 'codeformer' }), { marks: false }),
        (e: unknown) => e instanceof LiveswapError && e.kind === 'model' && /codeformer is not installed.*models pull codeformer/.test(e.message),
      );
      await assert.rejects(swapper.swap(source, target, resolveSwapOptions({ pixelBoost: 384 }), { marks: false }), /384 does not fit simswap_256/);
    } finally {
      await swapper.close();
    }
  });

  test('an engine whose models are missing is refused naming them; auto keeps inswapper-else-mesh, or takes LIVESWAP_ENGINE', async () => {
    const store = await standinStore(join(dir, 'partial'), { det_10g: models.det_10g!, w600k_r50: models.w600k_r50!, simswap_256: models.simswap_256! });
    await assert.rejects(
      createNodeSwapper({ home: TEST_HOME, store, engine: 'simswap_256' }),
      /needs models that are not installed or do not verify: crossface_simswap.*--for simswap_256/,
    );
    const auto = await createNodeSwapper({ home: TEST_HOME, store, engine: 'auto' });
    assert.equal(auto.engine, 'mesh');
    await auto.close();
    const full = await standinStore(join(dir, 'preferred'), models);
    process.env.LIVESWAP_ENGINE = 'hyperswap_1a_256';
    try {
      const preferred = await createNodeSwapper({ home: TEST_HOME, store: full, engine: 'auto' });
      assert.equal(preferred.engine, 'hyperswap_1a_256');
      await preferred.close();
    } finally {
      delete process.env.LIVESWAP_ENGINE;
    }
  });

  test('liveswap swap --engine hyperswap_1a_256 --pixel-boost 512 --face-enhancer gfpgan_1.4', async () => {
    const store = await standinStore(join(dir, 'cli'), models);
    const sourcePath = join(dir, 'source.png');
    const targetPath = join(dir, 'target.png');
    await writeImage(sourcePath, source);
    await writeImage(targetPath, target);
    const out: string[] = [];
    await runSwap(
      {
        source: sourcePath,
        target: targetPath,
        output: join(dir, 'out.png'),
        engine: 'hyperswap_1a_256',
        pixelBoost: '512',
        faceEnhancer: 'gfpgan_1.4',
        faceEnhancerBlend: '60',
        json: true,
      },
      { out: (t) => out.push(t), err: () => undefined },
      (r) => createNodeSwapper({ ...r, home: TEST_HOME, store }),
    );
    const summary = JSON.parse(out.join('')) as { engine: string; swappedFaces: number[] };
    assert.equal(summary.engine, 'hyperswap_1a_256');
    assert.deepEqual(summary.swappedFaces, [0]);
    assert.ok((await readFile(join(dir, 'out.png'))).length > 1000);
  });

  test('a video through liveswap swap with simswap_256, a pixel boost and an enhancer', async () => {
    const store = await standinStore(join(dir, 'video'), models);
    const clip = await makeClip({ photo: 'astronaut.png', width: 512, height: 512, frames: 4, dir, name: 'clip' });
    const sourcePath = join(dir, 'video-source.png');
    await writeImage(sourcePath, source);
    const out: string[] = [];
    await runSwap(
      { source: sourcePath, target: clip, output: join(dir, 'clip-out.mp4'), engine: 'simswap_256', pixelBoost: '512', faceEnhancer: 'gfpgan_1.4', json: true },
      { out: (t) => out.push(t), err: () => undefined },
      (r) => createNodeSwapper({ ...r, home: TEST_HOME, store }),
    );
    const lines = out
      .flatMap((t) => t.split('\n'))
      .filter((l) => l.trim().length > 0)
      .map((l) => JSON.parse(l) as { type?: string; engine?: string });
    const result = lines.at(-1)!;
    assert.equal(result.engine, 'simswap_256', JSON.stringify(result));
    assert.ok((await readFile(join(dir, 'clip-out.mp4'))).length > 1000);
  });
});

/**
 * The model table drives the code: every model class takes its row by default, checks a session
 * against the row's tensor names, and reads its input size, mean/std and channel order from the
 * row (a row with other numbers changes what the class feeds, with no other code touched).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { createImage, type Image } from '../../src/core/image.js';
import { MobileFaceEmbedder } from '../../src/eval/mobileface.js';
import { ArcFaceEmbedder } from '../../src/face/arcface.js';
import { BlazeFaceDetector } from '../../src/face/blazeface.js';
import { FaceEmbedder } from '../../src/face/embedder.js';
import type { Face } from '../../src/face/face.js';
import { FaceMeshModel } from '../../src/face/facemesh.js';
import { Landmark106 } from '../../src/face/landmark106.js';
import { ScrfdDetector } from '../../src/face/scrfd.js';
import { BUILTIN_MODELS } from '../../src/models/builtin.js';
import { CONVERTED_MODEL_IDS, DOWNLOAD_MODEL_IDS, MODEL_SPECS, type ModelSpec } from '../../src/models/model-spec.js';
import { MODEL_REGISTRY } from '../../src/models/registry.js';
import type { InferenceSession, TensorData } from '../../src/models/runtime.js';
import { InswapperModel } from '../../src/swap/inswapper.js';

/** A session with the given names that records what it is fed and answers zeros of the row's output shapes. */
function fakeSession(spec: ModelSpec, names?: { inputs?: string[]; outputs?: string[] }): InferenceSession & { fed: Record<string, TensorData> } {
  const inputs = names?.inputs ?? spec.inputs.map((t, i) => t.name ?? `in${i}`);
  const outputs = names?.outputs ?? spec.outputs.map((t, i) => t.name ?? `out${i}`);
  const fed: Record<string, TensorData> = {};
  return {
    fed,
    inputNames: inputs,
    outputNames: outputs,
    async run(feeds) {
      Object.assign(fed, feeds);
      const out: Record<string, TensorData> = {};
      spec.outputs.forEach((t, i) => {
        const dims = t.shape.map((d) => (typeof d === 'number' ? d : 1));
        out[outputs[i]!] = { data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims };
      });
      return out;
    },
    async close() {},
  };
}

/** Each class made from a session, with the row it was given (or none: its default). */
const CLASSES = [
  { id: 'det_10g', make: (s: InferenceSession, spec?: ModelSpec) => ScrfdDetector.create(s, spec) },
  { id: 'w600k_r50', make: (s: InferenceSession, spec?: ModelSpec) => ArcFaceEmbedder.create(s, spec) },
  { id: '2d106det', make: (s: InferenceSession, spec?: ModelSpec) => Landmark106.create(s, spec) },
  { id: 'inswapper_128', make: (s: InferenceSession, spec?: ModelSpec) => InswapperModel.create(s, spec) },
  { id: 'blazeface', make: (s: InferenceSession, spec?: ModelSpec) => BlazeFaceDetector.create(s, spec) },
  { id: 'facemesh', make: (s: InferenceSession, spec?: ModelSpec) => FaceMeshModel.create(s, spec) },
  { id: 'faceres', make: (s: InferenceSession, spec?: ModelSpec) => FaceEmbedder.create(s, spec) },
  { id: 'mobileface', make: (s: InferenceSession, spec?: ModelSpec) => MobileFaceEmbedder.create(s, spec) },
] as const;

function patterned(width: number, height: number): Image {
  const image = createImage(width, height, 3);
  for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 37 + (i >> 7) * 11) & 255;
  return image;
}

const KPS5 = Float32Array.of(130, 140, 190, 140, 160, 175, 135, 205, 185, 205);

describe('the model table', () => {
  test('holds every model once: downloads with file, size, hash and sources; converted ones with their package', () => {
    assert.deepEqual(Object.keys(MODEL_SPECS), [...DOWNLOAD_MODEL_IDS, ...CONVERTED_MODEL_IDS]);
    for (const [id, spec] of Object.entries(MODEL_SPECS)) {
      assert.equal(spec.id, id);
      assert.ok(spec.inputs.length >= 1 && spec.outputs.length >= 1, id);
      assert.ok(spec.input.size > 0 && spec.input.std > 0, id);
      if (spec.origin === 'download') {
        if (spec.hash === 'sha256') assert.match(spec.sha256 ?? '', /^[0-9a-f]{64}$/, id);
        else assert.ok(spec.sha256 === null && spec.bytes === null && (spec.crc32 === undefined || /^[0-9a-f]{8}$/.test(spec.crc32)), id);
        assert.ok(spec.file.endsWith('.onnx') && (spec.bytes === null || spec.bytes > 0) && spec.sources.length > 0, id);
      } else {
        assert.match(spec.conversion.graphPath, /\.json$/, id);
      }
    }
  });

  test('the registry and the built-in list are views of the same rows', () => {
    for (const [id, entry] of Object.entries(MODEL_REGISTRY)) assert.equal(entry, MODEL_SPECS[id as keyof typeof MODEL_SPECS]);
    for (const [id, entry] of Object.entries(BUILTIN_MODELS)) assert.equal(entry, MODEL_SPECS[id as keyof typeof MODEL_SPECS]);
  });
});

describe('each model class is tied to its row', () => {
  for (const { id, make } of CLASSES) {
    const row = MODEL_SPECS[id];
    test(`${id}: the default row is the table's, and a session with other tensor names is refused naming the row`, () => {
      assert.equal(make(fakeSession(row)).spec, row);
      const renamed = fakeSession(row, { inputs: row.inputs.map((t, i) => (t.name === null ? `in${i}` : `${t.name}_other`)) });
      const pinned = row.inputs.some((t) => t.name !== null) || row.outputs.some((t) => t.name !== null);
      const broken = pinned ? renamed : fakeSession(row, { inputs: [...row.inputs.map((_, i) => `in${i}`), 'extra'] });
      assert.throws(
        () => make(broken),
        (e: unknown) => e instanceof LiveswapError && e.kind === 'model' && e.message.includes(`${id} model's row`),
      );
    });
  }

  test('a row with another crop is refused by a class that cannot cut it', () => {
    const row: ModelSpec = { ...MODEL_SPECS.w600k_r50, input: { ...MODEL_SPECS.w600k_r50.input, crop: { kind: 'region' } } };
    assert.throws(() => ArcFaceEmbedder.create(fakeSession(row), row), /ArcFace embedder feeds NCHW input cut by 'five-point'/);
  });
});

describe('the classes read their numbers from the row', () => {
  test('ArcFace: size, mean/std and channel order', async () => {
    const row: ModelSpec = { ...MODEL_SPECS.w600k_r50, input: { ...MODEL_SPECS.w600k_r50.input, size: 224, mean: 0, std: 1, channels: 'BGR' } };
    const session = fakeSession(row);
    const embedder = ArcFaceEmbedder.create(session, row);
    await embedder.embed(patterned(320, 320), KPS5).catch(() => undefined); // the fake answers zeros: only the feed matters
    const fed = session.fed['input.1']!;
    assert.deepEqual(fed.dims, [1, 3, 224, 224]);
    const { crop } = (await import('../../src/face/model-input.js')).alignForModel(patterned(320, 320), KPS5, row.input);
    const plane = 224 * 224;
    for (const p of [0, 1000, 25_000, plane - 1]) {
      assert.equal(fed.data[p], crop.data[p * 3 + 2], 'blue plane first');
      assert.equal(fed.data[2 * plane + p], crop.data[p * 3], 'red plane last');
    }
  });

  test('SCRFD: the canvas size and the normalisation', async () => {
    const row: ModelSpec = { ...MODEL_SPECS.det_10g, input: { ...MODEL_SPECS.det_10g.input, size: 320, mean: 0, std: 2 } };
    const session = fakeSession(row);
    await ScrfdDetector.create(session, row)
      .detect(patterned(64, 32))
      .catch(() => undefined);
    const fed = session.fed['input.1']!;
    assert.deepEqual(fed.dims, [1, 3, 320, 320]);
    assert.ok(fed.data[320 * 320 - 1] === 0, 'padding is black: (0 − 0)/2');
    assert.equal(fed.data[0], patterned(64, 32).data[0] / 2, 'pixels are (p − 0)/2');
  });

  test('FaceRes: the input size and layout', async () => {
    const row: ModelSpec = { ...MODEL_SPECS.faceres, input: { ...MODEL_SPECS.faceres.input, size: 112, mean: 127.5, std: 127.5 } };
    const session = fakeSession(row);
    const face = { roi: { cx: 160, cy: 160, size: 200, angle: 0 } } as Face;
    await FaceEmbedder.create(session, row)
      .embed(patterned(320, 320), face)
      .catch(() => undefined);
    const fed = session.fed.input_1!;
    assert.deepEqual(fed.dims, [1, 112, 112, 3]);
    assert.ok(
      fed.data.every((v) => v >= -1 && v <= 1),
      'values (p − 127.5)/127.5',
    );
  });

  test('InSwapper: the crop size and the output scale', async () => {
    const row: ModelSpec = { ...MODEL_SPECS.inswapper_128, input: { ...MODEL_SPECS.inswapper_128.input, size: 256 } };
    const model = InswapperModel.create(fakeSession(row), row, 'swapper.onnx');
    await assert.rejects(model.run(createImage(128, 128, 3), new Float32Array(512)), /expected 256×256/);
  });
});

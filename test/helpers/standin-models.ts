/**
 * Small deterministic ONNX stand-ins with the exact I/O of the insightface models (SCRFD det_10g,
 * ArcFace w600k_r50, 2d106det, InSwapper 128), written at test time so nothing binary is committed. Each
 * graph still reads its input, so onnxruntime cannot fold it away.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_REGISTRY, type ModelRegistry } from '../../src/models/registry.js';
import { ModelStore } from '../../src/node/models/model-store.js';
import { seededRandom } from './random.js';
import { encodeOnnxModel, OnnxAttributeType, OnnxDataType, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from '../../src/models/onnx-proto.js';

export { seededRandom };

/** SCRFD det_10g output names in session order: scores s8/16/32, boxes s8/16/32, keypoints s8/16/32. */
export const SCRFD_OUTPUT_NAMES = ['448', '471', '494', '451', '474', '497', '454', '477', '500'] as const;
export const ARCFACE_OUTPUT_NAME = '683';

type Dim = number | string;

function valueInfo(name: string, dims: readonly Dim[], elemType: number = OnnxDataType.FLOAT): OnnxValueInfo {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

function floatTensor(name: string, dims: readonly number[], values: Float32Array): OnnxTensor {
  const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  return { name, dims: [...dims], dataType: OnnxDataType.FLOAT, rawData: bytes };
}

function halfTensor(name: string, dims: readonly number[], values: Float32Array): OnnxTensor {
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = floatToHalfBits(values[i]);
  return { name, dims: [...dims], dataType: OnnxDataType.FLOAT16, rawData: new Uint8Array(bits.buffer) };
}

/** float → IEEE half, round to nearest even (normal range and zero are enough for stand-in weights). */
export function floatToHalfBits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -24) return sign;
  const exponent = Math.max(-14, Math.floor(Math.log2(a)));
  const step = 2 ** (exponent - 10);
  let mantissa = a / step;
  const r = Math.round(mantissa);
  mantissa = r - mantissa === 0.5 && (r & 1) !== 0 ? r - 1 : r;
  if (exponent === -14 && mantissa < 1024) return sign | mantissa; // subnormal
  let e = exponent + 15;
  if (mantissa >= 2048) {
    mantissa /= 2;
    e++;
  }
  return sign | (e << 10) | (mantissa - 1024);
}

const node = (opType: string, input: string[], output: string[], attribute: OnnxNode['attribute'] = []): OnnxNode => ({ opType, input, output, name: output[0], attribute });
const ints = (name: string, values: number[]) => ({ name, type: OnnxAttributeType.INTS, ints: values });
const int = (name: string, value: number) => ({ name, type: OnnxAttributeType.INT, i: value });

function model(graph: { node: OnnxNode[]; initializer: OnnxTensor[]; input: OnnxValueInfo[]; output: OnnxValueInfo[] }): Uint8Array {
  return encodeOnnxModel({
    irVersion: 8,
    producerName: 'liveswap-standin',
    opsetImport: [{ domain: '', version: 13 }],
    graph: { name: 'standin', ...graph },
  });
}

function randomMatrix(count: number, seed: number, scale: number): Float32Array {
  const next = seededRandom(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (next() * 2 - 1) * scale;
  return out;
}

// ---------------------------------------------------------------------------------------------
// SCRFD

/** A face to bake in, in the 640×640 letterbox canvas: [x1, y1, x2, y2] and 5 (x, y) keypoints. */
export interface BakedFace {
  box: readonly [number, number, number, number];
  kps5: ArrayLike<number>;
  score: number;
  /** Stride whose anchor carries the face; default 16. */
  stride?: 8 | 16 | 32;
}

const SCRFD_STRIDES = [8, 16, 32] as const;
const SCRFD_CANVAS = 640;
/** Score of every anchor that carries no face: below any sensible threshold. */
const BACKGROUND_SCORE = 0.02;

/**
 * det_10g's I/O: `input.1` float32 [1,3,?,?] → scores [N,1], boxes [N,4], keypoints [N,10] for
 * strides 8, 16, 32 (N for a 640×640 input, 2 anchors per cell). Each face is written into the
 * anchor nearest its box centre as distances / stride, the way SCRFD's heads encode them.
 */
export function scrfdStandin(faces: readonly BakedFace[]): Uint8Array {
  const scores: Float32Array[] = [];
  const boxes: Float32Array[] = [];
  const kps: Float32Array[] = [];
  for (const stride of SCRFD_STRIDES) {
    const cells = SCRFD_CANVAS / stride;
    const n = cells * cells * 2;
    scores.push(new Float32Array(n).fill(BACKGROUND_SCORE));
    boxes.push(new Float32Array(n * 4));
    kps.push(new Float32Array(n * 10));
  }
  for (const face of faces) {
    const stride = face.stride ?? 16;
    const level = SCRFD_STRIDES.indexOf(stride);
    const cells = SCRFD_CANVAS / stride;
    const [x1, y1, x2, y2] = face.box;
    const col = Math.min(cells - 1, Math.max(0, Math.round((x1 + x2) / 2 / stride)));
    const row = Math.min(cells - 1, Math.max(0, Math.round((y1 + y2) / 2 / stride)));
    // The first of the cell's two anchors; the second keeps the background score.
    const k = (row * cells + col) * 2;
    const cx = col * stride;
    const cy = row * stride;
    scores[level][k] = face.score;
    boxes[level].set([(cx - x1) / stride, (cy - y1) / stride, (x2 - cx) / stride, (y2 - cy) / stride], k * 4);
    for (let j = 0; j < 5; j++) {
      kps[level][k * 10 + 2 * j] = (face.kps5[2 * j] - cx) / stride;
      kps[level][k * 10 + 2 * j + 1] = (face.kps5[2 * j + 1] - cy) / stride;
    }
  }
  const nodes: OnnxNode[] = [
    // zero = 0 · mean(input): a scalar that ties every output to the input.
    node('ReduceMean', ['input.1'], ['mean'], [int('keepdims', 0)]),
    node('Mul', ['mean', 'zero_const'], ['zero']),
  ];
  const initializer: OnnxTensor[] = [floatTensor('zero_const', [], Float32Array.of(0))];
  const outputs: OnnxValueInfo[] = [];
  const groups = [scores, boxes, kps];
  const widths = [1, 4, 10];
  SCRFD_OUTPUT_NAMES.forEach((name, i) => {
    const group = Math.floor(i / 3);
    const values = groups[group][i % 3];
    const dims = [values.length / widths[group], widths[group]];
    initializer.push(floatTensor(`${name}_const`, dims, values));
    nodes.push(node('Add', [`${name}_const`, 'zero'], [name]));
    outputs.push(valueInfo(name, dims));
  });
  return model({ node: nodes, initializer, input: [valueInfo('input.1', [1, 3, '?', '?'])], output: outputs });
}

// ---------------------------------------------------------------------------------------------
// ArcFace

const ARCFACE_FEATURES = 3 * 14 * 14;

/** The stand-in ArcFace's 588×512 matrix (rows: pooled NCHW blob values). */
export function arcfaceProjection(seed = 7): Float32Array {
  return randomMatrix(ARCFACE_FEATURES * 512, seed, 0.1);
}

/**
 * w600k_r50's I/O: `input.1` float32 [N,3,112,112] → `683` [1,512]. 8×8 average pooling, flatten,
 * then a fixed seeded 588×512 matrix: different faces give different embeddings.
 */
export function arcfaceStandin(seed = 7): Uint8Array {
  const features = ARCFACE_FEATURES;
  return model({
    node: [
      node('AveragePool', ['input.1'], ['pooled'], [ints('kernel_shape', [8, 8]), ints('strides', [8, 8])]),
      node('Flatten', ['pooled'], ['flat'], [int('axis', 1)]),
      node('MatMul', ['flat', 'projection'], [ARCFACE_OUTPUT_NAME]),
    ],
    initializer: [floatTensor('projection', [features, 512], arcfaceProjection(seed))],
    input: [valueInfo('input.1', ['None', 3, 112, 112])],
    output: [valueInfo(ARCFACE_OUTPUT_NAME, [1, 512])],
  });
}

// ---------------------------------------------------------------------------------------------
// 2d106det

export const LANDMARK106_INPUT_NAME = 'data';
export const LANDMARK106_OUTPUT_NAME = 'fc1';

/**
 * 2d106det's I/O: `data` float32 [1,3,192,192] → `fc1` [1,212]. The output is `points` (212
 * values in the crop's [−1, 1] coordinates) plus 0·mean(input), whatever the crop shows.
 */
export function landmark106Standin(points: ArrayLike<number>): Uint8Array {
  if (points.length !== 212) throw new RangeError(`landmark106Standin: 212 values expected, got ${points.length}`);
  return model({
    node: [
      node('ReduceMean', [LANDMARK106_INPUT_NAME], ['mean'], [int('keepdims', 0)]),
      node('Mul', ['mean', 'zero_const'], ['zero']),
      node('Add', ['points', 'zero'], [LANDMARK106_OUTPUT_NAME]),
    ],
    initializer: [floatTensor('zero_const', [], Float32Array.of(0)), floatTensor('points', [1, 212], Float32Array.from(points))],
    input: [valueInfo(LANDMARK106_INPUT_NAME, [1, 3, 192, 192])],
    output: [valueInfo(LANDMARK106_OUTPUT_NAME, [1, 212])],
  });
}

// ---------------------------------------------------------------------------------------------
// InSwapper

export interface InswapperStandinOptions {
  /** 'fp32' (inswapper_128.onnx) or 'fp16' (inswapper_128_fp16.onnx: FLOAT16 initializers, float32 I/O). */
  precision?: 'fp32' | 'fp16';
  /**
   * Output per RGB channel, whatever the input (NaN allowed): for checking post-processing.
   * Default: sigmoid(4·(target − 0.5) + source·P) with a seeded 512×3 P, a mix of crop and identity.
   */
  constant?: readonly [number, number, number];
  seed?: number;
}

/** The stand-in's emap, for comparing with what {@link readEmap} reads back. */
export function standinEmap(seed = 11): Float32Array {
  return randomMatrix(512 * 512, seed, 1 / 16);
}

/** The default stand-in's 512×3 matrix P (fp32 values; the fp16 file stores them rounded). */
export function standinMix(seed = 11): Float32Array {
  return randomMatrix(512 * 3, seed + 1, 1);
}

/**
 * inswapper_128's I/O: `target` [1,3,128,128] and `source` [1,512] → `output` [1,3,128,128],
 * with the 512×512 `emap` as the last initializer.
 */
export function inswapperStandin(options: InswapperStandinOptions = {}): Uint8Array {
  const seed = options.seed ?? 11;
  const fp16 = options.precision === 'fp16';
  const tensor = fp16 ? halfTensor : floatTensor;
  const initializer: OnnxTensor[] = [];
  const nodes: OnnxNode[] = [];
  // fp16 files keep float32 I/O and cast their weights up, which a Cast per initializer mimics.
  const weight = (name: string, dims: number[], values: Float32Array): string => {
    initializer.push(tensor(`${name}_w`, dims, values));
    if (!fp16) return `${name}_w`;
    nodes.push(node('Cast', [`${name}_w`], [name], [int('to', OnnxDataType.FLOAT)]));
    return name;
  };
  const zero = weight('zero', [], Float32Array.of(0));
  let output: string;
  if (options.constant) {
    const constant = weight('constant', [1, 3, 1, 1], Float32Array.from(options.constant));
    nodes.push(node('Mul', ['target', zero], ['zeros']), node('Add', ['zeros', constant], ['constant_out']));
    output = 'constant_out';
  } else {
    const mix = weight('mix', [512, 3], standinMix(seed));
    const half = weight('half', [], Float32Array.of(0.5));
    const gain = weight('gain', [], Float32Array.of(4));
    initializer.push({ name: 'shape', dims: [4], dataType: OnnxDataType.INT64, int64Data: [1, 3, 1, 1] });
    nodes.push(
      node('Sub', ['target', half], ['centred']),
      node('Mul', ['centred', gain], ['scaled']),
      node('MatMul', ['source', mix], ['shift']),
      node('Reshape', ['shift', 'shape'], ['shift4']),
      node('Add', ['scaled', 'shift4'], ['logits']),
      node('Sigmoid', ['logits'], ['mixed']),
    );
    output = 'mixed';
  }
  // The emap goes last, as in the real file. The graph reads it (adding 0·mean(emap)) so
  // onnxruntime neither drops it nor warns about an unused initializer.
  const emap = weight('emap', [512, 512], standinEmap(seed));
  nodes.push(node('ReduceMean', [emap], ['emap_mean'], [int('keepdims', 0)]), node('Mul', ['emap_mean', zero], ['emap_zero']), node('Add', [output, 'emap_zero'], ['output']));
  return model({
    node: nodes,
    initializer,
    input: [valueInfo('target', [1, 3, 128, 128]), valueInfo('source', [1, 512])],
    output: [valueInfo('output', [1, 3, 128, 128])],
  });
}

/** Writes a stand-in to `dir/name` and returns the path. */
export function writeStandin(dir: string, name: string, bytes: Uint8Array): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/**
 * A model store holding these files (by registry id) with a registry whose sizes and hashes are
 * theirs, so the engine selection verifies and uses them; ids without a file get a one-byte entry.
 */
export async function standinStore(home: string, files: Readonly<Record<string, Uint8Array>>): Promise<ModelStore> {
  const registry: ModelRegistry = Object.fromEntries(
    Object.entries(MODEL_REGISTRY).map(([id, entry]) => {
      const bytes = files[id] ?? new Uint8Array([0]);
      return [id, { ...entry, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }];
    }),
  );
  const store = new ModelStore({ home, registry });
  await mkdir(store.folder, { recursive: true });
  for (const [id, bytes] of Object.entries(files)) await writeFile(store.pathOf(store.entries([id])[0]!), bytes);
  return store;
}

/**
 * Structural replicas of the InSwapper pipeline's three models at their real size, with seeded
 * random weights, for measuring what the real files cost (they cannot be downloaded here, and must
 * never be committed). Each replica has the real file's input and output names, shapes and dtypes
 * and its published layer layout, so a runtime does the same work:
 *
 * - `inswapper_128`: reflect-padded 7×7 convolution, strided 3×3 convolutions down to 1024×32×32,
 *   six style blocks (two reflect-padded 3×3 convolutions each, RMS-normalised, scaled and shifted
 *   by a Linear(512 → 2048) of the latent, a residual add), two ×2 upsampling convolutions and a
 *   7×7 output with tanh; `target` [1,3,128,128] + `source` [1,512] → `output` [1,3,128,128], the
 *   512×512 emap last. fp16: FLOAT16 weights and arithmetic, float32 input and output (as the
 *   fp16 files in circulation are made: converted with their I/O types kept).
 * - `w600k_r50`: IResNet-50 (stem, 3/4/14/3 basic blocks of 64/128/256/512 channels with PReLU and
 *   batch norms, FC 25088 → 512); `input.1` [N,3,112,112] → `683` [1,512].
 * - `det_10g`: SCRFD-10G with key points (deep stem, 3/4/2/3 basic blocks of 56/88/88/224
 *   channels, a path-aggregation neck of 56 channels, a head of three 3×3 convolutions of 80
 *   channels shared by strides 8/16/32); `input.1` [1,3,?,?] → the nine score/box/key-point outputs.
 *   Random weights find no faces, so the replica adds `0 ×` its heads to a baked face: the network
 *   runs in full and the engine still has a face to swap.
 */

import {
  decodeOnnxModel,
  encodeOnnxModel,
  OnnxAttributeType,
  OnnxDataType,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from '../src/models/onnx-proto.js';
import { scrfdStandin, SCRFD_OUTPUT_NAMES, seededRandom, type BakedFace } from '../test/helpers/standin-models.js';

type Dim = number | string;
export type Precision = 'fp32' | 'fp16';

/** What a replica holds: its bytes and what it computes. */
export interface Replica {
  bytes: Uint8Array;
  /** Weights in the graph. */
  parameters: number;
  /** Multiply-accumulates of its convolutions and matrix products for one input (at 640×640 for the detector). */
  macs: number;
}

const ints = (name: string, values: number[]): OnnxAttribute => ({ name, type: OnnxAttributeType.INTS, ints: values });
const int = (name: string, value: number): OnnxAttribute => ({ name, type: OnnxAttributeType.INT, i: value });
const float = (name: string, value: number): OnnxAttribute => ({ name, type: OnnxAttributeType.FLOAT, f: value });
const text = (name: string, value: string): OnnxAttribute => ({ name, type: OnnxAttributeType.STRING, s: new TextEncoder().encode(value) });

function valueInfo(name: string, dims: readonly Dim[]): OnnxValueInfo {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: OnnxDataType.FLOAT, shape: { dim } } } };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → IEEE half by its bits, rounding to nearest even (fast enough for 138 M weights). */
export function halfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = ((x >>> 23) & 0xff) - 112;
  const mantissa = x & 0x7fffff;
  if (exponent >= 31) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    const shift = 14 - exponent;
    const full = mantissa | 0x800000;
    let h = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (exponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** A graph under construction: layers append nodes and weights and count what they cost. */
class Net {
  readonly nodes: OnnxNode[] = [];
  readonly initializer: OnnxTensor[] = [];
  parameters = 0;
  macs = 0;
  private count = 0;
  private readonly random: () => number;

  constructor(
    readonly precision: Precision,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  private name(base: string): string {
    return `${base}_${this.count++}`;
  }

  op(type: string, inputs: string[], attributes: OnnxAttribute[] = [], output?: string): string {
    const out = output ?? this.name(type.toLowerCase());
    this.nodes.push({ opType: type, input: inputs, output: [out], name: out, attribute: attributes });
    return out;
  }

  /** A weight tensor in the graph's precision; `values` default to uniform noise of the given scale. */
  weight(dims: number[], scale: number, values?: Float32Array): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const data = values ?? new Float32Array(count);
    if (!values) for (let i = 0; i < count; i++) data[i] = (this.random() * 2 - 1) * scale;
    const name = this.name('w');
    this.parameters += count;
    if (this.precision === 'fp16') {
      const bits = new Uint16Array(count);
      for (let i = 0; i < count; i++) bits[i] = halfBits(data[i]!);
      this.initializer.push({ name, dims, dataType: OnnxDataType.FLOAT16, rawData: new Uint8Array(bits.buffer) });
    } else {
      this.initializer.push({ name, dims, dataType: OnnxDataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    }
    return name;
  }

  /** An int64 constant (shapes, pads, axes). */
  int64(values: number[]): string {
    const name = this.name('i');
    this.initializer.push({ name, dims: [values.length], dataType: OnnxDataType.INT64, int64Data: values });
    return name;
  }

  /** A float32 tensor whatever the precision (Resize's scales, baked outputs). */
  floats(dims: number[], values: Float32Array): string {
    const name = this.name('f');
    this.initializer.push({ name, dims, dataType: OnnxDataType.FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
    return name;
  }

  /** Nearest-neighbour ×2 upsampling. */
  upsample(x: string): string {
    return this.op('Resize', [x, '', this.floats([4], Float32Array.of(1, 1, 2, 2))], [text('mode', 'nearest')]);
  }

  constant(value: number): string {
    const saved = this.parameters;
    const name = this.weight([], 0, Float32Array.of(value));
    this.parameters = saved;
    return name;
  }

  /** Convolution (He-scaled weights, a bias); `size` is the output's side, for counting MACs. */
  conv(x: string, cin: number, cout: number, k: number, stride: number, size: number, pad = (k - 1) >> 1): string {
    const w = this.weight([cout, cin, k, k], Math.sqrt(6 / (cin * k * k)));
    const b = this.weight([cout], 0.01);
    this.macs += cin * cout * k * k * size * size;
    return this.op('Conv', [x, w, b], [ints('kernel_shape', [k, k]), ints('strides', [stride, stride]), ints('pads', [pad, pad, pad, pad])]);
  }

  reflectPad(x: string, p: number): string {
    return this.op('Pad', [x, this.int64([0, 0, p, p, 0, 0, p, p])], [text('mode', 'reflect')]);
  }

  relu(x: string): string {
    return this.op('Relu', [x]);
  }

  prelu(x: string, channels: number): string {
    return this.op('PRelu', [x, this.weight([channels, 1, 1], 0.25, new Float32Array(channels).fill(0.25))]);
  }

  batchNorm(x: string, channels: number): string {
    const ones = new Float32Array(channels).fill(1);
    const scale = this.weight([channels], 0, ones.slice());
    const bias = this.weight([channels], 0.01);
    const mean = this.weight([channels], 0.01);
    const variance = this.weight([channels], 0, ones.slice());
    return this.op('BatchNormalization', [x, scale, bias, mean, variance], [float('epsilon', 1e-5)]);
  }

  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }

  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }

  /** Fully connected: [1, cin] → [1, cout]. */
  linear(x: string, cin: number, cout: number): string {
    this.macs += cin * cout;
    return this.op('Gemm', [x, this.weight([cout, cin], Math.sqrt(3 / cin)), this.weight([cout], 0.01)], [int('transB', 1)]);
  }

  cast(x: string, to: number): string {
    return this.op('Cast', [x], [int('to', to)]);
  }

  /** The graph's input in its arithmetic type (fp16 graphs cast their float32 inputs). */
  input(name: string): string {
    return this.precision === 'fp16' ? this.cast(name, OnnxDataType.FLOAT16) : name;
  }

  /** Ends at `output` as float32. */
  output(x: string, name: string): void {
    if (this.precision === 'fp16') this.op('Cast', [x], [int('to', OnnxDataType.FLOAT)], name);
    else this.op('Identity', [x], [], name);
  }

  encode(inputs: OnnxValueInfo[], outputs: OnnxValueInfo[], producer: string): Replica {
    const bytes = encodeOnnxModel({
      irVersion: 8,
      producerName: producer,
      opsetImport: [{ domain: '', version: 13 }],
      graph: { name: producer, node: this.nodes, initializer: this.initializer, input: inputs, output: outputs },
    });
    return { bytes, parameters: this.parameters, macs: this.macs };
  }
}

// ---------------------------------------------------------------------------------------------
// inswapper_128

const STYLE_CHANNELS = 1024;
const STYLE_BLOCKS = 6;

/** x / sqrt(mean over the picture of x² + ε): the style blocks' normalisation. */
function rmsNorm(net: Net, x: string): string {
  const meanSquare = net.op('ReduceMean', [net.mul(x, x)], [ints('axes', [2, 3]), int('keepdims', 1)]);
  return net.op('Div', [x, net.op('Sqrt', [net.add(meanSquare, net.constant(1e-5))])]);
}

/** Scale and shift [1, C, 1, 1] each from Linear(512 → 2C) of the latent. */
function style(net: Net, latent: string): { scale: string; shift: string } {
  const both = net.linear(latent, 512, 2 * STYLE_CHANNELS);
  const shape = net.int64([1, 2 * STYLE_CHANNELS, 1, 1]);
  const reshaped = net.op('Reshape', [both, shape]);
  const half = (start: number): string => net.op('Slice', [reshaped, net.int64([start]), net.int64([start + STYLE_CHANNELS]), net.int64([1])]);
  return { scale: half(0), shift: half(STYLE_CHANNELS) };
}

function styleConv(net: Net, x: string, latent: string): string {
  const conv = net.conv(net.reflectPad(x, 1), STYLE_CHANNELS, STYLE_CHANNELS, 3, 1, 32, 0);
  const { scale, shift } = style(net, latent);
  return net.add(net.mul(rmsNorm(net, conv), scale), shift);
}

/** The replica of inswapper_128(.onnx | _fp16.onnx), emap last. */
export function inswapperReplica(precision: Precision, seed = 1): Replica {
  const net = new Net(precision, seed);
  const latent = net.input('source');
  let x = net.relu(net.conv(net.reflectPad(net.input('target'), 3), 3, 128, 7, 1, 128, 0));
  x = net.relu(net.conv(x, 128, 256, 3, 2, 64));
  x = net.relu(net.conv(x, 256, 512, 3, 2, 32));
  x = net.relu(net.conv(x, 512, STYLE_CHANNELS, 3, 1, 32));
  for (let block = 0; block < STYLE_BLOCKS; block++) {
    const h = net.relu(styleConv(net, x, latent));
    x = net.add(x, styleConv(net, h, latent));
  }
  const up = (input: string, cin: number, cout: number, size: number): string => net.relu(net.conv(net.upsample(input), cin, cout, 3, 1, size));
  x = up(x, STYLE_CHANNELS, 512, 64);
  x = up(x, 512, 256, 128);
  const out = net.op('Tanh', [net.conv(net.reflectPad(x, 3), 256, 3, 7, 1, 128, 0)]);
  // tanh → [0, 1]; the engine clips the output to 0..1 as the reference does.
  const unit = net.mul(net.add(out, net.constant(1)), net.constant(0.5));
  // The emap goes last, as in the real file; the graph reads it (0 · its mean) so nothing drops it.
  const zero = net.constant(0);
  const emap = net.weight([512, 512], 1 / 16);
  const emapZero = net.mul(net.op('ReduceMean', [emap], [int('keepdims', 0)]), zero);
  net.output(net.add(unit, emapZero), 'output');
  return net.encode([valueInfo('target', [1, 3, 128, 128]), valueInfo('source', [1, 512])], [valueInfo('output', [1, 3, 128, 128])], 'liveswap-replica-inswapper');
}

// ---------------------------------------------------------------------------------------------
// w600k_r50

/** IResNet's block: BN → 3×3 → BN → PReLU → 3×3 (stride) → BN, plus the input (1×1 + BN when the shape changes). */
function iresBlock(net: Net, x: string, cin: number, cout: number, stride: number, size: number): string {
  let h = net.batchNorm(x, cin);
  h = net.prelu(net.batchNorm(net.conv(h, cin, cout, 3, 1, size * stride), cout), cout);
  h = net.batchNorm(net.conv(h, cout, cout, 3, stride, size), cout);
  const shortcut = stride === 1 && cin === cout ? x : net.batchNorm(net.conv(x, cin, cout, 1, stride, size, 0), cout);
  return net.add(h, shortcut);
}

/** The replica of w600k_r50.onnx (IResNet-50, 112×112 → 512). */
export function arcfaceReplica(seed = 2): Replica {
  const net = new Net('fp32', seed);
  let x = net.prelu(net.batchNorm(net.conv('input.1', 3, 64, 3, 1, 112), 64), 64);
  let channels = 64;
  let size = 112;
  for (const [planes, blocks] of [
    [64, 3],
    [128, 4],
    [256, 14],
    [512, 3],
  ] as const) {
    size /= 2;
    x = iresBlock(net, x, channels, planes, 2, size);
    for (let i = 1; i < blocks; i++) x = iresBlock(net, x, planes, planes, 1, size);
    channels = planes;
  }
  const flat = net.op('Flatten', [net.batchNorm(x, 512)], [int('axis', 1)]);
  net.op(
    'BatchNormalization',
    [net.linear(flat, 512 * 7 * 7, 512), ...[1, 0, 0, 1].map((v) => net.weight([512], 0, new Float32Array(512).fill(v)))],
    [float('epsilon', 1e-5)],
    ARCFACE_OUTPUT,
  );
  return net.encode([valueInfo('input.1', ['None', 3, 112, 112])], [valueInfo(ARCFACE_OUTPUT, [1, 512])], 'liveswap-replica-arcface');
}

const ARCFACE_OUTPUT = '683';

// ---------------------------------------------------------------------------------------------
// det_10g

const DETECTOR_CANVAS = 640;

function basicBlock(net: Net, x: string, cin: number, cout: number, stride: number, size: number): string {
  const h = net.conv(net.relu(net.conv(x, cin, cout, 3, stride, size)), cout, cout, 3, 1, size);
  const shortcut = stride === 1 && cin === cout ? x : net.conv(x, cin, cout, 1, stride, size, 0);
  return net.relu(net.add(h, shortcut));
}

/**
 * The replica of det_10g.onnx. `faces` are baked into its outputs (in the 640×640 canvas, as
 * {@link scrfdStandin} takes them) and added to 0 × the heads' outputs.
 */
export function detectorReplica(faces: readonly BakedFace[], seed = 3): Replica {
  const net = new Net('fp32', seed);
  // Deep stem (3×3 s2, 3×3, 3×3) and a 3×3 max pool: 640 → 160.
  let x = net.relu(net.conv('input.1', 3, 28, 3, 2, 320));
  x = net.relu(net.conv(x, 28, 28, 3, 1, 320));
  x = net.relu(net.conv(x, 28, 56, 3, 1, 320));
  x = net.op('MaxPool', [x], [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), ints('pads', [1, 1, 1, 1])]);
  const levels: { x: string; channels: number; size: number }[] = [];
  let channels = 56;
  let size = 160;
  for (const [planes, blocks, stride] of [
    [56, 3, 1],
    [88, 4, 2],
    [88, 2, 2],
    [224, 3, 2],
  ] as const) {
    size /= stride;
    x = basicBlock(net, x, channels, planes, stride, size);
    for (let i = 1; i < blocks; i++) x = basicBlock(net, x, planes, planes, 1, size);
    channels = planes;
    levels.push({ x, channels, size });
  }
  // Path-aggregation neck on strides 8, 16, 32 (56 channels).
  const [c8, c16, c32] = levels.slice(1);
  const neck = 56;
  const lateral = [c8!, c16!, c32!].map((c) => net.conv(c.x, c.channels, neck, 1, 1, c.size, 0));
  const sizes = [80, 40, 20];
  lateral[1] = net.add(lateral[1]!, net.upsample(lateral[2]!));
  lateral[0] = net.add(lateral[0]!, net.upsample(lateral[1]!));
  const fpn = lateral.map((l, i) => net.conv(l, neck, neck, 3, 1, sizes[i]!));
  const pan = [fpn[0]!];
  for (let i = 1; i < 3; i++) pan.push(net.conv(net.add(fpn[i]!, net.conv(pan[i - 1]!, neck, neck, 3, 2, sizes[i]!)), neck, neck, 3, 1, sizes[i]!));
  // Heads (3 × 3×3 of 80 channels), scores (sigmoid), boxes and key points, 2 anchors a cell.
  const baked = new Map((decodeOnnxModel(scrfdStandin(faces)).graph?.initializer ?? []).map((t) => [t.name, t]));
  const zero = net.constant(0);
  const outputs: OnnxValueInfo[] = [];
  const heads = pan.map((p, level) => {
    let h = p;
    for (let i = 0; i < 3; i++) h = net.relu(net.conv(h, i === 0 ? neck : 80, 80, 3, 1, sizes[level]!));
    return h;
  });
  const widths = [1, 4, 10];
  SCRFD_OUTPUT_NAMES.forEach((name, i) => {
    const kind = Math.floor(i / 3);
    const level = i % 3;
    const width = widths[kind]!;
    let head = net.conv(heads[level]!, 80, 2 * width, 3, 1, sizes[level]!);
    head = net.op('Reshape', [net.op('Transpose', [head], [ints('perm', [0, 2, 3, 1])]), net.int64([-1, width])]);
    if (kind === 0) head = net.op('Sigmoid', [head]);
    const constant = baked.get(`${name}_const`);
    if (!constant?.rawData || !constant.dims) throw new Error(`detectorReplica: no baked output ${name}`);
    const values = new Float32Array(constant.rawData.slice().buffer);
    const n = (DETECTOR_CANVAS / [8, 16, 32][level]!) ** 2 * 2;
    if (values.length !== n * width) throw new Error(`detectorReplica: baked ${name} has ${values.length} values, expected ${n * width}`);
    net.op('Add', [net.mul(head, zero), net.floats([n, width], values)], [], name);
    outputs.push(valueInfo(name, [n, width]));
  });
  return net.encode([valueInfo('input.1', [1, 3, '?', '?'])], outputs, 'liveswap-replica-scrfd');
}

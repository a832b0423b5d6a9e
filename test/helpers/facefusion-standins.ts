/**
 * Small deterministic ONNX stand-ins with the exact I/O of FaceFusion's rows (model-spec-facefusion.ts):
 * a swapper of any family (`target` and `source` by name, the row's shapes), a crossface converter
 * and a face enhancer (with CodeFormer's float64 `weight`), written at test time. Each graph reads
 * every input, so onnxruntime cannot fold any away.
 */

import type { ModelSpec } from '../../src/models/model-spec.js';
import { encodeOnnxModel, OnnxAttributeType, OnnxDataType, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from '../../src/models/onnx-proto.js';
import { seededRandom } from './random.js';

function valueInfo(name: string, dims: readonly number[], elemType: number = OnnxDataType.FLOAT): OnnxValueInfo {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

function floatTensor(name: string, dims: readonly number[], values: Float32Array): OnnxTensor {
  return { name, dims: [...dims], dataType: OnnxDataType.FLOAT, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) };
}

const node = (opType: string, input: string[], output: string[], attribute: OnnxNode['attribute'] = []): OnnxNode => ({ opType, input, output, name: output[0], attribute });
const int = (name: string, value: number) => ({ name, type: OnnxAttributeType.INT, i: value });

function model(graph: { node: OnnxNode[]; initializer: OnnxTensor[]; input: OnnxValueInfo[]; output: OnnxValueInfo[] }): Uint8Array {
  return encodeOnnxModel({ irVersion: 8, producerName: 'liveswap-standin', opsetImport: [{ domain: '', version: 13 }], graph: { name: 'standin', ...graph } });
}

/** A seeded matrix with entries in ±scale. */
export function seededMatrix(count: number, seed: number, scale: number): Float32Array {
  const next = seededRandom(seed);
  return Float32Array.from({ length: count }, () => (next() * 2 - 1) * scale);
}

function numericDims(shape: ModelSpec['inputs'][number]['shape']): number[] {
  return shape.map((d) => (typeof d === 'number' ? d : 1));
}

/**
 * A swapper with the row's I/O. `identity`: output = target + 0·mean(source) (the crop comes back
 * through the row's output scale). `source`: output = tanh(source·P) per channel, broadcast over
 * the crop, + 0·mean(target), with a seeded P (an embedding source: [512, 3]; an image source: its
 * channel means, so P is [3, 3]); tanh keeps the value inside −1..1.
 */
export function swapperStandin(row: ModelSpec, mode: 'identity' | 'source', seed = 5): Uint8Array {
  const target = row.inputs.find((t) => t.name === 'target')!;
  const source = row.inputs.find((t) => t.name === 'source')!;
  const targetDims = numericDims(target.shape);
  const sourceDims = numericDims(source.shape);
  const nodes: OnnxNode[] = [];
  const initializer: OnnxTensor[] = [floatTensor('zero', [], Float32Array.of(0))];
  if (mode === 'identity') {
    nodes.push(
      node('ReduceMean', ['source'], ['source_mean'], [int('keepdims', 0)]),
      node('Mul', ['source_mean', 'zero'], ['source_zero']),
      node('Add', ['target', 'source_zero'], ['output']),
    );
  } else {
    const image = sourceDims.length === 4;
    const width = image ? 3 : sourceDims[1]!;
    initializer.push(floatTensor('mix', [width, 3], sourceMix(width, seed)));
    initializer.push({ name: 'shape', dims: [4], dataType: OnnxDataType.INT64, int64Data: [1, 3, 1, 1] });
    initializer.push({ name: 'flat', dims: [2], dataType: OnnxDataType.INT64, int64Data: [1, width] });
    if (image)
      nodes.push(node('ReduceMean', ['source'], ['pooled'], [{ name: 'axes', type: OnnxAttributeType.INTS, ints: [2, 3] }]), node('Reshape', ['pooled', 'flat'], ['vector']));
    else nodes.push(node('Reshape', ['source', 'flat'], ['vector']));
    nodes.push(
      node('MatMul', ['vector', 'mix'], ['shift']),
      node('Tanh', ['shift'], ['squashed']),
      node('Reshape', ['squashed', 'shape'], ['shift4']),
      node('ReduceMean', ['target'], ['target_mean'], [int('keepdims', 1)]),
      node('Mul', ['target_mean', 'zero'], ['target_zero']),
      node('Mul', ['target', 'zero'], ['blank']),
      node('Add', ['blank', 'shift4'], ['painted']),
      node('Add', ['painted', 'target_zero'], ['output']),
    );
  }
  return model({
    node: nodes,
    initializer,
    input: [valueInfo('target', targetDims), valueInfo('source', sourceDims)],
    output: [valueInfo('output', targetDims)],
  });
}

/** The P of {@link swapperStandin}'s `source` mode. */
export function sourceMix(width: number, seed = 5): Float32Array {
  return seededMatrix(width * 3, seed, width === 3 ? 2 : 0.2);
}

/** A crossface converter: `input` [1,512] → `output` = input·Q, Q seeded [512, 512]. */
export function converterStandin(seed = 9): Uint8Array {
  return model({
    node: [node('MatMul', ['input', 'q'], ['output'])],
    initializer: [floatTensor('q', [512, 512], converterMatrix(seed))],
    input: [valueInfo('input', [1, 512])],
    output: [valueInfo('output', [1, 512])],
  });
}

/** The Q of {@link converterStandin}. */
export function converterMatrix(seed = 9): Float32Array {
  return seededMatrix(512 * 512, seed, 0.05);
}

/**
 * A face enhancer with the row's I/O: output = gain·input + offset (+ the float64 `weight` cast
 * to float for a row that has it: CodeFormer), so its effect is known in closed form.
 */
export function enhancerStandin(row: ModelSpec, gain: number, offset: number): Uint8Array {
  const size = row.input.size;
  const fidelity = row.inputs.some((t) => t.name === 'weight');
  const nodes: OnnxNode[] = [node('Mul', ['input', 'gain'], ['scaled']), node('Add', ['scaled', 'offset'], [fidelity ? 'partial' : 'output'])];
  if (fidelity) nodes.push(node('Cast', ['weight'], ['weight32'], [int('to', OnnxDataType.FLOAT)]), node('Add', ['partial', 'weight32'], ['output']));
  return model({
    node: nodes,
    initializer: [floatTensor('gain', [], Float32Array.of(gain)), floatTensor('offset', [], Float32Array.of(offset))],
    input: [valueInfo('input', [1, 3, size, size]), ...(fidelity ? [valueInfo('weight', [1], OnnxDataType.DOUBLE)] : [])],
    output: [valueInfo('output', [1, 3, size, size])],
  });
}

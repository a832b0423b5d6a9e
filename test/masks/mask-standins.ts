/**
 * Stand-in ONNX files for the mask models, written at test time with the exact tensors of their
 * rows (XSeg: `input` float32 [1, 256, 256, 3] NHWC → [1, 256, 256, 1]; BiSeNet: `input` float32
 * [1, 3, 512, 512] → [1, 19, 512, 512] logits). Each output is a baked map plus 0·mean(input), so
 * the graph still reads its input and onnxruntime cannot fold it away.
 */

import { encodeOnnxModel, OnnxAttributeType, OnnxDataType, type OnnxNode } from '../../src/models/onnx-proto.js';
import { MODEL_SPECS } from '../../src/models/model-spec.js';

/** A rectangle [x0, y0, x1, y1) in a model's input pixels. */
export type Box = readonly [number, number, number, number];

const node = (opType: string, input: string[], output: string[], attribute: OnnxNode['attribute'] = []): OnnxNode => ({ opType, input, output, name: output[0], attribute });

function dims(shape: readonly (number | string)[]): number[] {
  return shape.map((d) => {
    if (typeof d !== 'number') throw new RangeError(`stand-in: symbolic dimension ${d}`);
    return d;
  });
}

/** output = map + 0·mean(input), with the row's input name and shapes; the output is named as the row says, else `output`. */
function bakedModel(id: 'xseg_1' | 'xseg_2' | 'xseg_3' | 'bisenet_resnet_18' | 'bisenet_resnet_34', map: Float32Array): Uint8Array {
  const row = MODEL_SPECS[id];
  const input = row.inputs[0]!;
  const output = row.outputs[0]!;
  const inName = input.name ?? 'input';
  const outName = output.name ?? 'output';
  const outDims = dims(output.shape);
  const valueInfo = (name: string, shape: number[]) => ({ name, type: { tensorType: { elemType: OnnxDataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } } });
  return encodeOnnxModel({
    irVersion: 8,
    producerName: 'liveswap-standin',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: `${id}-standin`,
      node: [
        node('ReduceMean', [inName], ['mean'], [{ name: 'keepdims', type: OnnxAttributeType.INT, i: 0 }]),
        node('Mul', ['mean', 'zero'], ['nothing']),
        node('Add', ['map', 'nothing'], [outName]),
      ],
      initializer: [
        { name: 'zero', dims: [], dataType: OnnxDataType.FLOAT, rawData: new Uint8Array(Float32Array.of(0).buffer) },
        { name: 'map', dims: outDims, dataType: OnnxDataType.FLOAT, rawData: new Uint8Array(map.buffer, map.byteOffset, map.byteLength) },
      ],
      input: [valueInfo(inName, dims(input.shape))],
      output: [valueInfo(outName, outDims)],
    },
  });
}

/** An XSeg stand-in: face (1) everywhere but `box`, where something covers it (0). */
export function xsegStandin(id: 'xseg_1' | 'xseg_2' | 'xseg_3', box: Box): Uint8Array {
  const size = MODEL_SPECS[id].input.size;
  const map = new Float32Array(size * size).fill(1);
  for (let y = box[1]; y < box[3]; y++) map.fill(0, y * size + box[0], y * size + box[2]);
  return bakedModel(id, map);
}

/** A BiSeNet stand-in: skin (label 1) everywhere, `label` inside `box` (its logit 2 against 1). */
export function bisenetStandin(id: 'bisenet_resnet_18' | 'bisenet_resnet_34', label: number, box: Box): Uint8Array {
  const size = MODEL_SPECS[id].input.size;
  const plane = size * size;
  const map = new Float32Array(19 * plane);
  map.fill(1, plane, 2 * plane);
  for (let y = box[1]; y < box[3]; y++) map.fill(2, label * plane + y * size + box[0], label * plane + y * size + box[2]);
  return bakedModel(id, map);
}

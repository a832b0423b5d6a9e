/**
 * Converts a TensorFlow.js graph model (model.json + weights) into an ONNX model, so the face
 * models bundled with @vladmandic/human can run on onnxruntime like every other model here.
 *
 * This module drives the conversion: it orders the nodes, folds Const nodes, turns Placeholders
 * into graph inputs (NHWC, as TFJS takes them) and the graph's terminal nodes (or the nodes the
 * caller names) into outputs named after them, and delegates each op to the converters in
 * tfjs-ops*.ts.
 */

import { OnnxGraphBuilder, TfjsConversionError, type Dim, type Value } from './onnx-graph-builder.js';
import { encodeOnnxModel, OnnxDataType, type OnnxDimension, type OnnxValueInfo } from './onnx-proto.js';
import { attrShape, attrType, decodeTfjsWeights, parseInputRef, type TfjsGraphModelJson, type TfjsNodeDef, type TfjsWeight } from './tfjs-graph.js';
import type { OpContext } from './tfjs-op-context.js';
import { opConverters } from './tfjs-ops.js';

/** Opset 13 covers every op emitted (Pad/Clip/Reshape take tensors as inputs there). */
export const ONNX_OPSET = 13;
/** IR version 7 is the one that introduced opset 13. */
export const ONNX_IR_VERSION = 7;

export interface ConvertOptions {
  producerName?: string;
  docString?: string;
  /**
   * Graph outputs by TF node name, in this order, instead of every terminal node sorted by name:
   * how an intermediate tensor (an embedding that a classifier head reads on) becomes readable.
   * Only the nodes these depend on are converted. The ONNX outputs keep the TF node names.
   */
  outputs?: readonly string[];
}

export { TfjsConversionError };

export function convertTfjsGraph(model: TfjsGraphModelJson, weights: Uint8Array, options: ConvertOptions = {}): Uint8Array {
  const nodes = model.modelTopology?.node;
  if (!Array.isArray(nodes)) throw new Error('TFJS model JSON has no modelTopology.node list (is it a graph model?)');
  const byName = new Map<string, TfjsNodeDef>();
  for (const node of nodes) {
    if (byName.has(node.name)) throw new TfjsConversionError(node, 'another node has the same name');
    byName.set(node.name, node);
  }
  const tensors = decodeTfjsWeights(model.weightsManifest ?? [], weights);
  const b = new OnnxGraphBuilder();
  const values = new Map<string, Value>();
  const inputs: OnnxValueInfo[] = [];

  const outputs = options.outputs ? requestedOutputs(options.outputs, byName) : terminalOutputs(nodes);
  // Graph input and output names are fixed; claim them before any generated name could take one.
  for (const name of outputs) b.reserve(name);
  for (const node of nodes) if (node.op === 'Placeholder') b.reserve(node.name);

  // Named outputs convert only what they depend on, so an unused head or input costs nothing.
  const roots = options.outputs ? outputs.map((name) => byName.get(name)!) : nodes;
  for (const node of topologicalOrder(roots, byName)) {
    if (node.op === 'Const') {
      const weight = tensors.get(node.name);
      if (!weight) throw new TfjsConversionError(node, 'no float32/int32 weight in the manifest for this Const');
      values.set(node.name, { label: node.name, shape: [...weight.shape], dtype: weight.dtype, konst: weight });
    } else if (node.op === 'Placeholder') {
      const shape = attrShape(node, 'shape');
      if (attrType(node, 'dtype') !== 'DT_FLOAT') throw new TfjsConversionError(node, `input dtype ${attrType(node, 'dtype')} is not supported`);
      if (!shape) throw new TfjsConversionError(node, 'input shape (rank) is unknown');
      inputs.push(valueInfo(node.name, OnnxDataType.FLOAT, shape));
      values.set(node.name, { label: node.name, shape, dtype: 'float32', nhwc: node.name });
    } else {
      // Own keys only: an op named "valueOf" or "__proto__" found Object.prototype's (found by fuzzing).
      const convert = Object.hasOwn(opConverters, node.op) ? opConverters[node.op] : undefined;
      if (!convert) throw new TfjsConversionError(node, `op ${node.op} is not supported`);
      values.set(node.name, convert(opContext(node, b, values)));
    }
  }

  const graphOutputs = outputs.map((name) => {
    const v = values.get(name)!;
    b.node('Identity', [b.nhwc(v)], name, [], name);
    return valueInfo(name, v.dtype === 'int32' ? OnnxDataType.INT32 : OnnxDataType.FLOAT, v.shape);
  });
  return encodeOnnxModel({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: options.producerName ?? 'liveswap tfjs-to-onnx',
    docString: options.docString,
    graph: { name: 'tfjs_graph', node: b.nodes, initializer: b.initializers, input: inputs, output: graphOutputs },
    metadataProps: [{ key: 'source_format', value: 'tfjs-graph-model' }],
  });
}

/** Terminal nodes (consumed by nothing) are the graph outputs, as in TFJS itself. */
function terminalOutputs(nodes: TfjsNodeDef[]): string[] {
  const consumed = new Set(nodes.flatMap((n) => dataInputs(n).map((r) => parseInputRef(r).name)));
  const outputs = nodes
    .filter((n) => n.op !== 'Const' && n.op !== 'Placeholder' && !consumed.has(n.name))
    .map((n) => n.name)
    .sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
  if (outputs.length === 0) throw new Error('TFJS graph has no output nodes');
  return outputs;
}

function requestedOutputs(names: readonly string[], byName: Map<string, TfjsNodeDef>): string[] {
  if (names.length === 0) throw new Error('The list of requested outputs is empty');
  for (const [i, name] of names.entries()) {
    const node = byName.get(name);
    if (!node) throw new Error(`Requested output "${name}" is not a node of the TFJS graph (give node names, without ":0")`);
    if (node.op === 'Const' || node.op === 'Placeholder') throw new TfjsConversionError(node, 'a Const or Placeholder cannot be an output');
    if (names.indexOf(name) !== i) throw new Error(`Output "${name}" is requested twice`);
  }
  return [...names];
}

function dataInputs(node: TfjsNodeDef): string[] {
  return (node.input ?? []).filter((ref) => !parseInputRef(ref).control);
}

/** Depth-first post-order from the roots, so every node comes after the nodes it reads. */
function topologicalOrder(roots: TfjsNodeDef[], byName: Map<string, TfjsNodeDef>): TfjsNodeDef[] {
  const order: TfjsNodeDef[] = [];
  const state = new Map<string, 'open' | 'done'>();
  for (const root of roots) {
    // Explicit stack: the face models are a few hundred nodes deep, past comfortable recursion.
    const stack: { node: TfjsNodeDef; next: number }[] = [{ node: root, next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next === 0) {
        if (state.get(top.node.name) === 'done') {
          stack.pop();
          continue;
        }
        state.set(top.node.name, 'open');
      }
      const refs = (top.node.input ?? []).map((r) => parseInputRef(r).name);
      if (top.next < refs.length) {
        const dep = byName.get(refs[top.next++]);
        if (!dep) throw new TfjsConversionError(top.node, `input "${refs[top.next - 1]}" is not a node of the graph`);
        if (state.get(dep.name) === 'open') throw new TfjsConversionError(top.node, 'the graph has a cycle');
        if (state.get(dep.name) !== 'done') stack.push({ node: dep, next: 0 });
        continue;
      }
      state.set(top.node.name, 'done');
      order.push(top.node);
      stack.pop();
    }
  }
  return order;
}

function opContext(node: TfjsNodeDef, b: OnnxGraphBuilder, values: Map<string, Value>): OpContext {
  const refs = dataInputs(node);
  const fail = (message: string): never => {
    throw new TfjsConversionError(node, message);
  };
  const input = (i: number): Value => {
    if (i >= refs.length) fail(`expects at least ${i + 1} inputs, has ${refs.length}`);
    const ref = parseInputRef(refs[i]);
    // Every supported op has a single output, so only output 0 of a producer can be referenced.
    if (ref.index !== 0) fail(`input "${refs[i]}" reads output ${ref.index}; multi-output producers are not supported`);
    return values.get(ref.name)!;
  };
  return {
    node,
    b,
    inputCount: refs.length,
    input,
    fail,
    constInput(i: number, what: string): TfjsWeight {
      const v = input(i);
      return v.konst ?? fail(`${what} (input ${i}, "${v.label}") must be a constant`);
    },
  };
}

/** Graph input/output description; an unknown leading size is the batch, others stay anonymous. */
function valueInfo(name: string, elemType: number, shape: Dim[]): OnnxValueInfo {
  const dim = shape.map((n, axis): OnnxDimension => (n !== null ? { dimValue: n } : axis === 0 ? { dimParam: 'batch' } : {}));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

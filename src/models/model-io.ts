/**
 * Ties a loaded session to its table row: the tensor names the model classes feed and read, in the
 * row's order, checked once when the class is made, so a file that is not the model its row
 * describes fails with one message naming both, not with a missing tensor mid-frame.
 */

import { LiveswapError } from '../core/errors.js';
import type { CropSpec, ModelSpec, TensorLayout, TensorSpec } from './model-spec.js';
import type { InferenceSession } from './runtime.js';

/** The session's tensor names for the row's inputs and outputs, position by position. */
export interface BoundIo {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

function describe(tensors: readonly TensorSpec[]): string {
  return tensors.map((t) => t.name ?? '(any name)').join(', ');
}

/**
 * The row's names where it pins them, the session's own at that position where it does not. The
 * session must have exactly the row's inputs and at least its outputs (a converted graph may keep
 * more heads than the class reads); `label` names the file in the error.
 */
export function bindSession(session: InferenceSession, spec: ModelSpec, label: string = spec.id): BoundIo {
  const inputs = match(spec.inputs, session.inputNames);
  const outputs = match(spec.outputs, session.outputNames);
  if (session.inputNames.length !== spec.inputs.length || !inputs || !outputs) {
    throw new LiveswapError(
      'model',
      `${label} does not match the ${spec.id} model's row in the model table: it has inputs [${session.inputNames.join(', ')}] ` +
        `and outputs [${session.outputNames.join(', ')}]; expected ${spec.inputs.length} input(s) [${describe(spec.inputs)}] ` +
        `and the output(s) [${describe(spec.outputs)}]. Is it the ${spec.id} model (${spec.description})?`,
      { file: label },
    );
  }
  return { inputs, outputs };
}

/** Names for `wanted` taken from `names`, or undefined when a pinned one is missing or there are too few. */
function match(wanted: readonly TensorSpec[], names: readonly string[]): string[] | undefined {
  if (names.length < wanted.length) return undefined;
  const out: string[] = [];
  for (const [i, tensor] of wanted.entries()) {
    const name = tensor.name ?? names[i];
    if (name === undefined || !names.includes(name)) return undefined;
    out.push(name);
  }
  return out;
}

/**
 * Throws unless the row's input is cut and laid out as `user` (a model class) prepares it: a row
 * asking for another crop needs another class, not a silently different input.
 */
export function expectInput(spec: ModelSpec, user: string, crop: CropSpec['kind'], layout: TensorLayout): void {
  if (spec.input.crop.kind !== crop || spec.input.layout !== layout) {
    throw new LiveswapError('model', `${user} feeds ${layout} input cut by '${crop}'; the row of ${spec.id} asks for ${spec.input.layout} cut by '${spec.input.crop.kind}'.`);
  }
}

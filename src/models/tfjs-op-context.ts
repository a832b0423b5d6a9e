/**
 * What a single-op converter sees while it runs: the node, the graph being built, and accessors
 * for the node's already-converted inputs, plus checks every op module shares. Kept apart so the
 * op modules and the driver can all depend on it without importing each other.
 */

import type { OnnxGraphBuilder, Value } from './onnx-graph-builder.js';
import type { TfjsNodeDef, TfjsWeight } from './tfjs-graph.js';

export interface OpContext {
  readonly node: TfjsNodeDef;
  readonly b: OnnxGraphBuilder;
  /** Number of data inputs (control edges excluded). */
  readonly inputCount: number;
  /** The converted value feeding data input i. */
  input(i: number): Value;
  /** Data input i, which must be a folded Const; `what` names it in the error otherwise. */
  constInput(i: number, what: string): TfjsWeight;
  /** Throws a TfjsConversionError naming this node and op. */
  fail(message: string): never;
}

/** Converts one node; returns the value of its (single) output. */
export type OpConverter = (ctx: OpContext) => Value;

/** Passes a float32 value through; integer data fails the node (no supported op computes on it). */
export function requireFloat(ctx: OpContext, v: Value): Value {
  if (v.dtype !== 'float32') ctx.fail(`input "${v.label}" is ${v.dtype}; only float32 data is supported`);
  return v;
}

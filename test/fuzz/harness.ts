/**
 * The fuzz harness's shared parts: what a target is, the property every target checks (a valid
 * value or an error of the kind the parser promises, nothing else), byte- and JSON-level mutation
 * arbitraries over real sample files, and a JSON codec so a failing input can be stored and
 * replayed as a regression case.
 */

import fc from 'fast-check';
import { ERROR_KINDS, LiveswapError, type ErrorKind } from '../../src/core/errors.js';

/** One parser under fuzzing. `arbitrary` is async because some seed files are made or read first. */
export interface FuzzTarget<T = unknown> {
  name: string;
  /** What the target feeds, in one line (shown by `npm run fuzz -- --list`). */
  about: string;
  arbitrary: () => Promise<fc.Arbitrary<T>>;
  /** Runs the parser on one input; throws a {@link PropertyFailure} when the outcome breaks the property. */
  run: (input: T) => Promise<void>;
}

/** The parser broke its contract: an error it must not throw, or a value that is not valid. */
export class PropertyFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PropertyFailure';
  }
}

/** Largest input any target is fed: big enough for real headers and samples, small enough to run fast. */
export const MAX_INPUT_BYTES = 256 * 1024;

/** An error predicate: true when `error` is one the parser may throw for bad input. */
export type ErrorContract = (error: unknown) => boolean;

/** A LiveswapError of one of `kinds` (never 'internal': that is a bug by definition). */
export function liveswapKinds(...kinds: ErrorKind[]): ErrorContract {
  return (error) => error instanceof LiveswapError && ERROR_KINDS.includes(error.kind) && error.kind !== 'internal' && kinds.includes(error.kind);
}

function describeError(error: unknown): string {
  if (error instanceof LiveswapError) return `LiveswapError(${error.kind}): ${error.message}`;
  if (error instanceof Error) return `${error.constructor.name}: ${error.message}`;
  return `non-Error thrown: ${String(error)}`;
}

/**
 * The property: `call` returns a value `check` accepts (check throws or returns a reason string
 * when it does not), or throws an error `contract` accepts.
 */
export async function expectOutcome<V>(call: () => V | Promise<V>, check: (value: V) => string | undefined, contract: ErrorContract): Promise<void> {
  let value: V;
  try {
    value = await call();
  } catch (error) {
    if (contract(error)) return;
    throw new PropertyFailure(`threw an error outside its contract: ${describeError(error)}`, { cause: error });
  }
  const problem = check(value);
  if (problem !== undefined) throw new PropertyFailure(`returned an invalid value: ${problem}`);
}

/** Never throws at all: for the parsers that answer bad input with undefined or a partial result. */
export const neverThrows: ErrorContract = () => false;

// ---------------------------------------------------------------------------------------------
// Mutations

/** One edit of a byte string; positions are taken modulo the length so shrinking stays meaningful. */
type Edit =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'truncate'; at: number }
  | { op: 'u32'; at: number; value: number };

const editArbitrary: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x2c, 0x3a, 0x0a) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  // A huge or negative length in a header field: what makes a parser allocate without bound.
  fc.record({ op: fc.constant('u32' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 0x80000000, 0xfffffffe) }),
);

function applyEdit(bytes: Uint8Array, edit: Edit): Uint8Array {
  const n = bytes.length;
  if (n === 0) return edit.op === 'insert' ? edit.bytes : bytes;
  const at = edit.at % n;
  switch (edit.op) {
    case 'flip': {
      const out = bytes.slice();
      out[at] = out[at]! ^ (1 << edit.bit);
      return out;
    }
    case 'set': {
      const out = bytes.slice();
      out[at] = edit.value;
      return out;
    }
    case 'insert': {
      const out = new Uint8Array(n + edit.bytes.length);
      out.set(bytes.subarray(0, at));
      out.set(edit.bytes, at);
      out.set(bytes.subarray(at), at + edit.bytes.length);
      return out.length > MAX_INPUT_BYTES ? out.subarray(0, MAX_INPUT_BYTES) : out;
    }
    case 'delete': {
      const out = new Uint8Array(n - Math.min(edit.count, n - at));
      out.set(bytes.subarray(0, at));
      out.set(bytes.subarray(at + edit.count), at);
      return out;
    }
    case 'truncate':
      return bytes.slice(0, at);
    case 'u32': {
      const out = bytes.slice();
      for (let i = 0; i < 4 && at + i < n; i++) out[at + i] = (edit.value >>> (8 * i)) & 0xff;
      return out;
    }
  }
}

/** A seed file with a few edits applied (flips, inserts, deletions, truncation, huge lengths). */
export function mutatedBytes(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.record({ seed: fc.constantFrom(...seeds), edits: fc.array(editArbitrary, { minLength: 1, maxLength: 8 }) }).map(({ seed, edits }) => edits.reduce(applyEdit, seed));
}

/** Arbitrary bytes, or mutations of the seeds (most runs): what a damaged or hostile file looks like. */
export function hostileBytes(seeds: readonly Uint8Array[], maxLength = 4096): fc.Arbitrary<Uint8Array> {
  return fc.oneof({ arbitrary: fc.uint8Array({ maxLength }), weight: 1 }, { arbitrary: mutatedBytes(seeds), weight: 4 });
}

/** Text the same way: arbitrary strings, and byte-level mutations of sample texts read back as UTF-8. */
export function hostileText(seeds: readonly string[], maxLength = 4096): fc.Arbitrary<string> {
  const encoded = seeds.map((s) => new TextEncoder().encode(s));
  return fc.oneof({ arbitrary: fc.string({ maxLength, unit: 'binary' }), weight: 1 }, { arbitrary: mutatedBytes(encoded).map((b) => new TextDecoder().decode(b)), weight: 4 });
}

/** A JSON value with one place (found by a path of choices) replaced by any JSON value. */
export function mutatedJson(seeds: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc
    .record({ seed: fc.constantFrom(...seeds), path: fc.array(fc.nat(), { maxLength: 6 }), value: fc.jsonValue({ maxDepth: 3 }), drop: fc.boolean() })
    .map(({ seed, path, value, drop }) => replaceAt(structuredClone(seed), path, value, drop));
}

function replaceAt(root: unknown, path: readonly number[], value: unknown, drop: boolean): unknown {
  if (path.length === 0 || typeof root !== 'object' || root === null) return value;
  const container = root as Record<string, unknown>;
  const keys = Object.keys(container);
  if (keys.length === 0) return value;
  const key = keys[path[0]! % keys.length]!;
  if (path.length === 1) {
    if (drop && !Array.isArray(container)) delete container[key];
    else container[key] = value;
  } else container[key] = replaceAt(container[key], path.slice(1), value, drop);
  return root;
}

// ---------------------------------------------------------------------------------------------
// Storing inputs

/** Inputs as JSON: bytes as base64, and the numbers and undefined that JSON cannot hold, tagged. */
export function encodeInput(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (value === undefined) return { $undefined: true };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  if (typeof value === 'number' && Object.is(value, -0)) return { $number: '-0' };
  if (Array.isArray(value)) return value.map(encodeInput);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeInput(v)]));
  return value;
}

export function decodeInput(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeInput);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  if (typeof record.$bytes === 'string') return new Uint8Array(Buffer.from(record.$bytes, 'base64'));
  if (record.$undefined === true) return undefined;
  if (typeof record.$number === 'string') return Number(record.$number);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, decodeInput(v)]));
}

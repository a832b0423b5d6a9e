/**
 * The one options schema for a still swap. The CLI, and later the HTTP API and web UI, read their
 * choices and defaults from here and validate through `resolveSwapOptions`.
 */

import { invalidOption } from '../core/errors.js';

export const ENGINES = ['auto', 'mesh', 'inswapper'] as const;
export type EngineChoice = (typeof ENGINES)[number];

/** Where the models run (onnxruntime execution providers); only `cpu` is available everywhere. */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'coreml', 'dml'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export interface SwapOptions {
  /** Which engine swaps; `auto` picks inswapper when its models are installed and verified, else mesh. */
  engine: EngineChoice;
  /** Swap every face in the target instead of one. */
  manyFaces: boolean;
  /** Swap only this target face (index in the report's `targetFaces`, ordered by size, largest first). */
  faceIndex: number | undefined;
  /** Use this face of the source photo (same ordering); default the largest. */
  sourceFace: number | undefined;
  /** Keep the target's own mouth interior; `undefined` means the engine's default (on for mesh). */
  mouthMask: boolean | undefined;
  /** 0..1: how much of the swapped face shows over the target. */
  opacity: number;
  /** 0..5: unsharp-mask strength applied to the swapped face. */
  sharpness: number;
  /** Match the swapped face's colour and lighting to the target's; `undefined`: the engine's default (on for mesh, off for inswapper). */
  colorMatch: boolean | undefined;
  /**
   * 0..1: how much of the source's face shape (eyes, brows, nose, mouth, cheeks, chin) the mesh
   * engine paints, 0 keeping the target's; `undefined`: the engine's default (1).
   */
  faceShape: number | undefined;
  /**
   * 0..1: how much of the source's jaw and cheek outline the mesh engine gives the face, warping
   * the surroundings with it (hair and collars near the jaw bend); `undefined`: the default (0).
   */
  faceOutline: number | undefined;
  /** Refuse images with more pixels than this. */
  maxPixels: number;
}

export const DEFAULT_SWAP_OPTIONS: Readonly<SwapOptions> = {
  engine: 'auto',
  manyFaces: false,
  faceIndex: undefined,
  sourceFace: undefined,
  mouthMask: undefined,
  opacity: 1,
  sharpness: 0,
  colorMatch: undefined,
  faceShape: undefined,
  faceOutline: undefined,
  maxPixels: 50_000_000,
};

function checkRange(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidOption(name, `a number between ${min} and ${max}`, value);
  }
  return value;
}

function checkIndex(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalidOption(name, 'a whole number ≥ 0', value);
  }
  return value;
}

/** Fill defaults and validate; throws a `usage` LiveswapError naming the bad option. */
export function resolveSwapOptions(partial: Partial<SwapOptions> = {}): SwapOptions {
  const o: SwapOptions = { ...DEFAULT_SWAP_OPTIONS, ...stripUndefined(partial) };
  if (!(ENGINES as readonly string[]).includes(o.engine)) throw invalidOption('engine', `one of ${ENGINES.join(', ')}`, o.engine);
  checkRange('opacity', o.opacity, 0, 1);
  checkRange('sharpness', o.sharpness, 0, 5);
  if (o.faceShape !== undefined) checkRange('faceShape', o.faceShape, 0, 1);
  if (o.faceOutline !== undefined) checkRange('faceOutline', o.faceOutline, 0, 1);
  checkRange('maxPixels', o.maxPixels, 1, Number.MAX_SAFE_INTEGER);
  o.faceIndex = checkIndex('faceIndex', o.faceIndex);
  o.sourceFace = checkIndex('sourceFace', o.sourceFace);
  if (o.faceIndex !== undefined && o.manyFaces) throw invalidOption('faceIndex', 'no face index together with manyFaces', o.faceIndex);
  return o;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

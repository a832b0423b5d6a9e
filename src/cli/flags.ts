/**
 * Turns command-line strings into validated swap options. Numbers are parsed here; ranges and
 * combinations are checked by `resolveSwapOptions`, with its messages given the flags' names.
 */

import { invalidOption, LiveswapError } from '../core/errors.js';
import type { ProvenanceChoices } from '../node/provenance/output-provenance.js';
import { resolveSwapOptions, type EngineChoice, type ExecutionProvider, type SwapOptions } from '../pipeline/options.js';

/** The flag that sets each option, for messages the user can act on. */
const FLAG_OF: Readonly<Record<keyof SwapOptions, string>> = {
  engine: '--engine',
  manyFaces: '--many-faces',
  faceIndex: '--face-index',
  sourceFace: '--source-face',
  mouthMask: '--mouth-mask',
  opacity: '--opacity',
  sharpness: '--sharpness',
  colorMatch: '--color-match',
  faceShape: '--face-shape',
  faceOutline: '--face-outline',
  maxPixels: '--max-pixels',
};

/** What commander hands the swap action: strings for values, booleans for switches. */
export interface SwapFlags {
  /** One photo, or several photos of the same person (`-s a.jpg -s b.jpg`). */
  source: string | string[];
  target: string;
  output: string;
  engine?: EngineChoice;
  manyFaces?: boolean;
  faceIndex?: string;
  sourceFace?: string;
  mouthMask?: boolean;
  opacity?: string;
  sharpness?: string;
  colorMatch?: boolean;
  faceShape?: string;
  faceOutline?: string;
  maxPixels?: string;
  json?: boolean;
  quiet?: boolean;
  executionProvider?: ExecutionProvider;
  executionThreads?: string;
  // Video targets only.
  fps?: string;
  /** false with --no-audio. */
  audio?: boolean;
  videoEncoder?: string;
  videoQuality?: string;
  videoPreset?: string;
  trimStart?: string;
  trimEnd?: string;
  detectEvery?: string;
  /** false with --no-smoothing. */
  smoothing?: boolean;
  smoothingMinCutoff?: string;
  smoothingBeta?: string;
  maxMissed?: string;
  minFaceSize?: string;
  minSharpness?: string;
  /** false with --no-shot-change. */
  shotChange?: boolean;
  referenceFace?: string;
  similarFaceDistance?: string;
  mapFaces?: string;
  ffmpeg?: string;
  // Provenance.
  /** false with --no-label. */
  label?: boolean;
  labelText?: string;
  labelCorner?: string;
  watermarkKey?: string;
  signCert?: string;
  signKey?: string;
}

/** The provenance flags, checked: the signing certificate and key come together or not at all. */
export function provenanceChoicesFromFlags(flags: Pick<SwapFlags, 'label' | 'labelText' | 'labelCorner' | 'watermarkKey' | 'signCert' | 'signKey'>): ProvenanceChoices {
  if ((flags.signCert === undefined) !== (flags.signKey === undefined)) {
    throw new LiveswapError('usage', '--sign-cert and --sign-key go together: give the certificate chain and its private key.');
  }
  if (flags.label === false && flags.labelText !== undefined) throw new LiveswapError('usage', '--label-text sets the text of the label that --no-label leaves out; give one or the other.');
  return {
    label: flags.label !== false,
    ...(flags.labelText !== undefined ? { labelText: flags.labelText } : {}),
    ...(flags.labelCorner !== undefined ? { labelCorner: flags.labelCorner } : {}),
    ...(flags.watermarkKey !== undefined ? { watermarkKey: flags.watermarkKey } : {}),
    ...(flags.signCert !== undefined && flags.signKey !== undefined ? { signer: { certificate: flags.signCert, privateKey: flags.signKey } } : {}),
  };
}

export function parseNumber(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value)) throw invalidOption(flag, 'a number', raw);
  return value;
}

export function parseWholeNumber(flag: string, raw: string | undefined): number | undefined {
  const value = parseNumber(flag, raw);
  if (value !== undefined && (!Number.isInteger(value) || value < 0)) throw invalidOption(flag, 'a whole number ≥ 0', raw);
  return value;
}

const PIXEL_SUFFIX: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

/** A pixel count: "50000000", "50e6", "50M", "2.5m" or "800k". */
export function parsePixelCount(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmg]?)\s*$/i.exec(raw);
  const multiplier = match ? PIXEL_SUFFIX[(match[2] ?? '').toLowerCase()] : undefined;
  const value = match && multiplier !== undefined ? Math.round(Number(match[1]) * multiplier * 1e6) / 1e6 : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw invalidOption(flag, 'a whole number of pixels ≥ 1 (forms like 50000000, 50e6 or 50M)', raw);
  }
  return value;
}

/** onnxruntime settings from the flags: provider (checked by the runtime) and intra-op threads. */
export function runtimeFromFlags(flags: SwapFlags): { provider: ExecutionProvider; threads: number } {
  const threads = parseWholeNumber('--execution-threads', flags.executionThreads);
  if (threads !== undefined && (threads < 1 || threads > 256)) throw invalidOption('--execution-threads', 'a whole number from 1 to 256', flags.executionThreads);
  return { provider: flags.executionProvider ?? 'cpu', threads: threads ?? 1 };
}

/** The source photos named on the command line, in order; at least one. */
export function sourceFiles(flags: SwapFlags): string[] {
  const files = ([] as string[]).concat(flags.source ?? []);
  if (files.length === 0 && flags.mapFaces !== undefined) return files;
  if (files.length > 0 && flags.mapFaces !== undefined) throw new LiveswapError('usage', '--map-faces names a source photo per person: leave out -s/--source.');
  if (files.length === 0) throw new LiveswapError('usage', "required option '-s, --source <file>' not specified");
  return files;
}

/** Builds the swap options from the flags; every problem is a `usage` error naming the flag. */
export function swapOptionsFromFlags(flags: SwapFlags): SwapOptions {
  const faceIndex = parseWholeNumber('--face-index', flags.faceIndex);
  if (flags.manyFaces && faceIndex !== undefined) {
    throw new LiveswapError('usage', '--face-index and --many-faces cannot be used together: choose one face, or all of them.');
  }
  const partial: Partial<SwapOptions> = {
    engine: flags.engine,
    manyFaces: flags.manyFaces,
    faceIndex,
    sourceFace: parseWholeNumber('--source-face', flags.sourceFace),
    mouthMask: flags.mouthMask,
    opacity: parseNumber('--opacity', flags.opacity),
    sharpness: parseNumber('--sharpness', flags.sharpness),
    colorMatch: flags.colorMatch,
    faceShape: parseNumber('--face-shape', flags.faceShape),
    faceOutline: parseNumber('--face-outline', flags.faceOutline),
    maxPixels: parsePixelCount('--max-pixels', flags.maxPixels),
  };
  try {
    return resolveSwapOptions(partial);
  } catch (error) {
    throw withFlagNames(error);
  }
}

/** Rewrites "for opacity" in an option message as "for --opacity". */
function withFlagNames(error: unknown): unknown {
  if (!(error instanceof LiveswapError) || error.kind !== 'usage') return error;
  let message = error.message;
  for (const [key, flag] of Object.entries(FLAG_OF)) {
    message = message.replace(new RegExp(`\\bfor ${key}\\b`), `for ${flag}`);
  }
  return message === error.message ? error : new LiveswapError('usage', message, { cause: error });
}

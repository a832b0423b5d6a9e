/**
 * Turns command-line strings into validated options. Which flag sets which option, and how its
 * value is read, comes from the flag table (option-table.ts); ranges and combinations are checked by
 * the schema's resolvers (pipeline/options.ts), with their messages given the flags' names.
 */

import { invalidOption, LiveswapError } from '../core/errors.js';
import type { OneEuroParams } from '../core/one-euro.js';
import type { ProvenanceChoices } from '../node/provenance/output-provenance.js';
import {
  MODE_DEFAULTS,
  resolveMarkOptions,
  resolvePaintOptions,
  resolveTrackingOptions,
  VIDEO_DEFAULTS,
  type ExecutionProvider,
  type MarkOptions,
  type Mode,
  type PaintOptions,
  type TrackingOptions,
} from '../pipeline/options.js';
import { CLI_DEFAULTS, FLAG_TABLE, flagRows, flagsOf, type FlagRow, type FlagsOf, type OptionTarget } from './option-table.js';

/** What commander hands the swap action: strings for values, booleans for switches (see the flag table). */
export type SwapFlags = Omit<FlagsOf<'swap'>, 'source' | 'target' | 'output'> & {
  /** One photo, or several photos of the same person (`-s a.jpg -s b.jpg`); none with --map-faces. */
  source: string | string[];
  target: string;
  output: string;
};

/** The provenance flags, checked: the signing certificate and key come together or not at all. */
export function provenanceChoicesFromFlags(flags: Pick<SwapFlags, 'label' | 'labelText' | 'labelCorner' | 'watermarkKey' | 'signCert' | 'signKey'>): ProvenanceChoices {
  if ((flags.signCert === undefined) !== (flags.signKey === undefined)) {
    throw new LiveswapError('usage', '--sign-cert and --sign-key go together: give the certificate chain and its private key.');
  }
  if (flags.label === false && flags.labelText !== undefined)
    throw new LiveswapError('usage', '--label-text sets the text of the label that --no-label leaves out; give one or the other.');
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
  return { provider: flags.executionProvider ?? CLI_DEFAULTS.executionProvider, threads: threads ?? CLI_DEFAULTS.executionThreads };
}

/** The source photos named on the command line, in order; at least one. */
export function sourceFiles(flags: SwapFlags): string[] {
  const files = ([] as string[]).concat(flags.source ?? []);
  if (files.length === 0 && flags.mapFaces !== undefined) return files;
  if (files.length > 0 && flags.mapFaces !== undefined) throw new LiveswapError('usage', '--map-faces names a source photo per person: leave out -s/--source.');
  if (files.length === 0) throw new LiveswapError('usage', "required option '-s, --source <file>' not specified");
  return files;
}

/** A lone `--no-x` switch is given when it is false; any other flag when it has a value. */
export function flagGiven(row: FlagRow, value: unknown): boolean {
  return row.parse === 'switch' && row.flag.startsWith('--no-') ? value === false : value !== undefined;
}

/** A flag's value as its row says to read it; the flag is named in every complaint. */
function readValue(row: FlagRow, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  if (row.parse === 'number') return parseNumber(row.flag, raw);
  if (row.parse === 'whole') return parseWholeNumber(row.flag, raw);
  if (row.parse === 'pixels') return parsePixelCount(row.flag, raw);
  return raw;
}

/**
 * The options of one group that flags set one to one. Left to the caller: lone `--no-x` switches
 * (they turn off something that is not a boolean), text read by its own rules, parts of one option.
 */
function plainOptions(group: OptionTarget['group'], flags: object): Record<string, unknown> {
  const values = flags as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const row of FLAG_TABLE as readonly FlagRow[]) {
    const target = row.sets;
    if (!target || target.group !== group || ('field' in target && target.field) || row.parse === 'text') continue;
    if (row.parse === 'switch' && row.flag.startsWith('--no-')) continue;
    out[target.key] = readValue(row, values[row.key]);
  }
  return out;
}

/** Builds the paint options from the flags; every problem is a `usage` error naming the flag. */
export function swapOptionsFromFlags(flags: SwapFlags): PaintOptions {
  const partial = plainOptions('paint', flags) as Partial<PaintOptions>;
  if (flags.manyFaces && partial.faceIndex !== undefined) {
    throw new LiveswapError('usage', '--face-index and --many-faces cannot be used together: choose one face, or all of them.');
  }
  try {
    return resolvePaintOptions(partial);
  } catch (error) {
    throw withFlagNames(error, 'paint');
  }
}

/** The smoothing flags as One Euro parameters, or false for --no-smoothing. */
export function smoothingFromFlags(flags: SwapFlags): OneEuroParams | false {
  if (flags.smoothing === false) {
    if (flags.smoothingMinCutoff !== undefined || flags.smoothingBeta !== undefined)
      throw new LiveswapError('usage', '--no-smoothing cannot be combined with --smoothing-min-cutoff or --smoothing-beta.');
    return false;
  }
  const base = VIDEO_DEFAULTS.tracking.smoothing;
  const minCutoff = parseNumber('--smoothing-min-cutoff', flags.smoothingMinCutoff) ?? base.minCutoff;
  const beta = parseNumber('--smoothing-beta', flags.smoothingBeta) ?? base.beta;
  if (!(minCutoff > 0 && minCutoff <= 100)) throw invalidOption('--smoothing-min-cutoff', 'a frequency in Hz, > 0 and ≤ 100', flags.smoothingMinCutoff);
  if (!(beta >= 0 && beta <= 1000)) throw invalidOption('--smoothing-beta', 'a number from 0 to 1000', flags.smoothingBeta);
  return { ...base, minCutoff, beta };
}

/** Builds a video's tracking options from the flags (a video's defaults for the rest). */
export function trackingOptionsFromFlags(flags: SwapFlags): TrackingOptions {
  let detectEvery: number | 'auto' | undefined;
  if (flags.detectEvery !== undefined && flags.detectEvery !== 'auto') {
    const n = parseWholeNumber('--detect-every', flags.detectEvery);
    if (n === undefined || n < 1) throw invalidOption('--detect-every', "'auto' or a whole number ≥ 1", flags.detectEvery);
    detectEvery = n;
  }
  const partial: Partial<TrackingOptions> = {
    ...(plainOptions('tracking', flags) as Partial<TrackingOptions>),
    detectEvery,
    smoothing: smoothingFromFlags(flags),
    ...(flags.shotChange === false ? { shotChange: false } : {}),
  };
  try {
    return resolveTrackingOptions(partial, VIDEO_DEFAULTS.tracking);
  } catch (error) {
    throw withFlagNames(error, 'tracking');
  }
}

/** Builds the mark options from the flags, on the defaults of `mode`. */
export function markOptionsFromFlags(flags: Pick<SwapFlags, 'label' | 'labelText' | 'labelCorner'>, mode: Mode = 'still'): MarkOptions {
  if (flags.label === false && flags.labelText !== undefined)
    throw new LiveswapError('usage', '--label-text sets the text of the label that --no-label leaves out; give one or the other.');
  const partial: Partial<MarkOptions> = { ...(plainOptions('marks', flags) as Partial<MarkOptions>), label: flags.label !== false, labelText: flags.labelText };
  try {
    return resolveMarkOptions(partial, MODE_DEFAULTS[mode].marks);
  } catch (error) {
    // The label text's own checks speak of "the label text"; say which flag gave it, as `ui` does.
    if (error instanceof LiveswapError && flags.labelText !== undefined && /label text/.test(error.message)) {
      throw new LiveswapError('usage', `--label-text: ${error.message}`, { cause: error });
    }
    throw withFlagNames(error, 'marks');
  }
}

/** The flags of `command` that are set: for messages such as "… apply to video targets only". */
export function givenFlags(command: Parameters<typeof flagRows>[0], flags: object, keep: (row: FlagRow) => boolean = () => true): FlagRow[] {
  const values = flags as Record<string, unknown>;
  return flagRows(command).filter((row) => keep(row) && flagGiven(row, values[row.key]));
}

/** Rewrites "for opacity" in an option message as "for --opacity". */
function withFlagNames(error: unknown, group: OptionTarget['group']): unknown {
  if (!(error instanceof LiveswapError) || error.kind !== 'usage') return error;
  let message = error.message;
  for (const [key, flag] of Object.entries(flagsOf(group))) {
    message = message.replace(new RegExp(`\\bfor ${key}\\b`), `for ${flag}`);
  }
  return message === error.message ? error : new LiveswapError('usage', message, { cause: error });
}

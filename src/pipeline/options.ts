/**
 * The one options schema: every list of allowed values as an `as const` tuple, the three option
 * groups (paint, tracking, marks) and their defaults for each mode (still, video, live) side by
 * side. The CLI's flag table, the server's checks and the live app's menus read from here; each
 * group is checked by one function (`resolvePaintOptions`, `resolveTrackingOptions`,
 * `resolveMarkOptions`) with stable messages.
 */

import { invalidOption } from '../core/errors.js';
import { DEFAULT_ONE_EURO, validateOneEuro, type OneEuroParams } from '../core/one-euro.js';
import { OCCLUDER_IDS } from '../compose/region-mask.js';
import { FACE_REGIONS, type FaceRegion } from '../face/face-regions.js';
import { FACEFUSION_ENHANCER_IDS, FACEFUSION_SWAPPER_IDS } from '../models/model-spec-facefusion.js';
import { MIN_FACE_SHARPNESS } from '../face/quality.js';
import { PIXEL_BOOST_SIZES } from '../swap/pixel-boost.js';
import { checkLabelText, DEFAULT_LABEL_OPTIONS, DEFAULT_LABEL_TEXT, LABEL_CORNERS, type LabelCorner } from '../provenance/label.js';
import { DEFAULT_SHOT_CHANGE_OPTIONS, validateShotChangeOptions, type ShotChangeOptions } from './shot-change.js';

export { LABEL_CORNERS, type LabelCorner };

/**
 * The engines that swap: `mesh` (built in, nothing to download), `inswapper` (inswapper_128 or its
 * fp16 file) and FaceFusion's swappers by row id (models pulled by the user).
 */
export const ENGINE_NAMES = ['mesh', 'inswapper', ...FACEFUSION_SWAPPER_IDS] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** What a user may ask for: an engine, or `auto` (inswapper when its models are installed and verified, else mesh). */
export const ENGINE_CHOICES = ['auto', ...ENGINE_NAMES] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];
/** @deprecated the same list as {@link ENGINE_CHOICES}. */
export const ENGINES = ENGINE_CHOICES;

/** Where the models run (onnxruntime execution providers); only `cpu` is available everywhere. */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'coreml', 'dml'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

/** Where partial swaps find the regions: FaceMesh's points (nothing to download) or a BiSeNet face parser. */
export const FACE_PARSERS = ['landmarks', 'bisenet_resnet_18', 'bisenet_resnet_34'] as const;
export type FaceParserChoice = (typeof FACE_PARSERS)[number];

/** XSeg occlusion models; `all` combines the three by their minimum. */
export const OCCLUSION_MASKS = [...OCCLUDER_IDS, 'all'] as const;
export type OcclusionMaskChoice = (typeof OCCLUSION_MASKS)[number];

export { FACE_REGIONS, type FaceRegion };

/** Face enhancers (`faceEnhancer`), run on each swapped face after the swap. */
export const FACE_ENHANCERS = FACEFUSION_ENHANCER_IDS;
export type FaceEnhancerChoice = (typeof FACE_ENHANCERS)[number];

/** Pixel-boost crop sides; each swapper takes the whole multiples of its own size (pixel-boost.ts). */
export const PIXEL_BOOSTS = PIXEL_BOOST_SIZES;

/** The modes whose defaults differ: one picture, a video file, a camera stream. */
export const MODES = ['still', 'video', 'live'] as const;
export type Mode = (typeof MODES)[number];

/** How a face is painted: which engine, which faces, and the look of the result. */
export interface PaintOptions {
  /** Which engine swaps; `auto` picks inswapper when its models are installed and verified, else mesh. */
  engine: EngineChoice;
  /** Swap every face in the target instead of one. */
  manyFaces: boolean;
  /** Swap only this target face (index in the report's `targetFaces`, ordered by size, largest first). */
  faceIndex: number | undefined;
  /** Use this face of the source photo (same ordering); default the largest. */
  sourceFace: number | undefined;
  /** Keep the target's own mouth interior; `undefined` means the engine's default (on for mesh, off for inswapper). */
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
  /** Swap only these face regions (FaceFusion's names); undefined: the whole face. */
  maskRegions: FaceRegion[] | undefined;
  /** Keep the target's own look in these regions; undefined: none kept. */
  keepRegions: FaceRegion[] | undefined;
  /** Where the regions come from; undefined: bisenet_resnet_34, else _18, when installed (not for mesh), else the landmarks. */
  faceParser: FaceParserChoice | undefined;
  /** 0..1: inside the masks, how far the target goes towards the swapped face (0 the target, 1 the full swap). */
  maskStrength: number;
  /** FaceFusion's box mask padding in percent of the crop, top, right, bottom, left; undefined: no box mask unless `maskBlur`. */
  maskPadding: number[] | undefined;
  /** 0..1: FaceFusion's box mask blur (face_mask_blur, 0.3 there); undefined: no box mask unless `maskPadding`. */
  maskBlur: number | undefined;
  /** XSeg occlusion mask: what covers the face (hands, microphones) stays; undefined: none. */
  occlusionMask: OcclusionMaskChoice | undefined;
  /** Run this enhancer on each swapped face after the swap (FaceFusion's models); undefined: none. */
  faceEnhancer: FaceEnhancerChoice | undefined;
  /** 0..100: how much of the enhanced face shows over the swapped one (FaceFusion's default 80). */
  faceEnhancerBlend: number;
  /** 0..1: CodeFormer's fidelity weight (ignored by the other enhancers; FaceFusion's default 0.5). */
  faceEnhancerWeight: number;
  /** Crop side for the neural swappers, a whole multiple of the model's (spec §7.2); undefined: the model's own. */
  pixelBoost: number | undefined;
  /** 0..1: FaceFusion's identity weight for the swappers that take an embedding; 0.5 leaves the source as it is. */
  swapperWeight: number;
  /** Refuse images with more pixels than this. */
  maxPixels: number;
}

/** How faces are followed from frame to frame (video and live; a still is one frame). */
export interface TrackingOptions {
  /** Run the detector every N frames and track in between; 'auto': every 5 frames when tracking is possible, else every frame. */
  detectEvery: number | 'auto';
  /** Smoothing of landmarks and alignment (One Euro), or false. */
  smoothing: OneEuroParams | false;
  /** Frames a lost face keeps its track (and its identity). */
  maxMissed: number;
  /** Faces smaller than this (max of box width/height, px) are left alone. */
  minFaceSize: number;
  /** Faces blurrier than this (`faceSharpness`) are left alone; 0 swaps every face. */
  minSharpness: number;
  /**
   * A face the tracker loses between detections is still painted, where it last was, for up to this
   * many frames (no flicker) — but never on a frame the detector ran on: a detection frame paints
   * only the faces found on it. A lost face makes the next frame a detection frame, so a hold lasts
   * one frame, and with a detection on every frame there is none.
   */
  holdFrames: number;
  /**
   * Cuts found with `ShotChangeDetector` (these thresholds), or false to look for none. At a cut
   * every track, its smoothing and its identity are dropped and the frame is detected afresh, so
   * no face of the last shot is painted on the new one.
   */
  shotChange: ShotChangeOptions | false;
}

/** The marks every output frame carries: a visible label and an invisible watermark. */
export interface MarkOptions {
  /** Draw the visible label; off only by the user's explicit choice (recorded in credentials and the audit log). */
  label: boolean;
  /** The label's text: 1–40 printable ASCII characters. */
  labelText: string;
  /** The corner the label goes in. */
  labelCorner: LabelCorner;
  /** Embed the invisible watermark (its key comes from the platform: a file on Node, the server in the browser). */
  watermark: boolean;
}

/** One mode's defaults, one group each. */
export interface ModeDefaults {
  paint: PaintOptions;
  tracking: TrackingOptions;
  marks: MarkOptions;
}

const MARKED: Readonly<MarkOptions> = Object.freeze({ label: true, labelText: DEFAULT_LABEL_TEXT, labelCorner: DEFAULT_LABEL_OPTIONS.corner, watermark: true });

/**
 * Defaults per mode, side by side. Where a mode differs it says why. (The watermark's strength is
 * also per mode, but not an option: `FrameMarker` makes a still's stronger, as it has one frame.)
 */
export const STILL_DEFAULTS = deepFreeze({
  paint: {
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
    maskRegions: undefined,
    keepRegions: undefined,
    faceParser: undefined,
    maskStrength: 1,
    maskPadding: undefined,
    maskBlur: undefined,
    occlusionMask: undefined,
    faceEnhancer: undefined,
    faceEnhancerBlend: 80,
    faceEnhancerWeight: 0.5,
    pixelBoost: undefined,
    swapperWeight: 0.5,
    maxPixels: 50_000_000,
  },
  // A still is one frame: detected once, nothing followed or smoothed, every face found may be painted.
  tracking: { detectEvery: 1, smoothing: false, maxMissed: 0, minFaceSize: 0, minSharpness: 0, holdFrames: 0, shotChange: false },
  marks: MARKED,
} satisfies ModeDefaults);

export const VIDEO_DEFAULTS = deepFreeze({
  // The same paint as a still: a video's frames should look like the still would.
  paint: { ...STILL_DEFAULTS.paint },
  tracking: {
    detectEvery: 'auto',
    smoothing: DEFAULT_ONE_EURO,
    maxMissed: 5,
    minFaceSize: 24,
    // Motion blur makes a bad swap; a blurred face is left as it is.
    minSharpness: MIN_FACE_SHARPNESS,
    holdFrames: 2,
    shotChange: DEFAULT_SHOT_CHANGE_OPTIONS,
  },
  marks: MARKED,
} satisfies ModeDefaults);

export const LIVE_DEFAULTS = deepFreeze({
  paint: {
    ...STILL_DEFAULTS.paint,
    // The page offers the engines the server has; mesh needs no download, so it is where a visit starts.
    engine: 'mesh',
    // The live app has on/off switches, not "the engine's choice": both start on, for inswapper too.
    mouthMask: true,
    colorMatch: true,
  },
  tracking: {
    ...VIDEO_DEFAULTS.tracking,
    // A webcam picture is small and often soft: every face worth tracking is swapped.
    minSharpness: 0,
  },
  marks: MARKED,
} satisfies ModeDefaults);

export const MODE_DEFAULTS: Readonly<Record<Mode, Readonly<ModeDefaults>>> = { still: STILL_DEFAULTS, video: VIDEO_DEFAULTS, live: LIVE_DEFAULTS };

/** @deprecated the same type as {@link PaintOptions}. */
export type SwapOptions = PaintOptions;
/** @deprecated the same object as `STILL_DEFAULTS.paint`. */
export const DEFAULT_SWAP_OPTIONS: Readonly<PaintOptions> = STILL_DEFAULTS.paint;

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

function checkOneOf<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (!(choices as readonly unknown[]).includes(value)) throw invalidOption(name, `one of ${choices.join(', ')}`, value);
  return value as T;
}

function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidOption(name, 'true or false', value);
  return value;
}

/** Fill defaults (a still's, unless given) and validate; throws a `usage` LiveswapError naming the bad option. */
export function resolvePaintOptions(partial: Partial<PaintOptions> = {}, defaults: Readonly<PaintOptions> = STILL_DEFAULTS.paint): PaintOptions {
  const o: PaintOptions = { ...defaults, ...stripUndefined(partial) };
  checkOneOf('engine', o.engine, ENGINE_CHOICES);
  checkRange('opacity', o.opacity, 0, 1);
  checkRange('sharpness', o.sharpness, 0, 5);
  if (o.faceShape !== undefined) checkRange('faceShape', o.faceShape, 0, 1);
  if (o.faceOutline !== undefined) checkRange('faceOutline', o.faceOutline, 0, 1);
  checkRange('maxPixels', o.maxPixels, 1, Number.MAX_SAFE_INTEGER);
  resolveMaskOptions(o);
  resolveModelOptions(o);
  o.faceIndex = checkIndex('faceIndex', o.faceIndex);
  o.sourceFace = checkIndex('sourceFace', o.sourceFace);
  if (o.faceIndex !== undefined && o.manyFaces) throw invalidOption('faceIndex', 'no face index together with manyFaces', o.faceIndex);
  return o;
}

/** Entries of a list option given as an array or as comma-separated text (several flags, or one with commas). */
function listEntries(value: unknown): unknown[] {
  const items: unknown[] = Array.isArray(value) ? (value as unknown[]) : [value];
  return items.flatMap((v): unknown[] =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
      : [v],
  );
}

function checkRegions(name: string, value: unknown): FaceRegion[] | undefined {
  if (value === undefined) return undefined;
  const entries = listEntries(value);
  for (const r of entries) if (!(FACE_REGIONS as readonly unknown[]).includes(r)) throw invalidOption(name, `face regions among ${FACE_REGIONS.join(', ')}`, r);
  if (entries.length === 0) throw invalidOption(name, `one or more of ${FACE_REGIONS.join(', ')}`, value);
  return [...new Set(entries as FaceRegion[])];
}

/** A padding as 1, 2 or 4 percentages (all sides; vertical, horizontal; top, right, bottom, left), FaceFusion's way. */
function checkPadding(value: unknown): number[] | undefined {
  if (value === undefined) return undefined;
  const numbers = listEntries(value)
    .flatMap((v) => (typeof v === 'string' ? v.split(/\s+/).filter((s) => s.length > 0) : [v]))
    .map((v) => (typeof v === 'string' ? Number(v) : v));
  const ok = [1, 2, 4].includes(numbers.length) && numbers.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 100);
  if (!ok) throw invalidOption('maskPadding', '1, 2 or 4 percentages from 0 to 100 (top, right, bottom, left)', value);
  const [a, b = a, c = a, d = b] = numbers as number[];
  return numbers.length === 2 ? [a, b, a, b] : [a, b, c, d];
}

/** The mask options of {@link PaintOptions}, checked and normalised in place. */
function resolveMaskOptions(o: PaintOptions): void {
  o.maskRegions = checkRegions('maskRegions', o.maskRegions);
  o.keepRegions = checkRegions('keepRegions', o.keepRegions);
  if (o.faceParser !== undefined) checkOneOf('faceParser', o.faceParser, FACE_PARSERS);
  if (o.occlusionMask !== undefined) checkOneOf('occlusionMask', o.occlusionMask, OCCLUSION_MASKS);
  checkRange('maskStrength', o.maskStrength, 0, 1);
  o.maskPadding = checkPadding(o.maskPadding);
  if (o.maskBlur !== undefined) checkRange('maskBlur', o.maskBlur, 0, 1);
}

/** The enhancer, pixel-boost and identity-weight options, checked (whether a boost fits the swapper is the engine's to say). */
function resolveModelOptions(o: PaintOptions): void {
  if (o.faceEnhancer !== undefined) checkOneOf('faceEnhancer', o.faceEnhancer, FACE_ENHANCERS);
  checkRange('faceEnhancerBlend', o.faceEnhancerBlend, 0, 100);
  checkRange('faceEnhancerWeight', o.faceEnhancerWeight, 0, 1);
  if (o.pixelBoost !== undefined && !(PIXEL_BOOSTS as readonly unknown[]).includes(o.pixelBoost))
    throw invalidOption('pixelBoost', `one of ${PIXEL_BOOSTS.join(', ')}`, o.pixelBoost);
  checkRange('swapperWeight', o.swapperWeight, 0, 1);
}

/** @deprecated the same function as {@link resolvePaintOptions}. */
export function resolveSwapOptions(partial: Partial<PaintOptions> = {}): PaintOptions {
  return resolvePaintOptions(partial);
}

/** Fill defaults (a video's, unless given) and validate; throws a `usage` LiveswapError naming the bad option. */
export function resolveTrackingOptions(partial: Partial<TrackingOptions> = {}, defaults: Readonly<TrackingOptions> = VIDEO_DEFAULTS.tracking): TrackingOptions {
  const o: TrackingOptions = { ...defaults, ...stripUndefined(partial) };
  const { detectEvery, maxMissed, minFaceSize, minSharpness, holdFrames } = o;
  if (detectEvery !== 'auto' && !(Number.isInteger(detectEvery) && detectEvery >= 1)) throw invalidOption('detectEvery', "'auto' or a whole number ≥ 1", detectEvery);
  // The tracker's own words, so a bad value reads the same from either door.
  if (!Number.isInteger(maxMissed) || maxMissed < 0) throw invalidOption('maxMissed', 'an integer >= 0', maxMissed);
  if (typeof minFaceSize !== 'number' || !Number.isFinite(minFaceSize) || minFaceSize < 0) throw invalidOption('minFaceSize', 'a finite number >= 0 (px)', minFaceSize);
  if (!(Number.isFinite(minSharpness) && minSharpness >= 0)) throw invalidOption('minSharpness', 'a number ≥ 0', minSharpness);
  if (!(Number.isInteger(holdFrames) && holdFrames >= 0)) throw invalidOption('holdFrames', 'a whole number ≥ 0', holdFrames);
  if (o.smoothing !== false) validateOneEuro(o.smoothing);
  if (o.shotChange !== false) validateShotChangeOptions(o.shotChange);
  return o;
}

/** Fill defaults (the same in every mode) and validate; the label text comes back trimmed. */
export function resolveMarkOptions(partial: Partial<MarkOptions> = {}, defaults: Readonly<MarkOptions> = STILL_DEFAULTS.marks): MarkOptions {
  const o: MarkOptions = { ...defaults, ...stripUndefined(partial) };
  checkBoolean('label', o.label);
  checkBoolean('watermark', o.watermark);
  o.labelCorner = checkOneOf('labelCorner', o.labelCorner, LABEL_CORNERS);
  o.labelText = checkLabelText(o.labelText);
  return o;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Freezes the defaults all the way down: a caller that spreads them gets a copy, none edits them. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

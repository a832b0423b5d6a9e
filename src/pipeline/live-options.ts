/**
 * The live app's options and the server's description of itself: one schema for the page, the
 * worker and the server (`liveswap ui`). Platform-free.
 */

import { MODEL_SPECS, type ModelSpec } from '../models/model-spec.js';
import { pixelBoostsFitting } from '../swap/pixel-boost.js';
import { DEFAULT_IDENTITY_THRESHOLD } from './face-map.js';
import {
  ENGINE_NAMES as ALL_ENGINE_NAMES,
  FACE_ENHANCERS,
  FACE_PARSERS,
  LIVE_DEFAULTS,
  OCCLUSION_MASKS,
  PIXEL_BOOSTS,
  type FaceEnhancerChoice,
  type FaceParserChoice,
  type FaceRegion,
  type OcclusionMaskChoice,
} from './options.js';

// The page and the worker read the engine list through this module (and protocol.ts).
/**
 * The engines the live page runs: mesh, inswapper and FaceFusion's swappers by row id (the same
 * list as options.ts; the page offers those whose files the server has installed).
 */
export const ENGINE_NAMES = ALL_ENGINE_NAMES;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** Where the browser runs the models: WebGPU when the browser has an adapter, else wasm. */
export const BACKENDS = ['webgpu', 'wasm'] as const;
export type Backend = (typeof BACKENDS)[number];

/** @deprecated the same list as `ENGINE_NAMES`: the page runs a named engine, never 'auto'. */
export const LIVE_ENGINES = ENGINE_NAMES;
/** @deprecated the same type as `EngineName`. */
export type LiveEngineName = EngineName;

/** Camera sizes offered (width × height). */
export const CAMERA_SIZES = ['640x360', '1280x720', '1920x1080'] as const;
export type CameraSize = (typeof CAMERA_SIZES)[number];

/**
 * One optional model the page may offer (a FaceFusion swapper, a face enhancer, an XSeg occluder,
 * a BiSeNet parser): installed and verified on the server, or the command that installs it.
 */
export interface ModelChoice {
  /** The row id (for a swapper, the engine's name). */
  id: string;
  /** Whether every file it needs is installed and verified (the files are then in `ServerInfo.models.files`). */
  installed: boolean;
  /** When not installed: the command that installs it (`liveswap models pull --for …`). */
  pull?: string;
  /** When not installed: the row ids missing. */
  missing?: string[];
  /** When installed: the bytes the browser downloads on first use (all its files). */
  bytes?: number;
}

/** The optional models, by what they are for, in table order. */
export interface ModelChoices {
  swappers: ModelChoice[];
  enhancers: ModelChoice[];
  occluders: ModelChoice[];
  parsers: ModelChoice[];
}

/** The server's `/api/info`: which engines it can serve models for, and where they are. */
export interface ServerInfo {
  version: string;
  /** The two engines every server knows; FaceFusion's swappers are in `choices`. */
  engines: { mesh: boolean; inswapper: boolean };
  /** Why inswapper is not offered, when it is not. */
  inswapperNotice?: string;
  models: {
    /** URLs of the converted built-in models (content-addressed: safe to cache forever). */
    blazeface: string;
    facemesh: string;
    faceres: string;
    /** The inswapper engine's files, when installed and verified (the worker reads the emap from the swapper file). */
    inswapper?: { detector: string; recogniser: string; swapper: string; landmarks?: string; bytes: number };
    /** URLs of the installed, verified files of `choices` (and what they need: det_10g, w600k_r50, converters), by row id. */
    files?: Partial<Record<string, string>>;
  };
  /** FaceFusion's swappers, enhancers, occluders and parsers: installed or how to install them (absent from an older server). */
  choices?: ModelChoices;
  /** Where onnxruntime-web's .wasm/.mjs files are served (a folder URL ending in '/'). */
  ortWasmPath: string;
  /** WebSocket paths of the output relay (for /output and OBS). */
  relay: { publish: string; watch: string };
  /** What the worker needs to mark every frame it shows (see the provenance routes). */
  provenance: {
    /** The user's watermark key, 64 hex digits (32 bytes). */
    watermarkKey: string;
    /** The label text the page starts with (`liveswap ui --label-text`). */
    labelText: string;
  };
}

/**
 * The live app's region choices (partial swaps drawn from FaceMesh's points, nothing downloaded,
 * or from a BiSeNet parser's labels: see `faceParser`): each a preset of `maskRegions` /
 * `keepRegions` (pipeline/options.ts).
 */
export const REGION_PRESETS = {
  'whole-face': {},
  nose: { maskRegions: ['nose'] },
  'eyes-and-brows': { maskRegions: ['left-eye', 'right-eye', 'left-eyebrow', 'right-eyebrow'] },
  skin: { maskRegions: ['skin'] },
  'keep-mouth': { keepRegions: ['mouth', 'upper-lip', 'lower-lip'] },
  'keep-eyes': { keepRegions: ['left-eye', 'right-eye', 'left-eyebrow', 'right-eyebrow'] },
} as const satisfies Record<string, { maskRegions?: readonly FaceRegion[]; keepRegions?: readonly FaceRegion[] }>;
export type RegionPreset = keyof typeof REGION_PRESETS;
export const REGION_PRESET_NAMES = Object.keys(REGION_PRESETS) as RegionPreset[];

/** The page's occlusion choices: none, or an XSeg model (`all`: the three combined). */
export const LIVE_OCCLUSION_MASKS = ['none', ...OCCLUSION_MASKS] as const;
export type LiveOcclusionMask = (typeof LIVE_OCCLUSION_MASKS)[number];

/** The page's face-parser choices: `auto` (BiSeNet when installed, for the neural engines), or one named. */
export const LIVE_FACE_PARSERS = ['auto', ...FACE_PARSERS] as const;
export type LiveFaceParser = (typeof LIVE_FACE_PARSERS)[number];

/** The page's enhancer choices: none, or an enhancer row. */
export const LIVE_FACE_ENHANCERS = ['none', ...FACE_ENHANCERS] as const;
export type LiveFaceEnhancer = (typeof LIVE_FACE_ENHANCERS)[number];

/** The page's pixel-boost choices: 0 is the model's own size. */
export const LIVE_PIXEL_BOOSTS = [0, ...PIXEL_BOOSTS] as const;

/** The crop side of an engine's swapper (inswapper 128, FaceFusion's rows their input size), or undefined for mesh. */
export function engineModelSize(engine: EngineName): number | undefined {
  if (engine === 'mesh') return undefined;
  const row: ModelSpec = MODEL_SPECS[engine === 'inswapper' ? 'inswapper_128' : engine];
  return row.input.size;
}

/** The pixel boosts an engine takes: whole multiples of its crop side above it (none for mesh). */
export function pixelBoostsFor(engine: EngineName): number[] {
  const size = engineModelSize(engine);
  return size === undefined ? [] : pixelBoostsFitting(size).filter((boost) => boost > size);
}

/** The boost a paint uses: the setting when the engine takes it, else none (the model's own size). */
export function effectivePixelBoost(engine: EngineName, setting: number): number | undefined {
  return pixelBoostsFor(engine).includes(setting) ? setting : undefined;
}

export { occluderIdsOf } from '../compose/region-mask.js';

export type { FaceEnhancerChoice, FaceParserChoice, OcclusionMaskChoice };

/** The processing settings the worker needs (a subset of what the page keeps). */
export interface ProcessSettings {
  manyFaces: boolean;
  mouthMask: boolean;
  /** 0..1 */
  opacity: number;
  /** 0..5 */
  sharpness: number;
  colorMatch: boolean;
  /** Which part of the face is swapped (a {@link REGION_PRESETS} name). */
  regions: RegionPreset;
  /** 0..1: inside the masks, 0 leaves the picture, 1 the full swap. */
  maskStrength: number;
  /** Where the regions come from: `auto` (BiSeNet when installed, not for mesh), the landmarks, or a BiSeNet model. */
  faceParser: LiveFaceParser;
  /** XSeg's occlusion mask (what covers the face stays), or none. */
  occlusionMask: LiveOcclusionMask;
  /** A face enhancer run on each swapped face, or none. */
  faceEnhancer: LiveFaceEnhancer;
  /** 0..100: how much of the enhanced face shows. */
  faceEnhancerBlend: number;
  /** 0..1: CodeFormer's fidelity weight (the other enhancers ignore it). */
  faceEnhancerWeight: number;
  /** The swapper's crop side, a whole multiple of its own (see {@link pixelBoostsFor}); 0: its own size. */
  pixelBoost: number;
  /** Run the detector every N frames (1..30) and track in between; 0 means the engine's default. */
  detectEvery: number;
  smoothing: boolean;
  /** Flip the input horizontally (a mirror view) before processing. */
  mirror: boolean;
  /** Similarity (0..1) a face needs to match a face of the multi-face map. */
  similarity: number;
  /** Draw the visible label on every frame; off only by the user's explicit choice (audited). */
  label: boolean;
  /** The label's text (checked with checkLabelText). */
  labelText: string;
  /**
   * Frames per second the adaptive quality controller holds (see pipeline/adaptive-quality.ts) by
   * looking for faces less often and lowering the working resolution; 'source': the target's own
   * rate (the camera's frame rate, a video's), {@link DEFAULT_TARGET_FPS} while it is not known;
   * 0 turns it off.
   */
  targetFps: number | 'source';
}

/** The rate held while the target's own is not known: the rate webcams and Chromium's fake camera deliver. */
export const DEFAULT_TARGET_FPS = 30;

/** The frame rate a `targetFps` setting holds, given the target's own rate when known (0: the controller is off). */
export function resolveTargetFps(targetFps: number | 'source', sourceFps: number | null): number {
  if (targetFps !== 'source') return targetFps;
  return sourceFps !== null && Number.isFinite(sourceFps) && sourceFps > 0 ? Math.min(120, sourceFps) : DEFAULT_TARGET_FPS;
}

/** Everything the page keeps in localStorage. */
export interface LiveSettings extends ProcessSettings {
  engine: LiveEngineName;
  backend: Backend;
  cameraId: string;
  cameraSize: CameraSize;
  showFps: boolean;
  showTimings: boolean;
}

/** A visit's first settings: the paint, tracking and marks of `LIVE_DEFAULTS`, and the page's own. */
export const DEFAULT_LIVE_SETTINGS: Readonly<LiveSettings> = Object.freeze({
  engine: LIVE_DEFAULTS.paint.engine,
  backend: 'wasm',
  cameraId: '',
  cameraSize: '640x360',
  showFps: true,
  showTimings: false,
  manyFaces: LIVE_DEFAULTS.paint.manyFaces,
  mouthMask: LIVE_DEFAULTS.paint.mouthMask,
  opacity: LIVE_DEFAULTS.paint.opacity,
  sharpness: LIVE_DEFAULTS.paint.sharpness,
  colorMatch: LIVE_DEFAULTS.paint.colorMatch,
  regions: 'whole-face',
  maskStrength: LIVE_DEFAULTS.paint.maskStrength,
  faceParser: 'auto',
  occlusionMask: 'none',
  faceEnhancer: 'none',
  faceEnhancerBlend: LIVE_DEFAULTS.paint.faceEnhancerBlend,
  faceEnhancerWeight: LIVE_DEFAULTS.paint.faceEnhancerWeight,
  pixelBoost: 0,
  // The page's 0 stands for 'auto'.
  detectEvery: LIVE_DEFAULTS.tracking.detectEvery === 'auto' ? 0 : LIVE_DEFAULTS.tracking.detectEvery,
  smoothing: Boolean(LIVE_DEFAULTS.tracking.smoothing),
  mirror: false,
  similarity: DEFAULT_IDENTITY_THRESHOLD,
  label: LIVE_DEFAULTS.marks.label,
  labelText: LIVE_DEFAULTS.marks.labelText,
  targetFps: 'source',
});

/** What the live app saves that goes into the audit log. */
export const LIVE_OUTPUT_KINDS = ['live-recording', 'live-snapshot'] as const;
export type LiveOutputKind = (typeof LIVE_OUTPUT_KINDS)[number];

/** Whether the label was on, and its text when it was. */
export interface LabelState {
  shown: boolean;
  text?: string;
}

/** A source photo as the audit log knows it: its name and the SHA-256 (hex) of its bytes. */
export interface SourceDigest {
  name: string;
  sha256: string;
}

/** `POST /api/provenance/session`: a new engine start in the page. */
export interface ProvenanceSessionRequest {
  engine: LiveEngineName;
  label: LabelState;
  sources: SourceDigest[];
}

/** The answer: the asset id the worker's watermark carries, and its printed form. */
export interface ProvenanceSessionReply {
  assetId: number;
  watermarkId: string;
}

/** `POST /api/provenance/output`: a recording or snapshot the page saved. */
export interface ProvenanceOutputRequest {
  kind: LiveOutputKind;
  /** The session's asset id (from the session reply). */
  assetId: number;
  /** SHA-256 (hex) of the saved file's bytes. */
  sha256: string;
  bytes: number;
  mimeType: string;
  label: LabelState;
  sources: SourceDigest[];
  engine: LiveEngineName;
}

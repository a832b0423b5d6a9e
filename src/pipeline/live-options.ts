/**
 * The live app's options and the server's description of itself: one schema for the page, the
 * worker and the server (`liveswap ui`). Platform-free.
 */

import { DEFAULT_IDENTITY_THRESHOLD } from './face-map.js';
import { LIVE_DEFAULTS, type EngineName as AnyEngineName, type FaceRegion } from './options.js';

// The page and the worker read the engine list through this module (and protocol.ts).
/**
 * The engines the live page runs: mesh and inswapper. FaceFusion's swappers (options.ts
 * ENGINE_NAMES) run in Node (the CLI, the library, the API); the page does not load them yet.
 */
export const ENGINE_NAMES = ['mesh', 'inswapper'] as const satisfies readonly AnyEngineName[];
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

/** The server's `/api/info`: which engines it can serve models for, and where they are. */
export interface ServerInfo {
  version: string;
  engines: Record<EngineName, boolean>;
  /** Why inswapper is not offered, when it is not. */
  inswapperNotice?: string;
  models: {
    /** URLs of the converted built-in models (content-addressed: safe to cache forever). */
    blazeface: string;
    facemesh: string;
    faceres: string;
    /** The inswapper engine's files, when installed and verified (the worker reads the emap from the swapper file). */
    inswapper?: { detector: string; recogniser: string; swapper: string; landmarks?: string; bytes: number };
  };
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
 * The live app's region choices (partial swaps drawn from FaceMesh's points, nothing downloaded):
 * each a preset of `maskRegions` / `keepRegions` (pipeline/options.ts).
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

/**
 * The live app's options and the server's description of itself: one schema for the page, the
 * worker and the server (`liveswap ui`). Platform-free.
 */

/** Where the browser runs the models: WebGPU when the browser has an adapter, else wasm. */
export const BACKENDS = ['webgpu', 'wasm'] as const;
export type Backend = (typeof BACKENDS)[number];

export const LIVE_ENGINES = ['mesh', 'inswapper'] as const;
export type LiveEngineName = (typeof LIVE_ENGINES)[number];

/** Camera sizes offered (width × height). */
export const CAMERA_SIZES = ['640x360', '1280x720', '1920x1080'] as const;
export type CameraSize = (typeof CAMERA_SIZES)[number];

/** The server's `/api/info`: which engines it can serve models for, and where they are. */
export interface ServerInfo {
  version: string;
  engines: { mesh: boolean; inswapper: boolean };
  /** Why inswapper is not offered, when it is not. */
  inswapperNotice?: string;
  models: {
    /** URLs of the converted built-in models (content-addressed: safe to cache forever). */
    blazeface: string;
    facemesh: string;
    faceres: string;
    /** The inswapper engine's files, when installed and verified. `emap` is the raw 512×512 float32 (little-endian) matrix. */
    inswapper?: { detector: string; recogniser: string; swapper: string; emap: string; landmarks?: string; bytes: number };
  };
  /** Where onnxruntime-web's .wasm/.mjs files are served (a folder URL ending in '/'). */
  ortWasmPath: string;
  /** WebSocket paths of the output relay (for /output and OBS). */
  relay: { publish: string; watch: string };
}

/** The processing settings the worker needs (a subset of what the page keeps). */
export interface ProcessSettings {
  manyFaces: boolean;
  mouthMask: boolean;
  /** 0..1 */
  opacity: number;
  /** 0..5 */
  sharpness: number;
  colorMatch: boolean;
  /** Run the detector every N frames (1..30) and track in between; 0 means the engine's default. */
  detectEvery: number;
  smoothing: boolean;
  /** Flip the input horizontally (a mirror view) before processing. */
  mirror: boolean;
  /** Similarity (0..1) a face needs to match a face of the multi-face map. */
  similarity: number;
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

export const DEFAULT_LIVE_SETTINGS: Readonly<LiveSettings> = Object.freeze({
  engine: 'mesh',
  backend: 'wasm',
  cameraId: '',
  cameraSize: '640x360',
  showFps: true,
  showTimings: false,
  manyFaces: false,
  mouthMask: true,
  opacity: 1,
  sharpness: 0,
  colorMatch: true,
  detectEvery: 0,
  smoothing: true,
  mirror: false,
  similarity: 0.6,
});

/**
 * What the page and the worker that runs the pipeline say to each other. The settings and the
 * server's description live in the platform-free `pipeline/live-options.ts`.
 */

import { LiveswapError, type ErrorKind } from '../core/errors.js';
import type { Backend, LiveEngineName, ProcessSettings, ServerInfo } from '../pipeline/live-options.js';

export * from '../pipeline/live-options.js';

/** A face found in a source photo: its box in the photo's pixels. */
export interface SourceFace {
  box: [number, number, number, number];
  score: number;
}

/** A source photo as the worker sees it. */
export interface SourceState {
  id: number;
  name: string;
  faces: SourceFace[];
  /** Which face gives the identity. */
  face: number;
  /** Set when the photo could not be used (no face, not decodable); the photo is then ignored. */
  error?: string;
}

/** What the worker marks every frame with: the watermark key and this session's asset id. */
export interface WorkerProvenance {
  /** 32 bytes (from the hex in ServerInfo.provenance). */
  key: Uint8Array;
  /** uint32 allotted by the server's session route. */
  assetId: number;
}

/** Per-stage milliseconds of one frame in the worker. */
export interface FrameTimings {
  /** Reading the frame's pixels (converting a video frame's planes, or drawing a bitmap and reading it back), and the smaller working copy. */
  read: number;
  detect: number;
  track: number;
  embed: number;
  warp: number;
  colour: number;
  blend: number;
  /** Scaling the faces painted on a smaller working frame back onto the full frame (0 at full resolution). */
  upscale: number;
  /** Drawing the label and embedding the watermark. */
  mark: number;
  /** Writing the pixels back and handing the picture over. */
  draw: number;
  total: number;
}

/** A face followed in the stream, for the multi-face panel. */
export interface TrackedFaceInfo {
  trackId: number;
  box: [number, number, number, number];
  /** The source id painted on it, or null when it is left alone. */
  sourceId: number | null;
  /** The multi-face map entry it matched, if any. */
  mapEntry: number | null;
}

/** One entry of the multi-face map: a person (by their face) and the source that goes on them. */
export interface MapEntry {
  /** The track it was taken from (for the page's labels). */
  trackId: number;
  /** Source id, or null to leave this person alone. */
  sourceId: number | null;
}

/** The adaptive quality controller's state, sent with every frame. */
export interface FrameQuality {
  /** The frame rate held (0: the controller is off). */
  targetFps: number;
  /** The rung in use (0 is full quality) and how many there are. */
  level: number;
  levels: number;
  /** The working resolution faces are found and painted at, as a fraction of the frame's sides (the picture and its marks keep the full size). */
  scale: number;
  /** The controller's last step: what it changed and why. */
  last?: { what: string; why: string; direction: 'down' | 'up'; fps: number };
}

/** A frame as the page hands it to the worker (transferred: the worker closes it). */
export type FramePicture = ImageBitmap | VideoFrame;

export type ToWorker =
  | { type: 'init'; info: ServerInfo; engine: LiveEngineName; backend: Backend; settings: ProcessSettings; provenance: WorkerProvenance }
  | { type: 'settings'; settings: ProcessSettings }
  | { type: 'add-source'; id: number; name: string; bitmap: ImageBitmap }
  | { type: 'pick-face'; id: number; face: number }
  | { type: 'remove-source'; id: number }
  /** Which source goes on faces outside the map (the main identity). */
  | { type: 'main-source'; id: number | null }
  | { type: 'assign'; trackId: number; sourceId: number | null }
  | { type: 'clear-map' }
  /**
   * A frame of a live target. A VideoFrame (where the browser has WebCodecs) is the cheap way: the
   * worker reads its planes directly; an ImageBitmap is drawn and read back.
   */
  /** `still`: a picture target's one frame, painted at full size whatever the controller's working size. */
  | { type: 'frame'; picture: FramePicture; time: number; still?: boolean }
  /** The target's own frame rate (a camera's setting, a video's measured rate), or null when unknown: the default frame-rate target. */
  | { type: 'source-rate'; fps: number | null }
  /** The target changed (another camera, video or picture): nothing followed in the old one carries over. */
  | { type: 'reset' }
  | { type: 'relay'; url: string | null };

/**
 * What the worker was doing when something failed: starting the engine (the runtime, the marks and
 * the models), reading a source photo, processing a frame, applying another message from the page
 * (a face pick, the map, settings), or feeding the relay.
 */
export const WORKER_PHASES = ['start', 'source', 'frame', 'control', 'relay'] as const;
export type WorkerPhase = (typeof WORKER_PHASES)[number];

/**
 * A failure reported by the worker. `kind` is the LiveswapError kind ('internal' for anything
 * else): 'model' means a model file could not be downloaded or compiled, and `model` then names
 * it, whatever the phase (the face recogniser loads with the first source photo). The page stops
 * the engine on a 'start' failure or a model that failed, and counts frame failures without stopping.
 */
export interface WorkerError {
  type: 'error';
  phase: WorkerPhase;
  kind: ErrorKind;
  message: string;
  /** The model file (its URL) that failed to load, when kind is 'model'. */
  model?: string;
}

export type FromWorker =
  /** `depth`: how many frames the worker takes on their way at once (1 when absent; its frame messages may change it); it answers them in order. */
  | { type: 'ready'; engine: LiveEngineName; backend: Backend; notice?: string; depth?: number }
  | WorkerError
  | { type: 'sources'; sources: SourceState[]; mainSource: number | null }
  | { type: 'map'; entries: MapEntry[] }
  /** `depth`, from a worker that takes more than one frame on its way: how many it takes from now on. */
  | { type: 'frame'; bitmap: ImageBitmap; timings: FrameTimings; faces: TrackedFaceInfo[]; detected: boolean; time: number; quality: FrameQuality; depth?: number }
  | { type: 'relay'; watchers: number }
  /** The oldest frame on its way was lost (a worker with depth > 1 goes on with the next): counted as dropped. */
  | { type: 'skipped' };

/**
 * The message the worker posts for something thrown in `phase`: a LiveswapError keeps its kind
 * (and, for a model, the file it names); anything else is 'internal'. `context` leads the message.
 */
export function workerError(phase: WorkerPhase, error: unknown, context?: string): WorkerError {
  const text = error instanceof Error ? error.message : String(error);
  const message = context === undefined ? text : `${context}: ${text}`;
  if (!(error instanceof LiveswapError)) return { type: 'error', phase, kind: 'internal', message };
  if (error.kind === 'model' && error.file !== undefined) return { type: 'error', phase, kind: error.kind, message, model: error.file };
  return { type: 'error', phase, kind: error.kind, message };
}

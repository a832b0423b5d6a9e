/**
 * The page's handle on the live pipeline. The models and the swap run in a Worker; this side
 * offers it frames and shows what comes back. At most one frame is being processed (or as many as
 * the worker says it takes on their way at once: processing on the server over WebRTC keeps two to
 * four travelling) and at most one waits: a newer frame replaces the waiting one (counted as
 * dropped), so a slow machine shows fewer frames, never older ones, and nothing queues without
 * bound. The worker's failures arrive with their phase and kind: a failed start rejects
 * {@link LiveClient.start} with a LiveswapError naming the model that did not load; a failed frame
 * is counted and the stream goes on.
 */

import { LiveswapError } from '../core/errors.js';
import type {
  Backend,
  FramePicture,
  FrameQuality,
  FrameTimings,
  FromWorker,
  LiveEngineName,
  MapEntry,
  ProcessSettings,
  ServerInfo,
  SourceState,
  ToWorker,
  TrackedFaceInfo,
  WorkerError,
  WorkerProvenance,
} from './protocol.js';

/** What one processed frame reports to the page. */
export interface FrameReport {
  timings: FrameTimings;
  faces: TrackedFaceInfo[];
  detected: boolean;
  /** Frames shown per second over the last second. */
  fps: number;
  /** Frames processed, dropped and failed since start. */
  processed: number;
  dropped: number;
  failed: number;
  /** Milliseconds from offering the frame to showing it. */
  latency: number;
  /** The adaptive quality controller: its target, rung and last change. */
  quality: FrameQuality;
}

/** A failure the worker reported after the start, with the frames failed so far. */
export interface LiveErrorEvent extends Omit<WorkerError, 'type'> {
  failedFrames: number;
}

export interface LiveClientEvents {
  error: LiveErrorEvent;
  sources: { sources: SourceState[]; mainSource: number | null };
  map: { entries: MapEntry[] };
  frame: FrameReport;
  relay: { watchers: number };
}

type Listener<K extends keyof LiveClientEvents> = (event: LiveClientEvents[K]) => void;

export interface LiveClientOptions {
  info: ServerInfo;
  engine: LiveEngineName;
  backend: Backend;
  settings: ProcessSettings;
  /** The watermark key and the session's asset id every frame is marked with. */
  provenance: WorkerProvenance;
  /** Where frames are shown; a 'bitmaprenderer' context is taken on it. */
  canvas: HTMLCanvasElement;
  /**
   * Starts the worker. Default: the live-worker module beside this one, as a module worker (Vite and
   * other bundlers that follow `new Worker(new URL(…, import.meta.url))` build it). Give your own to
   * host the worker script elsewhere, or a stand-in in tests.
   */
  createWorker?: () => Worker;
}

function defaultWorker(): Worker {
  // The emitted name: dist/browser/live-worker.js beside this file. In this repository's own Vite build
  // the name is mapped back to the TypeScript source (vite.config.ts, sourceWorkerUrls).
  return new Worker(new URL('./live-worker.js', import.meta.url), { type: 'module', name: 'liveswap' });
}

/** Frames from a <video>, an <img>, or a bitmap or video frame the page owns (neither is closed here). */
export type FrameSource = HTMLVideoElement | HTMLImageElement | HTMLCanvasElement | ImageBitmap | VideoFrame;

/** Whether this browser makes WebCodecs VideoFrames (Chromium, Firefox 130+, Safari 16.4+). */
const hasVideoFrame = typeof VideoFrame === 'function';

/**
 * The picture handed to the worker. A video's current frame (or a VideoFrame) becomes a VideoFrame
 * where the browser has them: made without copying the pixels, which the worker reads straight from
 * the frame's planes. Anything else, or a browser without VideoFrame, gives an ImageBitmap, as does
 * a video whose frame cannot be wrapped.
 */
async function takePicture(source: FrameSource): Promise<FramePicture> {
  if (hasVideoFrame) {
    if (source instanceof VideoFrame) return source.clone();
    if (source instanceof HTMLVideoElement) {
      try {
        return new VideoFrame(source);
      } catch {
        // No frame to wrap (between loops, say): the bitmap route says so in its own way.
      }
    }
  }
  return createImageBitmap(source);
}

export class LiveClient {
  readonly engine: LiveEngineName;
  readonly backend: Backend;
  /** Said once when the worker could not use what was asked for (e.g. WebGPU fell back to wasm). */
  readonly notice: string | undefined;
  private readonly listeners = new Map<keyof LiveClientEvents, Set<(event: never) => void>>();
  private readonly context: ImageBitmapRenderingContext;
  /** When each frame on its way was offered, oldest first (at most {@link depth}). */
  private readonly inFlight: number[] = [];
  /** How many frames the worker takes on their way at once (its ready and frame messages say). */
  private depth: number;
  private waiting: { picture: FramePicture; offered: number } | undefined;
  private processedCount = 0;
  private droppedCount = 0;
  private failedCount = 0;
  private readonly shown: number[] = [];
  private nextSourceId = 1;
  private closed = false;
  /** Bumped by {@link newTarget}: a picture taken from an older target is not sent. */
  private target = 0;
  /** Resolves the promise of the frame in flight (processStill waits on it). */
  private settle: (() => void) | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly canvas: HTMLCanvasElement,
    ready: { engine: LiveEngineName; backend: Backend; notice?: string; depth?: number },
  ) {
    this.engine = ready.engine;
    this.depth = Math.max(1, Math.floor(ready.depth ?? 1));
    this.backend = ready.backend;
    this.notice = ready.notice;
    const context = canvas.getContext('bitmaprenderer');
    if (!context) throw new Error('This browser cannot show bitmaps on a canvas (no bitmaprenderer context).');
    this.context = context;
    worker.onmessage = (event: MessageEvent<FromWorker>) => this.receive(event.data);
  }

  /**
   * Starts the worker and loads the engine's models. Rejects with a LiveswapError when the start
   * fails: kind 'model' with `file` naming the model that did not download or compile, else the
   * kind the worker reported.
   */
  static start(options: LiveClientOptions): Promise<LiveClient> {
    const worker = (options.createWorker ?? defaultWorker)();
    return new Promise((resolve, reject) => {
      worker.onerror = (event) => {
        worker.terminate();
        reject(new Error(`The processing worker failed to start: ${event.message || 'unknown error'}`));
      };
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const message = event.data;
        if (message.type === 'ready') {
          worker.onerror = null;
          resolve(new LiveClient(worker, options.canvas, message));
        } else if (message.type === 'error') {
          worker.terminate();
          reject(new LiveswapError(message.kind, message.message, { file: message.model }));
        }
      };
      const init: ToWorker = { type: 'init', info: options.info, engine: options.engine, backend: options.backend, settings: options.settings, provenance: options.provenance };
      worker.postMessage(init);
    });
  }

  on<K extends keyof LiveClientEvents>(name: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  private emit<K extends keyof LiveClientEvents>(name: K, event: LiveClientEvents[K]): void {
    for (const listener of this.listeners.get(name) ?? []) (listener as Listener<K>)(event);
  }

  private post(message: ToWorker, transfer: Transferable[] = []): void {
    if (!this.closed) this.worker.postMessage(message, transfer);
  }

  updateSettings(settings: ProcessSettings): void {
    this.post({ type: 'settings', settings });
  }

  /**
   * Adds a source photo; its faces arrive in a 'sources' event (or an error in the photo's state).
   * Rejects when the file is not an image the browser can decode. Returns the photo's id.
   */
  async addSource(file: Blob, name: string): Promise<number> {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      throw new Error(`${name} is not an image this browser can read (${file.type || 'unknown type'}).`);
    }
    const id = this.nextSourceId++;
    this.post({ type: 'add-source', id, name, bitmap }, [bitmap]);
    return id;
  }

  pickFace(id: number, face: number): void {
    this.post({ type: 'pick-face', id, face });
  }

  removeSource(id: number): void {
    this.post({ type: 'remove-source', id });
  }

  /** The source painted on faces outside the multi-face map. */
  setMainSource(id: number | null): void {
    this.post({ type: 'main-source', id });
  }

  /** Puts `sourceId` (null: nobody) on the person followed as `trackId`, and keeps that person in the map. */
  assign(trackId: number, sourceId: number | null): void {
    this.post({ type: 'assign', trackId, sourceId });
  }

  clearMap(): void {
    this.post({ type: 'clear-map' });
  }

  /**
   * The target's own frame rate (a camera's, a video's), or null when unknown: the quality
   * controller holds it when the settings' target is 'source'.
   */
  setSourceRate(fps: number | null): void {
    this.post({ type: 'source-rate', fps });
  }

  /** Sends processed frames to the server's relay (the /output page), or stops with null. */
  relay(url: string | null): void {
    this.post({ type: 'relay', url });
  }

  /**
   * The target changes (another camera, video or picture): the frame waiting from the old one is
   * dropped, a picture of it still being read is not sent, and the worker drops every face it
   * followed, so the new target's first frame is detected afresh. A frame of the old target already
   * being processed is still shown (before any of the new one).
   */
  newTarget(): void {
    this.target++;
    if (this.waiting) {
      this.waiting.picture.close();
      this.waiting = undefined;
    }
    this.post({ type: 'reset' });
  }

  /**
   * Offers the current picture of a live source. Taken at once when the worker is idle; else it
   * waits in the single slot, replacing (dropping) a frame that was waiting.
   */
  async offer(source: FrameSource): Promise<void> {
    if (this.closed) return;
    const offered = performance.now();
    const target = this.target;
    const picture = await takePicture(source);
    if (this.closed || target !== this.target) {
      picture.close();
      return;
    }
    if (!this.busy) {
      this.send(picture, offered);
      return;
    }
    if (this.waiting) {
      this.waiting.picture.close();
      this.droppedCount++;
    }
    this.waiting = { picture, offered };
  }

  /** Whether the worker has as many frames on their way as it takes. */
  private get busy(): boolean {
    return this.inFlight.length >= this.depth;
  }

  /** Processes one picture (a still target) and resolves when it is shown. */
  async processStill(source: FrameSource): Promise<void> {
    while (this.inFlight.length > 0) await new Promise<void>((resolve) => setTimeout(resolve, 5));
    const picture = await takePicture(source);
    // Another frame may have been sent while the picture was read: wait for it again.
    while (this.inFlight.length > 0) await new Promise<void>((resolve) => setTimeout(resolve, 5));
    const done = new Promise<void>((resolve) => (this.settle = resolve));
    this.send(picture, performance.now(), true);
    await done;
  }

  private send(picture: FramePicture, offered: number, still = false): void {
    this.inFlight.push(offered);
    this.post({ type: 'frame', picture, time: offered, ...(still ? { still } : {}) }, [picture]);
  }

  private receive(message: FromWorker): void {
    switch (message.type) {
      case 'frame': {
        // A bitmaprenderer canvas stretches to its own size: keep it the picture's.
        if (this.canvas.width !== message.bitmap.width) this.canvas.width = message.bitmap.width;
        if (this.canvas.height !== message.bitmap.height) this.canvas.height = message.bitmap.height;
        this.context.transferFromImageBitmap(message.bitmap);
        this.processedCount++;
        if (message.depth !== undefined) this.depth = Math.max(1, Math.floor(message.depth));
        const now = performance.now();
        this.shown.push(now);
        while (this.shown.length > 0 && this.shown[0]! < now - 1000) this.shown.shift();
        const report: FrameReport = {
          timings: message.timings,
          faces: message.faces,
          detected: message.detected,
          fps: this.shown.length,
          processed: this.processedCount,
          dropped: this.droppedCount,
          failed: this.failedCount,
          latency: now - (this.inFlight[0] ?? now),
          quality: message.quality,
        };
        this.frameDone();
        this.emit('frame', report);
        break;
      }
      case 'error': {
        // A failed frame frees the worker for the next one; nothing else stops the stream.
        if (message.phase === 'frame') {
          this.failedCount++;
          this.frameDone();
        }
        const { type: _type, ...failure } = message;
        this.emit('error', { ...failure, failedFrames: this.failedCount });
        break;
      }
      case 'sources':
        this.emit('sources', { sources: message.sources, mainSource: message.mainSource });
        break;
      case 'map':
        this.emit('map', { entries: message.entries });
        break;
      case 'relay':
        this.emit('relay', { watchers: message.watchers });
        break;
      case 'skipped':
        this.droppedCount++;
        this.frameDone();
        break;
      case 'ready':
        break;
    }
  }

  private frameDone(): void {
    this.inFlight.shift();
    this.settle?.();
    this.settle = undefined;
    const next = this.waiting;
    this.waiting = undefined;
    if (next) this.send(next.picture, next.offered);
  }

  /** Frames processed, dropped and failed so far. */
  get counts(): { processed: number; dropped: number; failed: number } {
    return { processed: this.processedCount, dropped: this.droppedCount, failed: this.failedCount };
  }

  /** The element frames are shown on. */
  get output(): HTMLCanvasElement {
    return this.canvas;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting?.picture.close();
    this.waiting = undefined;
    this.worker.terminate();
  }
}

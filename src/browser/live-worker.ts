/**
 * The live pipeline off the page's thread: loads the engine's models with onnxruntime-web, keeps
 * a {@link LiveSession}, and turns each frame bitmap the page sends into a swapped bitmap sent
 * back, marked with the label and the watermark (so the preview, the relay, recordings and
 * snapshots all carry them). Messages are handled one at a time, in order. Optionally sends each
 * result, JPEG-encoded, to the server's relay for the /output page (the encoding in a worker of its
 * own, see relay.ts). An adaptive quality controller
 * holds the settings' frame-rate target (the target's own rate by default) by budgeting the
 * session's face search and detection and by lowering the working resolution faces are found and
 * painted at; each frame reports the controller's state and last change.
 *
 * A frame arrives as a WebCodecs VideoFrame where the page can make one, and is copied out as RGBA
 * by the browser, or, where the browser cannot convert in its copy, as its YUV planes converted by
 * a loop here: both far cheaper than drawing a bitmap and reading it back, which is the fallback for
 * ImageBitmaps and for frames in other formats. The working frame is scaled from the frame's pixels.
 */

import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { FaceEmbedder } from '../face/embedder.js';
import { downloadIdForFile, type ModelSpecId } from '../models/model-spec.js';
import { swapperEngineModels } from '../models/registry.js';
import type { InferenceSession } from '../models/runtime.js';
import { QUALITY_LADDER, QualityController, type QualityChange } from '../pipeline/adaptive-quality.js';
import { openEngine, type EngineSpec, type OpenEngine } from '../pipeline/engines.js';
import { LiveSession } from '../pipeline/live.js';
import { resolveTargetFps } from '../pipeline/live-options.js';
import { mirrorRgba, resampleRgba, workingSize } from '../pipeline/working-frame.js';
import { FrameMarker } from '../provenance/marks.js';
import { WATERMARK_VERSION } from '../provenance/payload.js';
import { isYuvFormat, yuvToRgba, type PlaneSpan } from './frame-pixels.js';
import { Relay, type RelayEvent, type ToRelay } from './relay.js';
import {
  workerError,
  type FramePicture,
  type FrameQuality,
  type FromWorker,
  type LiveEngineName,
  type ProcessSettings,
  type ServerInfo,
  type ToWorker,
  type WorkerProvenance,
} from './protocol.js';
import { createWebRuntime, fetchModel, webModelReader, type WebRuntime } from './web-runtime.js';

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

/** Source photos are analysed at most this size (long side); boxes are reported in the photo's own pixels. */
const MAX_SOURCE_SIDE = 2048;

let session: LiveSession | undefined;
let settings: ProcessSettings | undefined;
let runtime: WebRuntime | undefined;
/** The engine's models, owned by the engine; `sessions` holds the others (the recogniser). */
let opened: OpenEngine | undefined;
const sessions: InferenceSession[] = [];
const sourceScale = new Map<number, number>();
let frameCanvas: OffscreenCanvas | undefined;
let frameContext: OffscreenCanvasRenderingContext2D | undefined;
let quality: QualityController | undefined;
let lastChange: QualityChange | undefined;
/** The target's own frame rate, as the page last said (null: not known). */
let sourceFps: number | null = null;
let relay: RelayLink | undefined;
/** The relay's URL as the page last set it (null: off). */
let relayUrl: string | null = null;
/** Pixel buffers reused from frame to frame (a stream's size seldom changes): the copied planes, the frame's and the working frame's pixels. */
let planes: Uint8Array | undefined;
let framePixels: Uint8ClampedArray | undefined;
let workPixels: Uint8ClampedArray | undefined;
/**
 * How VideoFrames are read: copied out as RGBA by the browser (its converter is the fastest where it
 * has one), else their YUV planes copied as they are and converted here, else drawn as a bitmap.
 * The RGBA copy is not tried again once it failed (a browser without it).
 */
let frameRoute: 'rgba' | 'planes' = 'rgba';
let provenance: WorkerProvenance | undefined;
/** The marker for the current label settings; rebuilt only when they change (it prepares the label and the key's patterns once). */
let marker: { label: string | false; marker: FrameMarker } | undefined;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/** The frame canvas at width×height (made or resized when needed) and its context. */
function canvasOf(width: number, height: number): OffscreenCanvasRenderingContext2D {
  if (!frameCanvas || frameCanvas.width !== width || frameCanvas.height !== height) {
    frameCanvas = new OffscreenCanvas(width, height);
    frameContext = frameCanvas.getContext('2d', { willReadFrequently: true }) ?? undefined;
    if (!frameContext) throw new Error('This browser cannot draw on an OffscreenCanvas in a worker.');
  }
  return frameContext!;
}

/** `current` when it holds `size` bytes, else a new buffer of that size. */
function sized<T extends Uint8Array | Uint8ClampedArray>(current: T | undefined, size: number, make: (size: number) => T): T {
  return current && current.length === size ? current : make(size);
}

/** Draws a bitmap (optionally mirrored, optionally scaled) and reads its pixels as an RGBA image. */
function readPixels(bitmap: ImageBitmap | VideoFrame, width: number, height: number, mirror: boolean): Image {
  const context = canvasOf(width, height);
  context.setTransform(mirror ? -1 : 1, 0, 0, 1, mirror ? width : 0, 0);
  context.drawImage(bitmap, 0, 0, width, height);
  context.setTransform(1, 0, 0, 1, 0, 0);
  const pixels = context.getImageData(0, 0, width, height);
  return { width, height, channels: 4, data: pixels.data };
}

/**
 * Which model files the server offers for `engine`, by table row: the built-in models, the
 * engine's own (inswapper's swapper row from its file name; a FaceFusion swapper's detector,
 * recogniser, converter and swapper), and every installed enhancer, occluder and parser (each
 * loaded only when a paint first asks for it).
 */
function engineSpecFor(info: ServerInfo, engine: LiveEngineName): EngineSpec {
  const files = info.models.files ?? {};
  const models: Partial<Record<ModelSpecId, string>> = { blazeface: info.models.blazeface, facemesh: info.models.facemesh };
  for (const kind of ['enhancers', 'occluders', 'parsers'] as const) {
    for (const choice of info.choices?.[kind] ?? []) {
      const url = files[choice.id];
      if (choice.installed && url !== undefined) models[choice.id as ModelSpecId] = url;
    }
  }
  if (engine === 'mesh') return { engine, models };
  if (engine !== 'inswapper') return { engine, models: { ...models, ...swapperFiles(info, engine) } };
  return { engine, models: { ...models, ...inswapperFiles(info) } };
}

/** A FaceFusion swapper's files from the server, or an error naming what is missing and the command that installs it. */
function swapperFiles(info: ServerInfo, engine: LiveEngineName): Partial<Record<ModelSpecId, string>> {
  const choice = info.choices?.swappers.find((c) => c.id === engine);
  const files = info.models.files ?? {};
  const ids = swapperEngineModels(engine);
  const missing = ids.filter((id) => files[id] === undefined);
  if (!choice?.installed || missing.length > 0) {
    const pull = choice?.pull ?? `liveswap models pull --for ${engine}`;
    throw new LiveswapError(
      'model',
      `The ${engine} engine is not available from this server: ${(choice?.missing ?? missing).join(', ')} not installed. Run \`${pull}\` and reload.`,
    );
  }
  return Object.fromEntries(ids.map((id) => [id, files[id]]));
}

/** The inswapper engine's files from the server. */
function inswapperFiles(info: ServerInfo): Partial<Record<ModelSpecId, string>> {
  const models: Partial<Record<ModelSpecId, string>> = {};
  const files = info.models.inswapper;
  if (!files) throw new Error(`The inswapper engine is not available from this server: ${info.inswapperNotice ?? 'its models are not installed'}.`);
  const swapperId = downloadIdForFile(files.swapper.slice(files.swapper.lastIndexOf('/') + 1)) === 'inswapper_128_fp16' ? 'inswapper_128_fp16' : 'inswapper_128';
  models.det_10g = files.detector;
  models.w600k_r50 = files.recogniser;
  models[swapperId] = files.swapper;
  if (files.landmarks) models['2d106det'] = files.landmarks;
  return models;
}

async function init(message: Extract<ToWorker, { type: 'init' }>): Promise<void> {
  const { info, engine, backend } = message;
  try {
    provenance = message.provenance;
    marker = undefined;
    markerFor(message.settings); // a bad key or asset id fails the start, not every frame
    // The built-in models are small: one wasm thread beats handing work around; the neural swappers' are not.
    runtime = await createWebRuntime({ backend, wasmPath: info.ortWasmPath, threads: engine === 'mesh' ? 1 : 4 });
    await opened?.close().catch(() => undefined);
    opened = undefined;
    // The one loader; the emap is read from the swapper file itself.
    const assembled = await openEngine(engineSpecFor(info, engine), webModelReader, runtime);
    opened = assembled;
    settings = message.settings;
    lastChange = undefined;
    quality = undefined;
    session = new LiveSession(assembled, settings, markerFor(settings), async () => {
      const recogniser = await runtime!.load(await fetchModel(info.models.faceres), info.models.faceres);
      sessions.push(recogniser);
      const embedder = FaceEmbedder.create(recogniser);
      return (image, face) => embedder.embed(image, face);
    });
    applyTarget(settings.targetFps);
    post({ type: 'ready', engine, backend: runtime.backend, notice: runtime.notice });
  } catch (error) {
    await Promise.all(sessions.splice(0).map((s) => s.close().catch(() => undefined)));
    post(workerError('start', error));
  }
}

function postSources(): void {
  if (!session) return;
  const sources = session.sourceStates.map((state) => {
    const scale = sourceScale.get(state.id) ?? 1;
    return { ...state, faces: state.faces.map((f) => ({ box: f.box.map((v) => Math.round(v / scale)) as [number, number, number, number], score: f.score })) };
  });
  post({ type: 'sources', sources, mainSource: session.mainSource });
}

async function addSource(id: number, name: string, bitmap: ImageBitmap): Promise<void> {
  const scale = Math.min(1, MAX_SOURCE_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  let image: Image;
  try {
    image = readPixels(bitmap, width, height, false);
  } finally {
    bitmap.close();
  }
  // The pixels are copied: the frame canvas is reused for the stream.
  sourceScale.set(id, scale);
  await session!.addSource(id, name, { ...image, data: new Uint8ClampedArray(image.data) });
  postSources();
}

/** Starts, retargets or stops the quality controller (a target of 0 stops it: every frame at full quality). */
function applyTarget(setting: ProcessSettings['targetFps']): void {
  const targetFps = resolveTargetFps(setting, sourceFps);
  if (targetFps <= 0) {
    quality = undefined;
    lastChange = undefined;
    session?.setQuality({ detectFactor: 1, searchEvery: 1 });
    return;
  }
  if (quality?.target === targetFps) return;
  if (quality) quality.setTarget(targetFps);
  else quality = new QualityController({ targetFps });
  session?.setQuality(quality.level);
}

function qualityState(): FrameQuality {
  const state: FrameQuality = { targetFps: quality?.target ?? 0, level: quality?.levelIndex ?? 0, levels: QUALITY_LADDER.length, scale: quality?.level.scale ?? 1 };
  if (lastChange) state.last = { what: lastChange.what, why: lastChange.why, direction: lastChange.direction, fps: Math.round(lastChange.fps * 10) / 10 };
  return state;
}

/** A frame's pixels at full size and, when the controller works smaller, the working copy. */
interface FramePixels {
  full: Image;
  work: Image | undefined;
}

/** The size of the working frame for a frame of width×height at the controller's scale (undefined: full size). */
function workSizeFor(width: number, height: number): { width: number; height: number } | undefined {
  const scale = quality?.level.scale ?? 1;
  const size = workingSize(width, height, scale);
  return size.width === width && size.height === height ? undefined : size;
}

/** Reads a frame by the cheapest route that works in this browser (see the module comment); the picture is closed. */
async function readFrame(picture: FramePicture, mirror: boolean, still: boolean): Promise<FramePixels> {
  const pixels = await readFramePixels(picture, mirror);
  return still ? { full: pixels.full, work: undefined } : pixels;
}

async function readFramePixels(picture: FramePicture, mirror: boolean): Promise<FramePixels> {
  try {
    if (picture instanceof ImageBitmap) return withWork(readPixels(picture, picture.width, picture.height, mirror));
    if (frameRoute === 'rgba') {
      try {
        return await readRgba(picture, mirror);
      } catch {
        frameRoute = 'planes';
      }
    }
    if (frameRoute === 'planes' && isYuvFormat(picture.format)) return await readPlanes(picture, mirror);
    return withWork(readPixels(picture, picture.displayWidth, picture.displayHeight, mirror));
  } finally {
    picture.close();
  }
}

/** The frame and its working copy, scaled down from the frame's pixels. */
function withWork(full: Image): FramePixels {
  const size = workSizeFor(full.width, full.height);
  if (!size) return { full, work: undefined };
  workPixels = sized(workPixels, size.width * size.height * 4, (n) => new Uint8ClampedArray(n));
  return { full, work: resampleRgba(full, size.width, size.height, false, workPixels) };
}

/** A YUV frame's planes, copied out as they are and converted here (the working copy straight from the planes too). */
async function readPlanes(frame: VideoFrame, mirror: boolean): Promise<FramePixels> {
  planes = sized(planes, frame.allocationSize(), (n) => new Uint8Array(n));
  const layout = (await frame.copyTo(planes)) as PlaneSpan[];
  const rect = frame.visibleRect!;
  const source = { format: frame.format as 'I420', data: planes, layout, width: rect.width, height: rect.height };
  const { displayWidth: width, displayHeight: height } = frame;
  framePixels = sized(framePixels, width * height * 4, (n) => new Uint8ClampedArray(n));
  const full: Image = { width, height, channels: 4, data: yuvToRgba(source, width, height, mirror, framePixels) };
  const size = workSizeFor(width, height);
  if (!size) return { full, work: undefined };
  workPixels = sized(workPixels, size.width * size.height * 4, (n) => new Uint8ClampedArray(n));
  return { full, work: { ...size, channels: 4 as const, data: yuvToRgba(source, size.width, size.height, mirror, workPixels) } };
}

/** A frame in another format, copied out by the browser as RGBA (mirrored here). */
async function readRgba(frame: VideoFrame, mirror: boolean): Promise<FramePixels> {
  const rect = frame.visibleRect!;
  const options = { format: 'RGBA' } as VideoFrameCopyToOptions;
  framePixels = sized(framePixels, rect.width * rect.height * 4, (n) => new Uint8ClampedArray(n));
  await frame.copyTo(framePixels, options);
  const full: Image = { width: rect.width, height: rect.height, channels: 4, data: framePixels };
  if (mirror) mirrorRgba(full);
  return withWork(full);
}

async function processFrame(picture: FramePicture, time: number, still: boolean): Promise<void> {
  const start = performance.now();
  const { full: image, work } = await readFrame(picture, settings!.mirror, still);
  const read = performance.now() - start;
  // The session's frame processor marks the frame as its last stage, at its full size.
  const result = await session!.process(image, time, work);
  const drawStart = performance.now();
  const output = outputBitmap(image);
  sendToRelay(output);
  const draw = performance.now() - drawStart;
  const timings = { read, ...result.timings, draw, total: performance.now() - start };
  post({ type: 'frame', bitmap: output, timings, faces: result.faces, detected: result.detected, time, quality: qualityState() }, [output]);
  adapt(start, timings.total);
}

/** The finished frame as handed to the page (which shows it without a copy): a bitmap of the canvas its pixels are written to. */
function outputBitmap(image: Image): ImageBitmap {
  canvasOf(image.width, image.height).putImageData(new ImageData(image.data as Uint8ClampedArray<ArrayBuffer>, image.width, image.height), 0, 0);
  return frameCanvas!.transferToImageBitmap();
}

/** Tells the controller what the frame cost, and applies its step when it takes one. */
function adapt(start: number, busyMs: number): void {
  const change = quality?.record({ at: start, busyMs });
  if (!change) return;
  lastChange = change;
  session!.setQuality(change.to);
}

function markerFor(current: ProcessSettings): FrameMarker {
  const label = current.label ? current.labelText : false;
  if (marker && marker.label === label) return marker.marker;
  const { key, assetId } = provenance!;
  const made = new FrameMarker({ label: label === false ? false : { text: label }, watermark: { key, payload: { assetId, version: WATERMARK_VERSION } }, media: 'video' });
  marker = { label, marker: made };
  return made;
}

/** The relay as this worker drives it: in a worker of its own (see relay-worker.ts), or here where a worker cannot start one. */
interface RelayLink {
  /** Whether a frame offered now would be sent. */
  readonly wants: boolean;
  send(bitmap: ImageBitmap): void;
  connect(url: string | null): void;
}

/** Frames handed to the relay worker and not yet taken: at most this many (it skips what it cannot send anyway). */
const RELAY_HANDED = 3;

function relayEvent(event: RelayEvent): void {
  if (event.type === 'watchers') post({ type: 'relay', watchers: event.watchers });
  else if (event.type === 'failed') post(workerError('relay', new Error(event.message), 'Could not send a frame to the output page'));
  else {
    post({ type: 'relay', watchers: 0 });
    post({ type: 'error', phase: 'relay', kind: 'output', message: 'The connection to the output page relay closed; turn the relay off and on to reconnect.' });
  }
}

/** The relay in its own worker; undefined where this worker cannot start one (the relay then runs here). */
function relayWorker(): RelayLink | undefined {
  if (typeof Worker !== 'function') return undefined;
  let worker: Worker;
  try {
    // The emitted name beside this file; Vite maps it to the TypeScript source (vite.config.ts).
    worker = new Worker(new URL('./relay-worker.js', import.meta.url), { type: 'module', name: 'liveswap-relay' });
  } catch {
    return undefined;
  }
  let handed = 0;
  let watchers = 0;
  worker.onmessage = ({ data }: MessageEvent<RelayEvent | { type: 'done' }>) => {
    if (data.type === 'done') handed--;
    else {
      watchers = data.type === 'watchers' ? data.watchers : 0;
      relayEvent(data);
    }
  };
  // A relay worker that cannot run (no nested module workers): the relay runs here instead.
  worker.onerror = (event) => {
    event.preventDefault();
    worker.terminate();
    relay = new Relay(relayEvent);
    relay.connect(relayUrl);
  };
  return {
    get wants() {
      return watchers > 0 && handed < RELAY_HANDED;
    },
    send(bitmap) {
      handed++;
      worker.postMessage({ type: 'frame', picture: bitmap } satisfies ToRelay, [bitmap]);
    },
    connect(url) {
      if (!url) watchers = 0;
      worker.postMessage({ type: 'connect', url } satisfies ToRelay);
    },
  };
}

/** Hands a copy of the finished frame to the relay when it would send it (someone watches and the connection keeps up), without waiting for it. */
function sendToRelay(frame: ImageBitmap): void {
  const link = relay;
  if (!link?.wants) return;
  // The copy takes the bitmap's pixels now (shared, not copied), before the frame goes to the page; it reaches the relay a moment later.
  createImageBitmap(frame).then(
    (copy) => link.send(copy),
    (error: unknown) => post(workerError('relay', error, 'Could not send a frame to the output page')),
  );
}

function startRelay(url: string | null): void {
  relayUrl = url;
  if (!url) {
    relay?.connect(null);
    return;
  }
  const link = (relay ??= relayWorker() ?? new Relay(relayEvent));
  link.connect(url);
}

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'init') return init(message);
  if (message.type === 'source-rate') {
    sourceFps = message.fps;
    if (settings) applyTarget(settings.targetFps);
    return;
  }
  if (!session) {
    if (message.type === 'frame') message.picture.close();
    if (message.type === 'add-source') message.bitmap.close();
    return;
  }
  switch (message.type) {
    case 'settings':
      if (message.settings.targetFps !== settings?.targetFps) applyTarget(message.settings.targetFps);
      settings = message.settings;
      session.updateSettings(message.settings);
      session.setMarks(markerFor(message.settings));
      return;
    case 'add-source':
      try {
        await addSource(message.id, message.name, message.bitmap);
      } catch (error) {
        post(workerError('source', error, message.name));
      }
      return;
    case 'pick-face':
      await session.pickFace(message.id, message.face);
      postSources();
      return;
    case 'remove-source':
      session.removeSource(message.id);
      sourceScale.delete(message.id);
      postSources();
      return;
    case 'main-source':
      session.setMainSource(message.id);
      postSources();
      return;
    case 'assign':
      session.assign(message.trackId, message.sourceId);
      post({ type: 'map', entries: session.mapEntries });
      return;
    case 'clear-map':
      session.clearMap();
      post({ type: 'map', entries: [] });
      return;
    case 'reset':
      // Frames are handled in order, so every frame after this one is the new target's.
      session.reset();
      return;
    case 'relay':
      startRelay(message.url);
      return;
    case 'frame':
      try {
        await processFrame(message.picture, message.time, message.still === true);
        // A pointed-at person joins the map on the next frame, once their descriptor is taken.
        const entries = session.mapEntries;
        if (entries.length !== mapSize) post({ type: 'map', entries });
        mapSize = entries.length;
      } catch (error) {
        post(workerError('frame', error, 'A frame could not be processed'));
      }
      return;
  }
}

let mapSize = 0;
let chain: Promise<void> = Promise.resolve();
scope.onmessage = (event) => {
  const message = event.data;
  // Frames, sources and the start report their own failures; what is left is a control message (a face pick, say).
  chain = chain.then(() => handle(message)).catch((error: unknown) => post(workerError('control', error)));
};

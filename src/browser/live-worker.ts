/**
 * The live pipeline off the page's thread: loads the engine's models with onnxruntime-web, keeps
 * a {@link LiveSession}, and turns each frame bitmap the page sends into a swapped bitmap sent
 * back, marked with the label and the watermark (so the preview, the relay, recordings and
 * snapshots all carry them). Messages are handled one at a time, in order. Optionally sends each
 * result, JPEG-encoded, to the server's relay for the /output page. An adaptive quality controller
 * holds the settings' frame-rate target by budgeting the session's face search and detection;
 * each frame reports the controller's state and last change.
 */

import type { Image } from '../core/image.js';
import { FaceEmbedder } from '../face/embedder.js';
import { downloadIdForFile, type ModelSpecId } from '../models/model-spec.js';
import type { InferenceSession } from '../models/runtime.js';
import { QUALITY_LADDER, QualityController, type QualityChange } from '../pipeline/adaptive-quality.js';
import { openEngine, type EngineSpec, type OpenEngine } from '../pipeline/engines.js';
import { LiveSession } from '../pipeline/live.js';
import { FrameMarker } from '../provenance/marks.js';
import { WATERMARK_VERSION } from '../provenance/payload.js';
import { workerError, type FrameQuality, type FromWorker, type LiveEngineName, type ProcessSettings, type ServerInfo, type ToWorker, type WorkerProvenance } from './protocol.js';
import { createWebRuntime, fetchModel, webModelReader, type WebRuntime } from './web-runtime.js';

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

/** Source photos are analysed at most this size (long side); boxes are reported in the photo's own pixels. */
const MAX_SOURCE_SIDE = 2048;
/** A relay frame is skipped while this much is still unsent (a slow /output page never queues frames). */
const RELAY_BACKLOG = 1 << 20;

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
/** JPEG encodings of relay frames under way at once: one frame's encoding overlaps the next frame's processing. */
const RELAY_ENCODES = 2;
let relay: { socket: WebSocket; watchers: number; canvas: OffscreenCanvas; encoding: number; sent: Promise<void> } | undefined;
let provenance: WorkerProvenance | undefined;
/** The marker for the current label settings; rebuilt only when they change (it prepares the label and the key's patterns once). */
let marker: { label: string | false; marker: FrameMarker } | undefined;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/** Draws a bitmap (optionally mirrored, optionally scaled) and reads its pixels as an RGBA image. */
function readPixels(bitmap: ImageBitmap, width: number, height: number, mirror: boolean): Image {
  if (!frameCanvas || frameCanvas.width !== width || frameCanvas.height !== height) {
    frameCanvas = new OffscreenCanvas(width, height);
    frameContext = frameCanvas.getContext('2d', { willReadFrequently: true }) ?? undefined;
    if (!frameContext) throw new Error('This browser cannot draw on an OffscreenCanvas in a worker.');
  }
  const context = frameContext!;
  context.setTransform(mirror ? -1 : 1, 0, 0, 1, mirror ? width : 0, 0);
  context.drawImage(bitmap, 0, 0, width, height);
  context.setTransform(1, 0, 0, 1, 0, 0);
  const pixels = context.getImageData(0, 0, width, height);
  return { width, height, channels: 4, data: pixels.data };
}

/** Which model files the server offers for `engine`, by table row; the swapper's row from its file name. */
function engineSpecFor(info: ServerInfo, engine: LiveEngineName): EngineSpec {
  const models: Partial<Record<ModelSpecId, string>> = { blazeface: info.models.blazeface, facemesh: info.models.facemesh };
  if (engine !== 'inswapper') return { engine: 'mesh', models };
  const files = info.models.inswapper;
  if (!files) throw new Error(`The inswapper engine is not available from this server: ${info.inswapperNotice ?? 'its models are not installed'}.`);
  const swapperId = downloadIdForFile(files.swapper.slice(files.swapper.lastIndexOf('/') + 1)) === 'inswapper_128_fp16' ? 'inswapper_128_fp16' : 'inswapper_128';
  models.det_10g = files.detector;
  models.w600k_r50 = files.recogniser;
  models[swapperId] = files.swapper;
  if (files.landmarks) models['2d106det'] = files.landmarks;
  return { engine: 'inswapper', models };
}

async function init(message: Extract<ToWorker, { type: 'init' }>): Promise<void> {
  const { info, engine, backend } = message;
  try {
    provenance = message.provenance;
    marker = undefined;
    markerFor(message.settings); // a bad key or asset id fails the start, not every frame
    // The built-in models are small: one wasm thread beats handing work around; inswapper's is not.
    runtime = await createWebRuntime({ backend, wasmPath: info.ortWasmPath, threads: engine === 'inswapper' ? 4 : 1 });
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
function applyTarget(targetFps: number): void {
  if (targetFps <= 0) {
    quality = undefined;
    lastChange = undefined;
    session?.setQuality({ detectFactor: 1, searchEvery: 1 });
    return;
  }
  if (quality) quality.setTarget(targetFps);
  else quality = new QualityController({ targetFps });
  session?.setQuality(quality.level);
}

function qualityState(): FrameQuality {
  const state: FrameQuality = { targetFps: quality?.target ?? 0, level: quality?.levelIndex ?? 0, levels: QUALITY_LADDER.length };
  if (lastChange) state.last = { what: lastChange.what, why: lastChange.why, direction: lastChange.direction, fps: Math.round(lastChange.fps * 10) / 10 };
  return state;
}

async function processFrame(bitmap: ImageBitmap, time: number): Promise<void> {
  const start = performance.now();
  let image: Image;
  try {
    image = readPixels(bitmap, bitmap.width, bitmap.height, settings!.mirror);
  } finally {
    bitmap.close();
  }
  const read = performance.now() - start;
  // The session's frame processor marks the frame as its last stage.
  const result = await session!.process(image, time);
  const drawStart = performance.now();
  frameContext!.putImageData(new ImageData(image.data as Uint8ClampedArray<ArrayBuffer>, image.width, image.height), 0, 0);
  const output = frameCanvas!.transferToImageBitmap();
  sendToRelay(output);
  const draw = performance.now() - drawStart;
  const timings = { read, ...result.timings, draw, total: performance.now() - start };
  post({ type: 'frame', bitmap: output, timings, faces: result.faces, detected: result.detected, time, quality: qualityState() }, [output]);
  adapt(start, timings.total);
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

function sendToRelay(frame: ImageBitmap): void {
  if (!relay || relay.encoding >= RELAY_ENCODES || relay.watchers === 0 || relay.socket.readyState !== WebSocket.OPEN || relay.socket.bufferedAmount > RELAY_BACKLOG) return;
  const target = relay;
  if (target.canvas.width !== frame.width || target.canvas.height !== frame.height) {
    target.canvas.width = frame.width;
    target.canvas.height = frame.height;
  }
  target.canvas.getContext('2d')!.drawImage(frame, 0, 0);
  target.encoding++;
  // The encoding takes the canvas as it is now; frames are sent in the order they were drawn.
  const blob = target.canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
  target.sent = target.sent
    .then(async () => {
      const bytes = await blob;
      if (target.socket.readyState === WebSocket.OPEN) target.socket.send(bytes);
    })
    .catch((error: unknown) => post(workerError('relay', error, 'Could not send a frame to the output page')))
    .finally(() => target.encoding--);
}

function startRelay(url: string | null): void {
  relay?.socket.close();
  relay = undefined;
  if (!url) return;
  const socket = new WebSocket(url);
  const state = { socket, watchers: 0, canvas: new OffscreenCanvas(1, 1), encoding: 0, sent: Promise.resolve() };
  relay = state;
  socket.onmessage = (event: MessageEvent) => {
    if (typeof event.data !== 'string') return;
    try {
      const { watchers } = JSON.parse(event.data) as { watchers?: number };
      if (typeof watchers === 'number') {
        state.watchers = watchers;
        post({ type: 'relay', watchers });
      }
    } catch {
      // not a message of ours
    }
  };
  socket.onclose = () => {
    if (relay !== state) return;
    relay = undefined;
    post({ type: 'relay', watchers: 0 });
    post({ type: 'error', phase: 'relay', kind: 'output', message: 'The connection to the output page relay closed; turn the relay off and on to reconnect.' });
  };
}

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'init') return init(message);
  if (!session) {
    if (message.type === 'frame') message.bitmap.close();
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
        await processFrame(message.bitmap, message.time);
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

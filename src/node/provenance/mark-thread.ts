/**
 * The marks of a run on a thread of their own: the label and the watermark go on each frame there
 * (mark-thread-worker.ts) while the main thread finds and paints the faces of the next frame, so on
 * a machine with a spare core the marks leave the swap's critical path (`liveswap live`, and video
 * files through {@link markingSink}). Frames are marked in the order given (one thread, first in
 * first out), and each is handed back only once marked: a frame that could not be marked is an
 * error, never an unmarked frame. The frame's pixels move to the thread and back without a copy
 * (the caller gives the frame up until it comes back).
 */

import { Worker } from 'node:worker_threads';
import { LiveswapError } from '../../core/errors.js';
import type { Channels, Image } from '../../core/image.js';
import type { FrameSink } from '../../pipeline/frame-io.js';
import { FrameMarker, type MarkSettings } from '../../provenance/marks.js';

/** A frame sent to the marks thread (its pixels moved there). */
export interface ToMarkThread {
  id: number;
  width: number;
  height: number;
  channels: Channels;
  buffer: ArrayBuffer;
}

/** A marked frame (its pixels moved back) and the thread's time on it, or why it could not be marked. */
export type FromMarkThread = { id: number; buffer: ArrayBuffer; ms: number } | { id: number; error: string };

/** Starts the thread: the compiled file, or, run from the TypeScript sources (tests, benchmarks), the source through tsx's loader. */
function startThread(settings: MarkSettings): Worker {
  const name = 'liveswap marks';
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./mark-thread-worker.js', import.meta.url), { name, workerData: { settings } });
  const entry = JSON.stringify(new URL('./mark-thread-worker.ts', import.meta.url).href);
  let loader: string;
  try {
    loader = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  } catch (cause) {
    throw new LiveswapError('internal', 'Run from its TypeScript sources, liveswap needs tsx (a dev dependency) for its marks thread: run `npm install`, or build.', { cause });
  }
  return new Worker(`import(${loader}).then(({ register }) => { register(); return import(${entry}); });`, { eval: true, name, workerData: { settings } });
}

/** A marked frame, and how long the marks took on their thread (ms). */
export interface MarkedFrame {
  image: Image;
  ms: number;
}

/** The workers of the marks threads now open (tools and tests that watch or stop them). */
const running = new Set<Worker>();

/** The workers of the marks threads now open, oldest first. */
export function markThreadWorkers(): Worker[] {
  return [...running];
}

/** The marks thread of one run; see the file's comment. */
export class MarkThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { width: number; height: number; channels: Channels; resolve: (frame: MarkedFrame) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private failure: LiveswapError | undefined;
  /** The watermark id every frame carries (the same as a FrameMarker with these settings). */
  readonly watermarkId: string;
  /** Whether the visible label is drawn (the watermark always is). */
  readonly labelShown: boolean;

  constructor(settings: MarkSettings) {
    // A bad key or label fails here, at the start, as it would on the main thread.
    const marker = new FrameMarker(settings);
    this.watermarkId = marker.watermarkId;
    this.labelShown = marker.labelShown;
    this.worker = startThread(settings);
    running.add(this.worker);
    this.worker.on('message', (message: FromMarkThread) => this.received(message));
    this.worker.on('error', (error) => this.fail(`it failed: ${error.message}`));
    this.worker.on('exit', (code) => {
      running.delete(this.worker);
      this.fail(`it exited with code ${code}`);
    });
  }

  /** Marks `image` on the thread; its pixels are moved there, and the marked frame comes back in a new Image over them. */
  mark(image: Image): Promise<MarkedFrame> {
    if (this.failure) return Promise.reject(this.failure);
    const data = image.data;
    // Moved whole when the pixels are a buffer of their own; copied otherwise (a view, or shared memory).
    const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    const buffer = own ? (data.buffer as ArrayBuffer) : (data.slice().buffer as ArrayBuffer);
    const id = this.nextId++;
    return new Promise<MarkedFrame>((resolve, reject) => {
      this.waiting.set(id, { width: image.width, height: image.height, channels: image.channels, resolve, reject });
      const message: ToMarkThread = { id, width: image.width, height: image.height, channels: image.channels, buffer };
      this.worker.postMessage(message, [buffer]);
    });
  }

  private received(message: FromMarkThread): void {
    const waiting = this.waiting.get(message.id);
    if (!waiting) return;
    this.waiting.delete(message.id);
    if ('error' in message) {
      waiting.reject(new LiveswapError('internal', `A frame could not be marked (label and watermark): ${message.error}. Nothing unmarked was sent.`));
      return;
    }
    waiting.resolve({ image: { width: waiting.width, height: waiting.height, channels: waiting.channels, data: new Uint8ClampedArray(message.buffer) }, ms: message.ms });
  }

  private fail(why: string): void {
    this.failure ??= new LiveswapError('internal', `The thread drawing the marks stopped: ${why}. Nothing unmarked was sent.`);
    for (const waiting of this.waiting.values()) waiting.reject(this.failure);
    this.waiting.clear();
  }

  /** Stops the thread (frames still waiting fail). */
  async close(): Promise<void> {
    this.failure ??= new LiveswapError('internal', 'The marks thread was closed.');
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
    running.delete(this.worker);
    for (const waiting of this.waiting.values()) waiting.reject(this.failure);
    this.waiting.clear();
  }
}

/**
 * A sink whose frames are marked on `thread` on their way to `sink`: `write` hands the frame to the
 * thread and resolves once at most `depth` frames are still being marked or written, so the caller
 * finds and paints the next frames meanwhile. Frames reach `sink` in the order written, at the
 * times given, each only once marked; a frame that could not be marked (the thread failed or
 * stopped) fails the next `write` or `close`, and nothing after it reaches `sink`. `abort` aborts
 * `sink` (nothing half-written stays) and drops the frames in flight. `stats.ms` adds up the
 * thread's time on each frame. The frame given is the thread's until marked (its pixels move).
 */
export function markingSink(sink: FrameSink, thread: MarkThread, options: { depth?: number; stats?: { ms: number } } = {}): FrameSink {
  const depth = Math.max(1, options.depth ?? 1);
  const stats = options.stats ?? { ms: 0 };
  /** The frames handed over and not yet written, oldest first; each waits for the one before it. */
  const inFlight: Promise<void>[] = [];
  const status: { state: 'open' | 'closed' | 'aborted' } = { state: 'open' };
  const settle = (): Promise<unknown> => Promise.allSettled(inFlight.splice(0));
  return {
    async write(image: Image, tSeconds: number): Promise<void> {
      if (status.state !== 'open') throw new LiveswapError('internal', `This marked output is ${status.state}; it takes no more frames.`);
      const marking = thread.mark(image);
      const before = inFlight.at(-1);
      const written = (async () => {
        const marked = await marking;
        await before;
        if (status.state === 'aborted') return;
        stats.ms += marked.ms;
        await sink.write(marked.image, tSeconds);
      })();
      // Its failure is met by whoever waits for it (a later write, close); never unhandled.
      written.catch(() => undefined);
      inFlight.push(written);
      while (inFlight.length > depth) await inFlight.shift();
    },
    async close(): Promise<void> {
      if (status.state !== 'open') throw new LiveswapError('internal', `This marked output is ${status.state} already.`);
      while (inFlight.length > 0) await inFlight.shift();
      status.state = 'closed';
      await sink.close();
    },
    async abort(): Promise<void> {
      if (status.state === 'aborted') return;
      status.state = 'aborted';
      await sink.abort();
      await settle();
    },
  };
}

/**
 * ffmpeg children whose raw-frame pipes are served by a thread of their own (ffmpeg-pipe-thread.ts),
 * so that decoding and encoding go on while the main thread computes: a few frames are read ahead
 * (each handed over in its own buffer, moved, not copied) and frames to encode wait in a small
 * shared ring until ffmpeg takes them. The order of frames is the pipe's. One thread serves every
 * child of the process; it starts with the first and does not keep the process alive while idle.
 * A killed ffmpeg or a thread that dies ends the child and surfaces as an error.
 */

import { Worker } from 'node:worker_threads';
import { LiveswapError } from '../../core/errors.js';
import type { ExitStatus } from './ffmpeg-binary.js';
import type { PlanarFrames } from './ffmpeg-frames.js';

/** Frames read ahead or queued at most: about this many bytes of them (and at least one). */
const PIPE_BUDGET_BYTES = 48 * 2 ** 20;
/** And never more than this many frames each way. */
const MAX_PIPE_FRAMES = 4;

/** Frames to read ahead (or queue) by default for frames of `frameBytes`: up to 4, fewer when they are large. */
export function defaultPipeFrames(frameBytes: number): number {
  return Math.max(1, Math.min(MAX_PIPE_FRAMES, Math.floor(PIPE_BUDGET_BYTES / frameBytes)));
}

/** What the pipe thread is told to start. */
export interface PipeChildSpec {
  binary: string;
  args: readonly string[];
  /** Raw frames on stdout: their size, how many may wait on the main thread, whether the newest replaces one waiting, and whether they come as planes to convert here. */
  read?: { frameBytes: number; ahead: number; latest: boolean; planar?: PlanarFrames | undefined };
  /** Read fd 3 (a decoder's PCM) and pass it on as it comes. */
  audio: boolean;
  /** Write fd 3 (an encoder's PCM) with what the main thread sends; not with `audio`. */
  audioIn?: boolean;
  /** Read fd 4 (`-progress pipe:4`) and pass it on as it comes. */
  progress?: boolean;
  /** Start ffmpeg in its own process group (a terminal's Ctrl-C does not reach it). */
  detached: boolean;
  /** Raw frames for stdin, in `slots` slots of the shared ring. */
  write?: { frameBytes: number; slots: number; shared: SharedArrayBuffer };
}

/** Messages to the pipe thread. */
export type ToPipeThread =
  | { type: 'taken' }
  | { type: 'write'; slot: number; times?: number }
  | { type: 'end-input' }
  | { type: 'audio-in'; chunk: Uint8Array }
  | { type: 'end-audio-in' }
  | { type: 'kill'; signal: NodeJS.Signals }
  | { type: 'recycle'; data: ArrayBuffer };

/** Messages from the pipe thread, in the order things happened there. */
export type FromPipeThread =
  | { type: 'spawned'; pid: number }
  | { type: 'spawn-error'; message: string }
  | { type: 'stderr'; chunk: Uint8Array }
  | { type: 'audio'; chunk: Uint8Array }
  | { type: 'audio-end' }
  | { type: 'progress'; text: string }
  | { type: 'frame'; data: ArrayBuffer; index: number; dropped: number; at: number }
  | { type: 'written'; slot: number; ok: boolean }
  | { type: 'end'; tail: number }
  | { type: 'exit'; code: number | null; signal: NodeJS.Signals | null };

/** A frame read from the pipe: its bytes, its number in the pipe, frames dropped before it (`latest`), and when it was read (performance.now()). */
export interface PipedFrame {
  data: Uint8ClampedArray;
  index: number;
  dropped: number;
  arrivedAt: number;
}

export interface PipedFfmpegOptions {
  binary: string;
  args: readonly string[];
  /**
   * Read raw frames of this size from stdout, up to `ahead` waiting here. `latest` (a live input):
   * none waits here; each nextFrame() gets the newest frame read (the ones before it dropped).
   */
  read?: { frameBytes: number; ahead: number; latest?: boolean; planar?: PlanarFrames | undefined };
  /** Each piece of fd 3 (a decoder's PCM) as it comes, and its end. */
  audio?: { onData: (chunk: Buffer) => void; onEnd: () => void };
  /** fd 3 is written (an encoder's PCM, through {@link PipedFfmpeg.writeAudio}); not with `audio`. */
  audioIn?: boolean;
  /** Each piece of fd 4 (ffmpeg's `-progress pipe:4` lines) as it comes. */
  onProgress?: (text: string) => void;
  /** Start ffmpeg in its own process group. */
  detached?: boolean;
  /** Write raw frames of this size to stdin, up to `queue` waiting for ffmpeg. */
  write?: { frameBytes: number; queue: number };
  /** Each piece of ffmpeg's stderr, in order. */
  onStderr: (chunk: Buffer) => void;
  /** What the child does, for messages ("decoding clip.mp4"). */
  what: string;
}

/** Starts the pipe thread: the compiled file, or, run from the TypeScript sources (tests, benchmarks), the source through tsx's loader. */
function startThread(): Worker {
  const name = 'liveswap ffmpeg pipes';
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./ffmpeg-pipe-thread.js', import.meta.url), { name });
  const entry = JSON.stringify(new URL('./ffmpeg-pipe-thread.ts', import.meta.url).href);
  let loader: string;
  try {
    loader = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  } catch (cause) {
    throw new LiveswapError('internal', 'Run from its TypeScript sources, liveswap needs tsx (a dev dependency) for its ffmpeg pipe thread: run `npm install`, or build.', {
      cause,
    });
  }
  return new Worker(`import(${loader}).then(({ register }) => { register(); return import(${entry}); });`, { eval: true, name });
}

/** The pipe thread and the children it serves, by id; referenced (keeping the process alive) only while it serves any. */
class PipeThread {
  readonly worker = startThread();
  readonly children = new Map<number, PipedFfmpeg>();
  private nextId = 1;

  constructor() {
    this.worker.on('message', ({ id, message }: { id: number; message: FromPipeThread }) => this.children.get(id)?.received(message));
    this.worker.on('error', (error) => this.died(error.message));
    this.worker.on('exit', (code) => this.died(`it exited with code ${code}`));
    this.worker.unref();
  }

  add(child: PipedFfmpeg, spec: PipeChildSpec): number {
    const id = this.nextId++;
    if (this.children.size === 0) this.worker.ref();
    this.children.set(id, child);
    this.worker.postMessage({ id, message: { type: 'start', spec } });
    return id;
  }

  remove(id: number): void {
    if (this.children.delete(id) && this.children.size === 0) this.worker.unref();
  }

  post(id: number, message: ToPipeThread, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage({ id, message }, transfer);
  }

  /** Every child fails, and the next one starts a new thread. */
  private died(why: string): void {
    if (thread === this) thread = undefined;
    const children = [...this.children.values()];
    this.children.clear();
    for (const child of children) child.threadDied(why);
  }
}

let thread: PipeThread | undefined;

/** The pipe thread while one runs (tools and tests that watch or stop it); undefined before the first child. */
export function pipeThreadWorker(): Worker | undefined {
  return thread?.worker;
}

/** An ffmpeg child with its pipes on their own thread; see the file's comment. */
export class PipedFfmpeg {
  /** The thread serving the pipes, and this child's id there. */
  private readonly thread: PipeThread;
  private readonly id: number;
  /**
   * Resolves once ffmpeg has exited and every frame and log line it gave has arrived here; rejects
   * when it could not be started (`usage`) or the pipe thread died (`internal`, ffmpeg killed).
   */
  readonly exit: Promise<ExitStatus>;
  /** Resolves once ffmpeg is running (or has failed to start, which `exit` then says). */
  readonly spawned: Promise<void>;
  /** Bytes of a partial frame at the end of stdout, once it ended. */
  tailBytes = 0;
  private exited = false;
  private pid: number | undefined;
  private readonly frames: PipedFrame[] = [];
  private readEnded = false;
  /** With `latest`: a frame was asked for and has not come yet. */
  private asked = false;
  private failure: LiveswapError | undefined;
  private writeBroken = false;
  private readonly free: number[] = [];
  private readonly ring: Uint8Array | undefined;
  private waiters: (() => void)[] = [];
  private settle!: { resolve: (status: ExitStatus) => void; reject: (error: LiveswapError) => void };
  private markSpawned!: () => void;

  constructor(private readonly options: PipedFfmpegOptions) {
    const { read, write } = options;
    const shared = write ? new SharedArrayBuffer(write.frameBytes * write.queue) : undefined;
    if (write) for (let slot = write.queue - 1; slot >= 0; slot--) this.free.push(slot);
    this.ring = shared ? new Uint8Array(shared) : undefined;
    const spec: PipeChildSpec = {
      binary: options.binary,
      args: options.args,
      ...(read ? { read: { frameBytes: read.frameBytes, ahead: read.latest ? 1 : read.ahead, latest: read.latest ?? false, planar: read.planar } } : {}),
      audio: options.audio !== undefined,
      ...(options.audioIn ? { audioIn: true } : {}),
      ...(options.onProgress ? { progress: true } : {}),
      detached: options.detached ?? false,
      ...(write && shared ? { write: { frameBytes: write.frameBytes, slots: write.queue, shared } } : {}),
    };
    this.exit = new Promise<ExitStatus>((resolve, reject) => (this.settle = { resolve, reject }));
    this.exit.catch(() => undefined);
    this.spawned = new Promise<void>((resolve) => (this.markSpawned = resolve));
    void this.exit.finally(() => this.markSpawned()).catch(() => undefined);
    thread ??= new PipeThread();
    this.thread = thread;
    this.id = thread.add(this, spec);
  }

  /** Whether ffmpeg has exited (or could not start). */
  get done(): boolean {
    return this.exited;
  }

  /**
   * The next frame of stdout, in order (with `latest`: the newest read, asked for now); undefined
   * once it ended. Throws if the pipe thread died.
   */
  async nextFrame(): Promise<PipedFrame | undefined> {
    const latest = this.options.read?.latest ?? false;
    if (latest && this.frames.length === 0 && !this.asked && !this.readEnded) {
      // The thread sends a frame only when asked, so the one it sends is the newest it has.
      this.asked = true;
      this.send({ type: 'taken' });
    }
    for (;;) {
      const frame = this.frames.shift();
      if (frame) {
        if (!latest) this.send({ type: 'taken' });
        return frame;
      }
      if (this.failure) throw this.failure;
      if (this.readEnded) return undefined;
      await this.changed();
    }
  }

  /**
   * Queues a frame for stdin: resolves once its bytes are copied into the ring (the caller may then
   * reuse them), waiting while the ring is full. Throws once ffmpeg has stopped taking frames.
   */
  async write(bytes: Uint8Array): Promise<void> {
    await this.queueFrame(bytes);
  }

  /**
   * Queues a frame for stdin `times` times over (one copy into the ring), waiting at most
   * `waitMs` for room (default: as long as it takes). Resolves whether it was queued; throws once
   * ffmpeg has stopped taking frames.
   */
  async queueFrame(bytes: Uint8Array | Uint8ClampedArray, options: { times?: number; waitMs?: number } = {}): Promise<boolean> {
    const frameBytes = this.options.write!.frameBytes;
    const deadline = options.waitMs === undefined ? undefined : performance.now() + options.waitMs;
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.writeBroken || this.exited) throw new Error('ffmpeg exited');
      const slot = this.free.pop();
      if (slot !== undefined) {
        this.ring!.set(bytes.subarray(0, frameBytes), slot * frameBytes);
        this.send({ type: 'write', slot, ...(options.times !== undefined && options.times !== 1 ? { times: options.times } : {}) });
        return true;
      }
      if (deadline === undefined) await this.changed();
      else {
        const left = deadline - performance.now();
        if (left <= 0) return false;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.changed(), new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
        clearTimeout(timer);
      }
    }
  }

  /** Frames queued in the ring and not yet in ffmpeg's pipe. */
  get queued(): number {
    return (this.options.write?.queue ?? 0) - this.free.length;
  }

  /** Sends PCM to fd 3 (with `audioIn`); the bytes are copied to the pipe thread. */
  writeAudio(pcm: Uint8Array): void {
    if (this.exited) return;
    this.send({ type: 'audio-in', chunk: pcm });
  }

  /** Closes fd 3 (with `audioIn`): no more sound comes. */
  endAudio(): void {
    if (this.exited) return;
    this.send({ type: 'end-audio-in' });
  }

  /** Resolves once every queued frame is in ffmpeg's pipe (or ffmpeg has stopped). */
  async flushed(): Promise<void> {
    while (this.free.length < (this.options.write?.queue ?? 0) && !this.exited && !this.writeBroken && !this.failure) await this.changed();
  }

  /** Closes stdin once the frames queued are written: ffmpeg finishes the output. */
  endInput(): void {
    this.send({ type: 'end-input' });
  }

  /**
   * Gives a frame's buffer back for a later frame of stdout to be read into (not with `latest`),
   * so the pipe thread need not allocate, zero and fault in a new one per frame: at 1280×720 RGB
   * about 0.7 ms of its CPU a frame, and less garbage for V8 to collect. The buffer is moved (the
   * array is empty afterwards); one of another size, a view or shared memory is left alone.
   * Returns whether it was taken.
   */
  recycle(data: Uint8ClampedArray): boolean {
    const read = this.options.read;
    if (!read || read.latest || this.exited || this.readEnded) return false;
    const buffer = data.buffer;
    if (!(buffer instanceof ArrayBuffer) || data.byteOffset !== 0 || data.byteLength !== read.frameBytes || buffer.byteLength !== read.frameBytes) return false;
    this.thread.post(this.id, { type: 'recycle', data: buffer }, [buffer]);
    return true;
  }

  /** Stops ffmpeg (SIGKILL unless told otherwise); `exit` resolves once it is gone. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exited) return;
    this.send({ type: 'kill', signal });
  }

  private send(message: ToPipeThread): void {
    this.thread.post(this.id, message);
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** A message of the pipe thread about this child. */
  received(message: FromPipeThread): void {
    switch (message.type) {
      case 'spawned':
        this.pid = message.pid;
        this.markSpawned();
        return;
      case 'stderr':
        this.options.onStderr(Buffer.from(message.chunk.buffer, message.chunk.byteOffset, message.chunk.byteLength));
        return;
      case 'audio':
        this.options.audio?.onData(Buffer.from(message.chunk.buffer, message.chunk.byteOffset, message.chunk.byteLength));
        return;
      case 'audio-end':
        this.options.audio?.onEnd();
        return;
      case 'progress':
        this.options.onProgress?.(message.text);
        return;
      case 'frame':
        this.asked = false;
        this.frames.push({
          data: new Uint8ClampedArray(message.data),
          index: message.index,
          dropped: message.dropped,
          arrivedAt: message.at - performance.timeOrigin,
        });
        break;
      case 'written':
        this.free.push(message.slot);
        if (!message.ok) this.writeBroken = true;
        break;
      case 'end':
        this.tailBytes = message.tail;
        this.readEnded = true;
        break;
      case 'spawn-error': {
        const binary = this.options.binary;
        this.finish();
        this.settle.reject(new LiveswapError('usage', `Cannot run ffmpeg at ${binary}: ${message.message}`, { file: binary }));
        break;
      }
      case 'exit':
        this.finish();
        this.settle.resolve({ code: message.code, signal: message.signal });
        break;
    }
    this.notify();
  }

  /** ffmpeg is gone: the thread no longer serves it. */
  private finish(): void {
    if (this.exited) return;
    this.exited = true;
    this.readEnded = true;
    this.thread.remove(this.id);
  }

  /** The pipe thread died before ffmpeg exited: ffmpeg is killed, and every wait fails with why. */
  threadDied(why: string): void {
    if (this.exited) return;
    this.failure = new LiveswapError('internal', `The thread moving ffmpeg's frames (${this.options.what}) stopped: ${why}. ffmpeg was stopped; nothing was saved.`);
    if (this.pid !== undefined) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    this.exited = true;
    this.readEnded = true;
    this.settle.reject(this.failure);
    this.notify();
  }
}

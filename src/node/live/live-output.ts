/**
 * One output of a live run: an ffmpeg encoder fed raw frames on stdin and the input's sound on
 * fd 3, its pipes served by the pipe thread (ffmpeg-pipes.ts), so handing a frame over is one copy
 * into a small ring and the main thread goes back to swapping while ffmpeg takes it. Frames go in
 * at a constant rate by their slot on the input's timeline: slots the input dropped are filled with
 * the frame before (so the picture keeps the sound's time), and the sound starts at the slot the
 * encoder starts at. A pushed stream (RTMP, SRT) that drops is started again with growing waits,
 * without stopping the other outputs. Every encoder is waited for when its ring is full, so the
 * picture keeps the sound's time, except a pushed stream stalled for more than a second (the
 * network), which then skips frames (counted) rather than hold the others up. A recording is
 * written under another name and renamed into place when the stream ends cleanly.
 */

import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { describeExit, StderrTail, type ExitStatus } from '../media/ffmpeg-binary.js';
import { PipedFfmpeg } from '../media/ffmpeg-pipes.js';
import type { VideoPreset } from '../media/ffmpeg-formats.js';
import { LIVE_AUDIO, liveEncoderArgs, type LiveEncodePlan } from './live-args.js';
import { shortOutputName, type LiveOutput } from './live-spec.js';

/** Where an output stands: starting, sending, waiting to try again, stopped by a failure, done. */
export type OutputState = 'starting' | 'live' | 'reconnecting' | 'failed' | 'finished';

/** Frames waiting for an encoder at most (the pipe thread's ring); beyond, the run waits (a pushed stream stalled for STALL_MS skips). */
export const MAX_QUEUED_FRAMES = 3;

/** How long a pushed stream's encoder is waited for before it counts as stalled (ms). */
export const STALL_MS = 1000;

/** The waits between tries to start a dropped stream again: doubling from `firstMs` up to `maxMs`. */
export interface Backoff {
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { firstMs: 1000, maxMs: 30_000 };

/** The wait before try `attempt` (1, 2, …). */
export function backoffDelay(backoff: Backoff, attempt: number): number {
  return Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.max(0, attempt - 1));
}

/** What the status line shows of an output. */
export interface OutputStatus {
  name: string;
  kind: LiveOutput['kind'];
  state: OutputState;
  /** Frames handed to the encoder (repeats that fill dropped slots included). */
  frames: number;
  /** Frames skipped because the encoder was behind. */
  skipped: number;
  reconnects: number;
  /** The last failure, in words. */
  error?: string;
}

export interface LiveOutputOptions {
  ffmpegPath: string;
  width: number;
  height: number;
  fps: number;
  audio: boolean;
  audioDelayMs: number;
  preset: VideoPreset;
  crf: number;
  backoff?: Backoff;
  /** The input's sound of the last seconds, by first sample: a new encoder takes it from its first frame's time. */
  heldAudio?: () => readonly { first: number; pcm: Buffer }[];
  /** Said when the output changes state (dropped, reconnected). */
  onEvent?: (message: string) => void;
}

/** A place frames go to (the ffmpeg outputs, or a caller's own). */
export interface LiveSink {
  readonly status: OutputStatus;
  /** Takes the frame for `slot` (the caller does not change `image` afterwards); resolves when it may be given another. */
  write(image: Image, slot: number): Promise<void>;
  /** The input's sound, from sample `firstSample` on (48 kHz stereo s16le). */
  audio(pcm: Buffer, firstSample: number): void;
  /** The input's sound has ended: no more comes. */
  endAudio(): void;
  /** Ends the output cleanly (a recording is finished and put in place). */
  finish(): Promise<void>;
  /** Stops at once; a recording is left under its working name, playable up to where it stopped. */
  abort(): Promise<void>;
}

/** The working name of a recording: hidden, beside it, with the pid (and not a temporary the tidy-up removes: a crash keeps it). */
export function recordingWorkPath(path: string, pid = process.pid): string {
  return join(dirname(path), `.liveswap.recording-${pid}.${basename(path)}`);
}

interface Encoder {
  child: PipedFfmpeg;
  /** Whether it takes the sound on fd 3. */
  audio: boolean;
  stderr: StderrTail;
  /** The slot its first frame had. */
  firstSlot: number;
  /** The next slot it expects. */
  nextSlot: number;
  /** The next sample of sound it expects. */
  nextSample: number;
  /** Bytes written so far, as its progress reports them: > 0 once it is sending. */
  sent: number;
  ending: boolean;
  /** Since when its ring has been full (performance.now()), while it is. */
  fullSince: number | undefined;
}

const BYTES_PER_SAMPLE = LIVE_AUDIO.channels * LIVE_AUDIO.bytesPerSample;

/** An output written by ffmpeg: RTMP, SRT, a recording, a v4l2 device. */
export class FfmpegOutput implements LiveSink {
  readonly status: OutputStatus;
  private encoder: Encoder | undefined;
  private last: Uint8ClampedArray | Uint8Array | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private closed = false;
  /** Rejects when the first encoder fails before it sent anything: the run cannot start with this output. */
  private readonly started: Promise<void>;
  private startedResolve!: () => void;
  private startedReject!: (error: LiveswapError) => void;
  private everStarted = false;
  /** Why the first encoder failed before it sent anything, once it has. */
  startError: LiveswapError | undefined;
  private audioEnded = false;
  /** Where the next encoder starts on the timeline. */
  private slot = 0;
  /** Where a recording is written until it is finished. */
  readonly workPath: string | undefined;

  constructor(
    readonly output: LiveOutput,
    private readonly options: LiveOutputOptions,
  ) {
    this.status = { name: shortOutputName(output), kind: output.kind, state: 'starting', frames: 0, skipped: 0, reconnects: 0 };
    this.workPath = output.kind === 'file' ? recordingWorkPath(output.path) : undefined;
    this.started = new Promise((resolve, reject) => {
      this.startedResolve = resolve;
      this.startedReject = reject;
    });
    this.started.catch(() => undefined);
  }

  /** Whether a dropped output is started again (pushed streams only). */
  private get reconnects(): boolean {
    return this.output.kind === 'rtmp' || this.output.kind === 'srt';
  }

  /** Resolves once the output is sending (its encoder wrote its first bytes); rejects if it failed first. */
  whenStarted(): Promise<void> {
    return this.started;
  }

  private plan(): LiveEncodePlan {
    const o = this.options;
    return {
      output: this.output,
      ...(this.workPath !== undefined ? { writeTo: this.workPath } : {}),
      width: o.width,
      height: o.height,
      fps: o.fps,
      audio: o.audio,
      audioDelayMs: o.audioDelayMs,
      preset: o.preset,
      crf: o.crf,
    };
  }

  private spawnEncoder(firstSlot: number): Encoder {
    const audio = this.options.audio && this.output.kind !== 'v4l2';
    const stderr = new StderrTail();
    // The encoder is made once its child is: the progress lines find it through this.
    const made: { encoder?: Encoder } = {};
    const child = new PipedFfmpeg({
      binary: this.options.ffmpegPath,
      args: liveEncoderArgs(this.plan()),
      write: { frameBytes: this.frameBytes, queue: MAX_QUEUED_FRAMES },
      audioIn: audio,
      onProgress: (text) => {
        const encoder = made.encoder;
        if (!encoder) return;
        for (const match of text.matchAll(/^total_size=(\d+)/gm)) encoder.sent = Math.max(encoder.sent, Number(match[1]));
        if (encoder.sent > 0 && this.encoder === encoder && this.status.state === 'starting') this.becameLive();
      },
      detached: true,
      onStderr: (chunk) => stderr.push(chunk),
      what: `sending to ${this.status.name}`,
    });
    const encoder: Encoder = {
      child,
      audio,
      stderr,
      firstSlot,
      nextSlot: firstSlot,
      nextSample: Math.floor((firstSlot * LIVE_AUDIO.sampleRate) / this.options.fps),
      sent: 0,
      ending: false,
      fullSince: undefined,
    };
    made.encoder = encoder;
    void child.exit.then(
      (status) => this.exited(encoder, status),
      // It could not be started (no ffmpeg there), or the pipe thread died: said as an exit with the message.
      (error: unknown) => {
        stderr.push(Buffer.from(error instanceof Error ? error.message : String(error)));
        this.exited(encoder, { code: null, signal: null });
      },
    );
    if (this.audioEnded && audio) child.endAudio();
    return encoder;
  }

  private becameLive(): void {
    this.status.state = 'live';
    if (this.attempts > 0) this.options.onEvent?.(`${this.status.name}: sending again.`);
    this.attempts = 0;
    if (!this.everStarted) {
      this.everStarted = true;
      this.startedResolve();
    }
  }

  private exited(encoder: Encoder, status: ExitStatus): void {
    if (this.encoder !== encoder) return;
    this.encoder = undefined;
    if (encoder.ending && status.code === 0) return;
    const why = `${describeExit(status)}: ${encoder.stderr.lastLines(2) || 'no message'}`;
    this.status.error = why;
    if (!this.everStarted && encoder.sent === 0) {
      this.startError = new LiveswapError('output', `Cannot send to ${this.status.name}: ffmpeg stopped with ${why}.`, { file: this.status.name });
      this.status.state = 'failed';
      this.startedReject(this.startError);
      return;
    }
    if (this.closed) return;
    if (!this.reconnects) {
      this.status.state = 'failed';
      this.options.onEvent?.(`${this.status.name} stopped (${why}); the other outputs go on.`);
      return;
    }
    this.status.state = 'reconnecting';
    this.attempts++;
    const wait = backoffDelay(this.options.backoff ?? DEFAULT_BACKOFF, this.attempts);
    this.options.onEvent?.(`${this.status.name} dropped (${why}); trying again in ${(wait / 1000).toFixed(0)} s.`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.status.reconnects++;
      this.status.state = 'starting';
      this.encoder = this.spawnEncoder(this.slot);
      this.replayAudio();
    }, wait);
  }

  /** Frame bytes of one frame. */
  private get frameBytes(): number {
    return this.options.width * this.options.height * 3;
  }

  async write(image: Image, slot: number): Promise<void> {
    const frame = image.data;
    if (this.closed) return;
    if (!this.encoder && this.status.state === 'starting' && !this.everStarted && this.attempts === 0 && this.status.reconnects === 0) {
      this.encoder = this.spawnEncoder(slot);
      this.replayAudio();
    }
    this.slot = slot + 1;
    const encoder = this.encoder;
    if (!encoder || encoder.ending || encoder.child.done) {
      this.last = frame;
      return;
    }
    // A pushed stream whose encoder has taken nothing for STALL_MS (the network) skips frames instead of holding up the rest.
    let waitMs: number | undefined;
    if (this.reconnects) {
      const now = performance.now();
      if (encoder.child.queued < MAX_QUEUED_FRAMES) encoder.fullSince = undefined;
      else encoder.fullSince ??= now;
      waitMs = encoder.fullSince === undefined ? STALL_MS : Math.max(0, STALL_MS - (now - encoder.fullSince));
    }
    const wait = waitMs !== undefined ? { waitMs } : {};
    try {
      // Slots the input dropped keep the frame before them on screen, so the picture keeps the sound's time.
      const fills = slot - encoder.nextSlot;
      if (fills > 0 && this.last) {
        if (!(await encoder.child.queueFrame(this.last, { times: fills, ...wait }))) return this.skip(encoder, frame, slot);
        this.status.frames += fills;
        encoder.nextSlot = slot;
      }
      // Without a frame before (the encoder's first), this frame fills its own earlier slots.
      const times = 1 + Math.max(0, slot - encoder.nextSlot);
      if (!(await encoder.child.queueFrame(frame, { times, ...wait }))) return this.skip(encoder, frame, slot);
      this.status.frames += times;
      encoder.nextSlot = slot + 1;
      encoder.fullSince = undefined;
    } catch {
      // The encoder stopped taking frames: its exit says why (and a pushed stream is started again).
    }
    this.last = frame;
  }

  /** A pushed stream behind for over STALL_MS: this frame is skipped (its slot is filled later by the frame before). */
  private skip(encoder: Encoder, frame: Uint8ClampedArray | Uint8Array, slot: number): void {
    encoder.fullSince ??= performance.now();
    this.status.skipped++;
    encoder.nextSlot = slot + 1;
    this.last = frame;
  }

  /** Gives a new encoder the sound held from its first frame's time on. */
  private replayAudio(): void {
    for (const chunk of this.options.heldAudio?.() ?? []) this.audio(chunk.pcm, chunk.first);
  }

  endAudio(): void {
    this.audioEnded = true;
    if (this.encoder?.audio) this.encoder.child.endAudio();
  }

  audio(pcm: Buffer, firstSample: number): void {
    const encoder = this.encoder;
    if (!encoder?.audio || encoder.ending || this.audioEnded) return;
    const end = firstSample + pcm.length / BYTES_PER_SAMPLE;
    if (end <= encoder.nextSample) return;
    // The encoder's sound starts where its first frame is on the timeline.
    const skip = Math.max(0, encoder.nextSample - firstSample) * BYTES_PER_SAMPLE;
    encoder.child.writeAudio(skip > 0 ? pcm.subarray(skip) : pcm);
    encoder.nextSample = end;
  }

  /** Ends the encoder (stdin closed, it writes what it has); a recording is then put in place. */
  async finish(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const encoder = this.encoder;
    if (encoder) {
      encoder.ending = true;
      if (encoder.audio && !this.audioEnded) encoder.child.endAudio();
      encoder.child.endInput();
      const timer = setTimeout(() => encoder.child.kill('SIGKILL'), 20_000);
      const status = await encoder.child.exit.catch((): ExitStatus => ({ code: null, signal: null }));
      clearTimeout(timer);
      if (status.code !== 0 && this.output.kind === 'file') {
        throw new LiveswapError(
          'output',
          `The recording ${this.output.path} could not be finished: ffmpeg stopped with ${describeExit(status)} (${encoder.stderr.lastLines(2)}).`,
          {
            file: this.output.path,
          },
        );
      }
    }
    if (this.status.state !== 'failed') this.status.state = 'finished';
    if (this.output.kind === 'file' && this.workPath !== undefined) {
      if (this.status.frames === 0) await rm(this.workPath, { force: true });
      else await rename(this.workPath, this.output.path);
    }
  }

  async abort(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const encoder = this.encoder;
    this.encoder = undefined;
    if (encoder) {
      encoder.ending = true;
      encoder.child.kill('SIGKILL');
      await encoder.child.exit.catch(() => undefined);
    }
    if (this.status.state !== 'failed') this.status.state = 'finished';
    // Nothing was written to it: the working file is only an empty header.
    if (this.workPath !== undefined && this.status.frames === 0) await rm(this.workPath, { force: true });
  }
}

/**
 * The input of a live run: what it holds (size, rate, sound), found before anything starts, and
 * the one decoder that reads it. Frames are taken freshest first: the decoder's pipe is read as
 * fast as it fills, on the pipe thread (see ffmpeg-pipes.ts, so ffmpeg decodes while the swap
 * runs), and a frame that arrives while the previous one is still waiting replaces it (the older
 * one is counted as dropped), so never more than one frame waits. Each frame keeps its place on the
 * input's timeline (its slot: frame k of a constant rate), so outputs can hold the timeline through
 * drops. The sound comes as PCM, passed on as it arrives.
 */

import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { checkIsFfmpeg, childExit, describeExit, lastLines, StderrTail } from '../media/ffmpeg-binary.js';
import { parseInputInfo, parseVideoStream, probeVideo } from '../media/ffmpeg-probe.js';
import { PipedFfmpeg } from '../media/ffmpeg-pipes.js';
import { liveDecoderArgs, liveProbeArgs, type CameraRequest } from './live-args.js';
import { describeInput, type LiveInput } from './live-spec.js';

/** What the input holds, as the decoder will give it. */
export interface LiveInputInfo {
  /** Size of the frames as shown. */
  width: number;
  height: number;
  /** Frames per second (the stream's own, or what the camera delivers). */
  fps: number;
  hasAudio: boolean;
}

export interface ProbeLiveOptions {
  ffmpegPath: string;
  camera?: CameraRequest;
  /** How long a stream may take to show what it holds (ms); default 15 s. */
  timeoutMs?: number;
}

/** Finds out what `input` holds: a file's probe, or what ffmpeg says when it opens the stream or camera. */
export async function probeLiveInput(input: LiveInput, options: ProbeLiveOptions): Promise<LiveInputInfo> {
  if (input.kind === 'file') {
    const info = await probeVideo(input.path, { ffmpegPath: options.ffmpegPath });
    return { width: info.width, height: info.height, fps: info.fps, hasAudio: info.hasAudio };
  }
  if (input.kind === 'camera') await checkCamera(input);
  const name = describeInput(input);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const child = spawn(options.ffmpegPath, liveProbeArgs(input, options.camera), { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr = new StderrTail(1 << 20);
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  try {
    await childExit(child, options.ffmpegPath);
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) {
    throw new LiveswapError('input-unreadable', `Nothing came from ${name} within ${Math.round(timeoutMs / 1000)} s: is the stream being published, and is the address right?`);
  }
  const parsed = parseInputInfo(stderr.text());
  if (parsed.container === undefined) {
    await checkIsFfmpeg({ ffmpegPath: options.ffmpegPath });
    throw openError(input, stderr.text());
  }
  const video = parsed.streams.find((s) => s.type === 'Video');
  const facts = video ? parseVideoStream(video.description) : undefined;
  if (!facts) throw new LiveswapError('input-unsupported', `${name} carries no video ffmpeg can read${video ? ` ("${video.description}")` : ''}.`);
  const rotation = video?.rotation ?? 0;
  const turned = rotation === 90 || rotation === 270;
  return {
    width: turned ? facts.height : facts.width,
    height: turned ? facts.width : facts.height,
    fps: facts.fps ?? options.camera?.fps ?? 30,
    hasAudio: parsed.streams.some((s) => s.type === 'Audio'),
  };
}

/** A v4l2 device that is not there is said plainly, before ffmpeg tries it. */
async function checkCamera(input: Extract<LiveInput, { kind: 'camera' }>): Promise<void> {
  if (input.api !== 'v4l2') return;
  try {
    await access(input.device, constants.R_OK);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LiveswapError(
      missing ? 'input-missing' : 'input-unreadable',
      missing
        ? `There is no camera at ${input.device}. \`liveswap live --list-devices\` lists the cameras this machine has.`
        : `Cannot read the camera ${input.device}: ${(cause as Error).message}. Is your user in the "video" group?`,
      { file: input.device, cause },
    );
  }
}

/** Why ffmpeg could not open a stream or camera, in words. */
function openError(input: LiveInput, stderr: string): LiveswapError {
  const name = describeInput(input);
  const last = lastLines(stderr, 3) || 'no message';
  if (/Connection refused/i.test(stderr)) return new LiveswapError('input-unreadable', `Cannot connect to ${name}: the connection was refused (is the server running?).`);
  if (/Protocol not found|Protocol not supported/i.test(stderr)) {
    return new LiveswapError('input-unsupported', `This ffmpeg cannot read ${name}: it was built without that protocol (ffmpeg: ${last}). Point --ffmpeg at one that has it.`);
  }
  if (/404|Not Found|No such file/i.test(stderr)) return new LiveswapError('input-missing', `Nothing is at ${name} (ffmpeg: ${last}).`);
  return new LiveswapError('input-unreadable', `Cannot read ${name} (ffmpeg: ${last}).`);
}

/** One decoded frame and where it belongs on the input's timeline. */
export interface LiveFrame {
  image: Image;
  /** Frame k of the decoder's constant rate: its time is slot / fps. */
  slot: number;
  /** When its last byte arrived (performance.now()). */
  arrivedAt: number;
}

export interface LiveDecoderOptions {
  ffmpegPath: string;
  input: LiveInput;
  camera?: CameraRequest;
  width: number;
  height: number;
  fps: number;
  audio: boolean;
  /** Each piece of the input's sound (48 kHz stereo s16le), as it arrives. */
  onAudio?: (pcm: Buffer) => void;
  /** The input's sound has ended. */
  onAudioEnd?: () => void;
}

/** Counts of the decoder: frames read, frames replaced by a fresher one before they were taken. */
export interface DecoderStats {
  decoded: number;
  dropped: number;
  /** The most frames ever waiting at once (1 by construction; reported so a figure shows it). */
  maxWaiting: number;
}

/**
 * The decoder of a live run. `next()` gives the freshest frame not yet taken (waiting for one when
 * none is there), or undefined once the input has ended; the end of a stream that failed throws.
 */
export class LiveDecoder {
  readonly stats: DecoderStats = { decoded: 0, dropped: 0, maxWaiting: 0 };
  private child!: PipedFfmpeg;
  /** Whether the decoder was started again with a longer look at a stream whose video came late. */
  private patient = false;
  private readonly stderr = new StderrTail();
  private ended = false;
  private failure: LiveswapError | undefined;
  private stopping = false;

  constructor(private readonly options: LiveDecoderOptions) {
    this.start();
  }

  private start(): void {
    const options = this.options;
    const args = liveDecoderArgs({
      input: options.input,
      ...(options.camera ? { camera: options.camera } : {}),
      width: options.width,
      height: options.height,
      fps: options.fps,
      audio: options.audio,
      patient: this.patient,
    });
    this.child = new PipedFfmpeg({
      binary: options.ffmpegPath,
      args,
      read: { frameBytes: options.width * options.height * 3, ahead: 1, latest: true },
      ...(options.audio
        ? {
            audio: {
              onData: (chunk: Buffer) => options.onAudio?.(chunk),
              onEnd: () => {
                if (!this.restarting) options.onAudioEnd?.();
              },
            },
          }
        : {}),
      detached: true,
      onStderr: (chunk) => this.stderr.push(chunk),
      what: `reading ${describeInput(options.input)}`,
    });
    void this.watch(this.child);
  }

  /** Set while a decoder that saw no video in its short look is replaced by a patient one. */
  private restarting = false;

  /** The freshest frame not yet taken; undefined when the input ended. */
  async next(): Promise<LiveFrame | undefined> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.ended) return undefined;
      const child = this.child;
      const frame = await child.nextFrame().catch((error: unknown) => {
        this.finish(error instanceof LiveswapError ? error : new LiveswapError('internal', String(error)));
        return undefined;
      });
      if (frame) {
        const { width, height } = this.options;
        this.stats.decoded = frame.index + 1;
        this.stats.dropped = frame.dropped;
        this.stats.maxWaiting = 1;
        return { image: { width, height, channels: 3, data: frame.data }, slot: frame.index, arrivedAt: frame.arrivedAt };
      }
      // This decoder has ended: wait for what its exit means (the end, a failure, or a patient restart).
      if (this.child === child) await child.exit.catch(() => undefined);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Stops ffmpeg (the input is let go) and waits for it to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await child.exit.catch(() => undefined);
    clearTimeout(timer);
    this.finish();
  }

  private finish(failure?: LiveswapError): void {
    if (failure && !this.failure) this.failure = failure;
    this.ended = true;
  }

  /** What the decoder's exit means: the end of the input, a failure, or a second, patient look. */
  private async watch(child: PipedFfmpeg): Promise<void> {
    const status = await child.exit.catch((error: unknown) => error as LiveswapError);
    if (this.child !== child) return;
    if ('code' in status && (status.code === 0 || this.stopping)) {
      this.finish();
      return;
    }
    // A stream whose first video packet came after the short low-latency look: look longer, once.
    if (!this.patient && this.stats.decoded === 0 && this.options.input.kind === 'url' && /matches no streams/.test(this.stderr.text())) {
      this.patient = true;
      this.restarting = true;
      this.start();
      this.restarting = false;
      return;
    }
    const how = 'code' in status ? describeExit(status) : status.message;
    this.finish(
      new LiveswapError(
        'input-unreadable',
        `Reading ${describeInput(this.options.input)} stopped: ${'code' in status ? 'ffmpeg ended with ' : ''}${how} (${this.stderr.lastLines(3) || 'no message'}).`,
      ),
    );
  }
}

/**
 * `liveswap live` as a job. Plan: every cheap check before a model loads or a connection is made
 * (the outputs named, recording folders writable, a v4l2 device present, the source photos read,
 * ffmpeg resolved once, the input opened and described, the marks prepared). Run: open the
 * engine, make the identity, write the session's audit line, stream until the input ends or the
 * signal aborts, and log each finished recording. Marks (label and watermark) are on every frame
 * of every output unless the user chose --no-label; the watermark is always on.
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import type { SwapOptions, TrackingOptions } from '../../pipeline/options.js';
import { WATERMARK_VERSION } from '../../provenance/payload.js';
import { checkOutputPath } from '../files/output.js';
import { sha256File } from '../files/hash.js';
import { ffmpegPath as resolveFfmpegPath, runFfmpeg } from '../media/ffmpeg-binary.js';
import type { VideoPreset } from '../media/ffmpeg-formats.js';
import { readImage } from '../media/image-io.js';
import { defaultHome } from '../models/model-cache.js';
import { appendAudit, auditEntry, labelOptionsFrom, startProvenance, type AuditEntry, type OutputProvenance, type ProvenanceChoices } from '../provenance/output-provenance.js';
import { openNodeSwapper, type JobRuntime, type OpenSwapper } from '../jobs/image-job.js';
import { frameEngineOf } from '../jobs/video-swap.js';
import type { CameraRequest } from './live-args.js';
import { checkV4l2Output } from './live-devices.js';
import { probeLiveInput, type LiveInputInfo } from './live-input.js';
import type { LiveSink } from './live-output.js';
import { runLive, type LiveRunOptions, type LiveStatus, type LiveSummary } from './live-run.js';
import { describeInput, describeOutput, type LiveInput, type LiveOutput } from './live-spec.js';

export interface LiveJobSpec {
  sources: readonly string[];
  input: LiveInput;
  outputs: readonly LiveOutput[];
  paint: SwapOptions;
  tracking: TrackingOptions;
  marks: ProvenanceChoices;
  runtime?: JobRuntime;
  ffmpegPath?: string;
  home?: string;
  /** Frame size worked at and sent; default the input's. */
  size?: { width: number; height: number };
  /** Constant frame rate; default the input's. */
  fps?: number;
  audio: boolean;
  audioDelayMs: number;
  preset: VideoPreset;
  crf: number;
  /** The adaptive controller's target; undefined: the stream's rate; 0: off. */
  targetFps?: number;
  /** How long a stream may take to show what it holds (ms). */
  inputTimeoutMs?: number;
}

export interface LiveJobPlan {
  spec: LiveJobSpec;
  ffmpegPath: string;
  info: LiveInputInfo;
  width: number;
  height: number;
  fps: number;
  /** The input has sound and it is kept. */
  audio: boolean;
  sourceImages: Image[];
  provenance: OutputProvenance;
  home: string;
  camera: CameraRequest;
  notices: string[];
}

/** The protocols an ffmpeg build has, for a clear error before an srt:// output is tried. */
async function ffmpegProtocols(ffmpegPath: string): Promise<Set<string>> {
  const run = await runFfmpeg(['-protocols'], { ffmpegPath });
  return new Set(
    run.stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^[a-z0-9_]+$/.test(line)),
  );
}

function needsSrt(spec: LiveJobSpec): boolean {
  return (spec.input.kind === 'url' && spec.input.protocol === 'srt') || spec.outputs.some((o) => o.kind === 'srt');
}

/** Every cheap check, before any model loads. */
export async function planLiveJob(spec: LiveJobSpec): Promise<LiveJobPlan> {
  if (spec.sources.length === 0) throw new LiveswapError('usage', "required option '-s, --source <file>' not specified");
  const ffmpegPath = resolveFfmpegPath(spec.ffmpegPath !== undefined ? { ffmpegPath: spec.ffmpegPath } : {});
  for (const output of spec.outputs) {
    if (output.kind === 'file') {
      await checkOutputPath(output.path, { inputs: [...spec.sources, ...(spec.input.kind === 'file' ? [spec.input.path] : [])] });
    }
    if (output.kind === 'v4l2') await checkV4l2Output(output.device);
  }
  if (needsSrt(spec) && !(await ffmpegProtocols(ffmpegPath)).has('srt')) {
    throw new LiveswapError(
      'usage',
      `The ffmpeg at ${ffmpegPath} was built without SRT (libsrt). Point --ffmpeg (or LIVESWAP_FFMPEG) at an ffmpeg that lists srt in \`ffmpeg -protocols\`.`,
    );
  }
  const maxPixels = spec.paint.maxPixels;
  const sourceImages: Image[] = [];
  for (const file of spec.sources) sourceImages.push(await readImage(file, { maxPixels }));
  const camera: CameraRequest = { ...(spec.size ? { width: spec.size.width, height: spec.size.height } : {}), ...(spec.fps !== undefined ? { fps: spec.fps } : {}) };
  const info = await probeLiveInput(spec.input, { ffmpegPath, camera, ...(spec.inputTimeoutMs !== undefined ? { timeoutMs: spec.inputTimeoutMs } : {}) });
  const width = even(spec.size?.width ?? info.width);
  const height = even(spec.size?.height ?? info.height);
  if (width * height > maxPixels) {
    throw new LiveswapError('input-too-large', `${describeInput(spec.input)} is ${width}×${height}, over the limit of ${maxPixels} pixels; ask for a smaller --video-size.`);
  }
  const fps = spec.fps ?? roundRate(info.fps);
  const notices: string[] = [];
  if (!info.hasAudio && spec.outputs.some((o) => o.kind !== 'v4l2')) notices.push(`${describeInput(spec.input)} has no sound; the outputs are silent.`);
  if (info.hasAudio && !spec.audio) notices.push('The sound is left out, as asked.');
  const home = spec.home ?? defaultHome();
  const provenance = await startProvenance(home, spec.marks, 'video');
  return { spec, ffmpegPath, info, width, height, fps, audio: info.hasAudio && spec.audio, sourceImages, provenance, home, camera, notices };
}

/** H.264 in 4:2:0 needs even sides. */
function even(value: number): number {
  return Math.max(2, value - (value % 2));
}

/** A rate from a probe, to a hundredth (29.97 stays, 29.999 becomes 30). */
function roundRate(fps: number): number {
  return Math.round(fps * 100) / 100;
}

export interface LiveJobRunOptions {
  open?: OpenSwapper;
  signal?: AbortSignal;
  onStatus?: (status: LiveStatus) => void;
  onEvent?: (message: string) => void;
  /** Said once the engine is open (e.g. the engine `auto` chose). */
  onNotices?: (notices: string[]) => void;
  /** Sinks of the caller's own for some outputs, by index into the outputs. */
  extraSinks?: ReadonlyMap<number, LiveSink>;
  /** Each frame as the processor takes it (see LiveRunOptions.onFrame; for measurements only). */
  onFrame?: LiveRunOptions['onFrame'];
}

export interface LiveJobResult extends LiveSummary {
  engine: string;
  watermarkId: string;
  label: { shown: boolean; text?: string };
  /** The recordings put in place, with their SHA-256 and whether content credentials are embedded. */
  recordings: LiveRecording[];
}

export interface LiveRecording {
  path: string;
  sha256: string;
  credentials: AuditEntry['credentials'];
}

/** Opens the engine, logs the session, streams, and logs each recording once it is in place. */
export async function runLiveJob(plan: LiveJobPlan, options: LiveJobRunOptions = {}): Promise<LiveJobResult> {
  const { spec, provenance } = plan;
  spec.outputs.forEach((output, index) => {
    if ((output.kind === 'page' || output.kind === 'whep') && !options.extraSinks?.has(index)) {
      throw new LiveswapError(
        'usage',
        `The ${output.kind} output is served by whoever runs the stream: pass the sink of its server (startOutputPage, startWhepEndpoint) in extraSinks.`,
      );
    }
  });
  const swapper = await (options.open ?? openNodeSwapper)({ ...(spec.runtime ?? { provider: 'cpu', threads: 1 }), engine: spec.paint.engine });
  try {
    const [first] = plan.sourceImages;
    const identity =
      plan.sourceImages.length === 1 ? await swapper.prepareSource(first!, spec.paint, spec.sources[0]) : await swapper.prepareSources(plan.sourceImages, spec.paint, spec.sources);
    options.onNotices?.([...(swapper.notice ? [swapper.notice] : []), ...identity.notices, ...plan.notices]);
    const sources = await Promise.all(spec.sources.map(async (file) => ({ file: resolve(file), sha256: await sha256File(file) })));
    const target = spec.input.kind === 'file' ? { file: resolve(spec.input.path), sha256: await sha256File(spec.input.path) } : undefined;
    const options_ = {
      ...spec.paint,
      engine: swapper.engine,
      input: describeInput(spec.input),
      outputs: spec.outputs.map(describeOutput),
      width: plan.width,
      height: plan.height,
      fps: plan.fps,
      audio: plan.audio,
    };
    // One line per session, written as it starts: a stream that is never finished is still in the log.
    await appendAudit(
      plan.home,
      auditEntry({
        kind: 'live-session',
        sources,
        ...(target ? { target } : {}),
        watermarkId: provenance.watermarkId,
        label: provenance.label,
        credentials: 'none',
        options: options_,
      }),
    );
    const summary = await runLive({
      ffmpegPath: plan.ffmpegPath,
      input: spec.input,
      info: plan.info,
      camera: plan.camera,
      width: plan.width,
      height: plan.height,
      fps: plan.fps,
      outputs: spec.outputs,
      ...(options.extraSinks ? { extraSinks: options.extraSinks } : {}),
      engine: frameEngineOf(swapper),
      identities: [identity],
      paint: spec.paint,
      tracking: { ...spec.tracking, selection: spec.paint.manyFaces ? { kind: 'all' } : { kind: 'primary' } },
      marks: provenance.marker,
      // The same marks, drawn on a thread of their own while the next frame is painted.
      markSettings: {
        label: spec.marks.label ? labelOptionsFrom(spec.marks) : false,
        watermark: { key: provenance.key.key, payload: { assetId: provenance.assetId, version: WATERMARK_VERSION } },
        media: 'video',
      },
      audio: plan.audio,
      audioDelayMs: spec.audioDelayMs,
      preset: spec.preset,
      crf: spec.crf,
      targetFps: spec.targetFps ?? plan.fps,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onStatus ? { onStatus: options.onStatus } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.onFrame ? { onFrame: options.onFrame } : {}),
    });
    const recordings: LiveRecording[] = [];
    for (const output of spec.outputs) {
      if (output.kind !== 'file') continue;
      const status = summary.outputs.find((o) => o.name === describeOutput(output));
      if (!status || status.frames === 0 || !existsSync(output.path)) continue;
      // Signed where it lies (MP4; a Matroska file takes no manifest) and logged, kept whatever happens.
      const sealed = await provenance.sealRecording(output.path, {
        kind: 'live-recording',
        sources: spec.sources,
        ...(spec.input.kind === 'file' ? { target: spec.input.path } : {}),
        engine: swapper.engine,
        options: { ...options_, frames: status.frames, seconds: Math.round(summary.seconds * 10) / 10 },
      });
      if (sealed.notice) options.onEvent?.(sealed.notice);
      recordings.push({ path: resolve(output.path), sha256: sealed.sha256, credentials: sealed.credentials });
    }
    return { ...summary, engine: swapper.engine, watermarkId: provenance.watermarkId, label: provenance.label, recordings };
  } finally {
    await swapper.close();
  }
}

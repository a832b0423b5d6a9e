/**
 * `liveswap swap` with a video target: flags, progress on the terminal (a bar on a TTY, a line a
 * second otherwise, JSON events with --json) and Ctrl-C (main's signal), which stops cleanly with
 * nothing saved.
 */

import { extname } from 'node:path';
import { invalidOption, LiveswapError } from '../core/errors.js';
import { VIDEO_CODECS, VIDEO_PRESETS, type VideoCodec, type VideoPreset } from '../node/media/ffmpeg-write.js';
import type { JobRuntime, OpenSwapper } from '../node/jobs/image-job.js';
import type { VideoEncoding, VideoPoint, VideoProgress, VideoSwapSummary } from '../node/jobs/video-swap.js';
import type { SwapOptions } from '../pipeline/options.js';
import type { Terminal } from './errors.js';
import { givenFlags, parseNumber, parseWholeNumber, provenanceChoicesFromFlags, trackingOptionsFromFlags, type SwapFlags } from './flags.js';
import { formatProvenance, type ProvenanceSummary } from './summary.js';

/** Extensions read as videos (anything ffmpeg demuxes works; these are the ones recognised by name). */
export const VIDEO_INPUT_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi', '.gif', '.ts', '.mts', '.flv', '.wmv', '.mpg', '.mpeg'] as const;

export function isVideoPath(path: string): boolean {
  return (VIDEO_INPUT_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase());
}

/** A still target given video flags (the table's `videoOnly` rows): say which, rather than ignore them. */
export function rejectVideoFlags(flags: SwapFlags): void {
  const used = givenFlags('swap', flags, (row) => row.videoOnly === true);
  if (used.length > 0) {
    throw new LiveswapError('usage', `${used.map((row) => row.flag).join(', ')} ${used.length === 1 ? 'applies' : 'apply'} to video targets only; ${flags.target} is an image.`);
  }
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

/** "[#######.............]  120/300 frames  24.5 fps  ETA 0:07" */
export function progressLine(p: VideoProgress, width = 24): string {
  const done = p.total > 0 ? Math.min(1, p.frame / p.total) : 0;
  const filled = Math.round(done * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(p.frame).padStart(String(p.total).length)}/${p.total} frames  ${p.fps.toFixed(1)} fps  ETA ${clock(p.etaSeconds)}`;
}

/** The video summary with the marks its output carries. */
export type VideoCommandSummary = VideoSwapSummary & { provenance: ProvenanceSummary };

export function formatVideoSummary(summary: VideoCommandSummary): string {
  const t = summary.timings;
  const fps = summary.frames / Math.max(t.total / 1000, 1e-3);
  return [
    `Swapped faces in ${summary.framesSwapped} of ${summary.frames} frames with the ${summary.engine} engine in ${(t.total / 1000).toFixed(1)} s (${fps.toFixed(1)} fps).`,
    `  input   ${summary.input.width}×${summary.input.height}, ${summary.input.fps} fps${summary.input.variableRate ? ' (variable)' : ''}, ${summary.input.frames} frames, audio ${summary.audio}`,
    `  faces   found in ${summary.framesWithFaces} frames, ${summary.facesSwapped} swapped, detector ran on ${summary.detections} frames`,
    `  times   decode wait ${Math.round(t.decodeWait)}, detect ${Math.round(t.detect)}, track ${Math.round(t.track)}, embed ${Math.round(t.embed)}, paint ${Math.round(t.paint)}, mark ${Math.round(t.mark)}, encode wait ${Math.round(t.encodeWait)} (ms)`,
    formatProvenance(summary.provenance),
    `  output  ${summary.output}`,
  ].join('\n');
}

export interface VideoRunContext {
  terminal: Terminal;
  open: OpenSwapper;
  runtime: JobRuntime;
  options: SwapOptions;
  sources: readonly string[];
  /** Aborted on Ctrl-C or SIGTERM (main installs the handlers); tests pass their own. */
  signal?: AbortSignal;
}

/** Video encoding flags, checked before anything is loaded. */
function encodingFromFlags(flags: SwapFlags, parsePoint: (flag: string, raw: string) => VideoPoint): VideoEncoding {
  const codec = flags.videoEncoder as VideoCodec | undefined;
  if (codec !== undefined && !(VIDEO_CODECS as readonly string[]).includes(codec)) throw invalidOption('--video-encoder', `one of ${VIDEO_CODECS.join(', ')}`, codec);
  const preset = flags.videoPreset as VideoPreset | undefined;
  if (preset !== undefined && !(VIDEO_PRESETS as readonly string[]).includes(preset)) throw invalidOption('--video-preset', `one of ${VIDEO_PRESETS.join(', ')}`, preset);
  const quality = parseWholeNumber('--video-quality', flags.videoQuality);
  if (quality !== undefined && quality > 51) throw invalidOption('--video-quality', 'a whole number from 0 (best) to 51', flags.videoQuality);
  const fps = parseNumber('--fps', flags.fps);
  if (fps !== undefined && !(fps > 0 && fps <= 240)) throw invalidOption('--fps', 'a frame rate above 0 and at most 240', flags.fps);
  return {
    ...(codec ? { codec } : {}),
    ...(preset ? { preset } : {}),
    ...(quality !== undefined ? { quality } : {}),
    ...(fps !== undefined ? { fps } : {}),
    audio: flags.audio !== false,
    ...(flags.trimStart !== undefined ? { trimStart: parsePoint('--trim-start', flags.trimStart) } : {}),
    ...(flags.trimEnd !== undefined ? { trimEnd: parsePoint('--trim-end', flags.trimEnd) } : {}),
  };
}

/** The video swap behind `liveswap swap -t video.mp4`: flags → spec → plan → run → print. */
export async function runVideoSwap(flags: SwapFlags, context: VideoRunContext): Promise<void> {
  const { terminal, options } = context;
  const { parseVideoPoint } = await import('../node/jobs/video-swap.js');
  const { planVideoJob, runVideoJob } = await import('../node/jobs/video-job.js');
  const encoding = encodingFromFlags(flags, parseVideoPoint);
  const similarFaceDistance = parseNumber('--similar-face-distance', flags.similarFaceDistance);
  if (similarFaceDistance !== undefined && !(similarFaceDistance >= 0 && similarFaceDistance <= 2)) {
    throw invalidOption('--similar-face-distance', 'a number from 0 (the same face) to 2', flags.similarFaceDistance);
  }
  const plan = await planVideoJob({
    sources: context.sources,
    target: flags.target,
    output: flags.output,
    paint: options,
    tracking: trackingOptionsFromFlags(flags),
    ...(flags.referenceFace !== undefined ? { referenceFace: flags.referenceFace } : {}),
    ...(similarFaceDistance !== undefined ? { similarFaceDistance } : {}),
    ...(flags.mapFaces !== undefined ? { mapFaces: flags.mapFaces } : {}),
    encoding,
    marks: provenanceChoicesFromFlags(flags),
    runtime: context.runtime,
    ...(flags.ffmpeg !== undefined ? { ffmpegPath: flags.ffmpeg } : {}),
  });
  const talk = !flags.json && !flags.quiet;
  // Interrupted while probing: do not load the models only to stop.
  if (context.signal?.aborted) throw new LiveswapError('interrupted', `Stopped before ${flags.output} was written; nothing was saved.`, { file: flags.output });
  let before: string[] = [];
  try {
    let lastLine = 0;
    const result = await runVideoJob(plan, {
      open: context.open,
      ...(context.signal ? { signal: context.signal } : {}),
      onNotices: (notices) => {
        before = [...notices, ...plan.notices];
        if (talk) for (const notice of before) terminal.err(`liveswap: note: ${notice}`);
      },
      onProgress: (p: VideoProgress) => {
        if (flags.quiet) return;
        if (flags.json) terminal.out(JSON.stringify({ event: 'progress', ...roundProgress(p) }));
        else if (terminal.status) terminal.status(progressLine(p));
        else if (p.elapsedSeconds - lastLine >= 1 || p.frame === p.total) {
          lastLine = p.elapsedSeconds;
          terminal.err(`liveswap: ${progressLine(p)}`);
        }
      },
    });
    const { published, ...swapped } = result;
    const summary: VideoCommandSummary = {
      ...swapped,
      provenance: { watermarkId: published.watermarkId, label: published.label, credentials: published.credentials },
      notices: [...plan.notices, ...swapped.notices],
    };
    if (terminal.status && talk) terminal.status('');
    if (flags.json) terminal.out(JSON.stringify({ event: 'done', ...summary }));
    else if (!flags.quiet) {
      for (const notice of summary.notices.filter((n) => !before.includes(n))) terminal.err(`liveswap: warning: ${notice}`);
      terminal.out(formatVideoSummary(summary));
    }
  } finally {
    if (terminal.status && talk) terminal.status('');
  }
}

function roundProgress(p: VideoProgress): VideoProgress {
  const r = (v: number): number => Math.round(v * 100) / 100;
  return { frame: p.frame, total: p.total, fps: r(p.fps), etaSeconds: r(p.etaSeconds), elapsedSeconds: r(p.elapsedSeconds) };
}

/**
 * `liveswap swap` with a video target: flags, progress on the terminal (a bar on a TTY, a line a
 * second otherwise, JSON events with --json) and Ctrl-C, which stops cleanly with nothing saved.
 */

import { extname, resolve } from 'node:path';
import { invalidOption, LiveswapError } from '../core/errors.js';
import { VIDEO_CODECS, VIDEO_CONTAINERS, VIDEO_PRESETS, type VideoCodec, type VideoPreset } from '../node/media/ffmpeg-write.js';
import { readImage } from '../node/media/image-io.js';
import { checkOutputPath } from '../node/files/output.js';
import type { LoadedFaceMap } from '../node/jobs/face-map-file.js';
import type { NodeSwapper } from '../node/jobs/swapper.js';
import type { VideoProgress, VideoSwapSummary } from '../node/jobs/video-swap.js';
import type { EngineChoice, ExecutionProvider, SwapOptions } from '../pipeline/options.js';
import type { PreparedSource } from '../pipeline/still.js';
import type { FaceSelection, VideoFaceOptions } from '../pipeline/video.js';
import type { Terminal } from './errors.js';
import { givenFlags, parseNumber, parseWholeNumber, provenanceChoicesFromFlags, trackingOptionsFromFlags, type SwapFlags } from './flags.js';
import { CLI_DEFAULTS } from './option-table.js';
import { formatProvenance, type ProvenanceSummary } from './summary.js';
import { defaultHome } from '../node/models/model-cache.js';
import { startProvenance } from '../node/provenance/output-provenance.js';
import { temporaryPathFor } from '../node/files/output.js';

/** Extensions read as videos (anything ffmpeg demuxes works; these are the ones recognised by name). */
export const VIDEO_INPUT_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi', '.gif', '.ts', '.mts', '.flv', '.wmv', '.mpg', '.mpeg'] as const;

/** Default for --similar-face-distance (1 − cosine similarity of FaceRes descriptors): the scan's identity threshold, 0.6 similarity. */
export const DEFAULT_SIMILAR_FACE_DISTANCE = CLI_DEFAULTS.similarFaceDistance;

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

/** Tracking and selection options from the flags (the selection's embeddings are filled in later). */
export function videoFaceOptionsFromFlags(flags: SwapFlags, selection: FaceSelection): VideoFaceOptions {
  return { ...trackingOptionsFromFlags(flags), selection };
}

function checkVideoOutput(output: string): void {
  const ext = extname(output).toLowerCase();
  if (!VIDEO_CONTAINERS[ext]) {
    throw new LiveswapError('usage', `The target is a video, so the output must be one too: use ${Object.keys(VIDEO_CONTAINERS).join(', ')} (got ${output}).`);
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
  open: (runtime: { provider: ExecutionProvider; threads: number; engine: EngineChoice }) => Promise<NodeSwapper>;
  runtime: { provider: ExecutionProvider; threads: number };
  options: SwapOptions;
  sources: readonly string[];
  /** Where the CLI listens for Ctrl-C; tests pass their own. */
  signal?: AbortSignal;
}

/** Video encoding flags, checked before anything is loaded. */
function encodingFromFlags(flags: SwapFlags) {
  const codec = flags.videoEncoder as VideoCodec | undefined;
  if (codec !== undefined && !(VIDEO_CODECS as readonly string[]).includes(codec)) throw invalidOption('--video-encoder', `one of ${VIDEO_CODECS.join(', ')}`, codec);
  const preset = flags.videoPreset as VideoPreset | undefined;
  if (preset !== undefined && !(VIDEO_PRESETS as readonly string[]).includes(preset)) throw invalidOption('--video-preset', `one of ${VIDEO_PRESETS.join(', ')}`, preset);
  const quality = parseWholeNumber('--video-quality', flags.videoQuality);
  if (quality !== undefined && quality > 51) throw invalidOption('--video-quality', 'a whole number from 0 (best) to 51', flags.videoQuality);
  const fps = parseNumber('--fps', flags.fps);
  if (fps !== undefined && !(fps > 0 && fps <= 240)) throw invalidOption('--fps', 'a frame rate above 0 and at most 240', flags.fps);
  return { codec, preset, quality, fps };
}

/** The video swap behind `liveswap swap -t video.mp4`. */
export async function runVideoSwap(flags: SwapFlags, context: VideoRunContext): Promise<void> {
  const { terminal, options } = context;
  const { inspectVideo, parseVideoPoint, swapVideo } = await import('../node/jobs/video-swap.js');
  checkVideoOutput(flags.output);
  const { codec, preset, quality, fps } = encodingFromFlags(flags);
  const tracking = trackingOptionsFromFlags(flags);
  const trimStart = flags.trimStart !== undefined ? parseVideoPoint('--trim-start', flags.trimStart) : undefined;
  const trimEnd = flags.trimEnd !== undefined ? parseVideoPoint('--trim-end', flags.trimEnd) : undefined;
  if (flags.mapFaces !== undefined && (flags.referenceFace !== undefined || flags.manyFaces)) {
    throw new LiveswapError('usage', '--map-faces chooses the faces itself: it cannot be combined with --reference-face or --many-faces.');
  }
  if (flags.similarFaceDistance !== undefined && flags.referenceFace === undefined) throw new LiveswapError('usage', '--similar-face-distance needs --reference-face.');
  if (options.faceIndex !== undefined) throw new LiveswapError('usage', '--face-index picks a face of an image; for a video use --reference-face, --many-faces or --map-faces.');
  const distance = parseNumber('--similar-face-distance', flags.similarFaceDistance) ?? DEFAULT_SIMILAR_FACE_DISTANCE;
  if (!(distance >= 0 && distance <= 2)) throw invalidOption('--similar-face-distance', 'a number from 0 (the same face) to 2', flags.similarFaceDistance);
  if (flags.ffmpeg !== undefined) process.env.LIVESWAP_FFMPEG = flags.ffmpeg;
  // The target video, its frame times and the trim are checked before any model loads.
  const inspected = await inspectVideo(flags.target, { maxPixels: options.maxPixels, trimStart, trimEnd });

  const faceMap = flags.mapFaces !== undefined ? await loadMap(flags.mapFaces) : undefined;
  const sourceFiles = faceMap ? [] : context.sources;
  const sourceImages = [];
  for (const file of sourceFiles) sourceImages.push(await readImage(file, { maxPixels: options.maxPixels }));
  const reference = flags.referenceFace !== undefined ? await readImage(flags.referenceFace, { maxPixels: options.maxPixels }) : undefined;
  await checkOutputPath(flags.output, { inputs: [...sourceFiles, flags.target] });
  const provenance = await startProvenance(defaultHome(), provenanceChoicesFromFlags(flags), 'video');
  const temporary = temporaryPathFor(flags.output);

  const swapper = await context.open({ ...context.runtime, engine: options.engine });
  const needsEmbedder = reference !== undefined || faceMap !== undefined;
  const recogniser = needsEmbedder ? await (await import('../node/models/recogniser.js')).loadRecogniser() : undefined;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  const signal = context.signal ?? stop.signal;
  if (!context.signal) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    let selection: FaceSelection = options.manyFaces ? { kind: 'all' } : { kind: 'primary' };
    let identities: (PreparedSource | undefined)[];
    if (faceMap) {
      identities = [];
      for (const person of faceMap.identities) {
        if (person.sources.length === 0) identities.push(undefined);
        else {
          const images = [];
          for (const file of person.sources) images.push(await readImage(file, { maxPixels: options.maxPixels }));
          identities.push(await swapper.prepareSources(images, options, person.sources));
        }
      }
      selection = { kind: 'map', embeddings: faceMap.identities.map((p) => p.embedding), minSimilarity: faceMap.threshold };
    } else {
      identities = [sourceImages.length === 1 ? await swapper.prepareSource(sourceImages[0]!, options, sourceFiles[0]) : await swapper.prepareSources(sourceImages, options, sourceFiles)];
    }
    if (reference && recogniser) {
      const faces = await swapper.analyze(reference);
      if (faces.length === 0) throw new LiveswapError('no-face', `${flags.referenceFace}: no face was found in the reference image.`, { file: flags.referenceFace });
      selection = { kind: 'reference', embedding: await recogniser.embed(reference, faces[0]!), maxDistance: distance };
    }
    const notices = [...(swapper.notice ? [swapper.notice] : []), ...identities.flatMap((p) => p?.notices ?? [])];
    if (!flags.json && !flags.quiet) for (const notice of notices) terminal.err(`liveswap: note: ${notice}`);
    let lastLine = 0;
    const swapped = await swapVideo(swapper, {
      input: flags.target,
      output: flags.output,
      writeTo: temporary,
      marks: provenance.marker,
      identities,
      swap: options,
      faces: { ...tracking, selection },
      encoding: {
        ...(codec ? { codec } : {}),
        ...(preset ? { preset } : {}),
        ...(quality !== undefined ? { quality } : {}),
        ...(fps !== undefined ? { fps } : {}),
        audio: flags.audio !== false,
        ...(trimStart ? { trimStart } : {}),
        ...(trimEnd ? { trimEnd } : {}),
      },
      ...(recogniser ? { embed: (image, face) => recogniser.embed(image, face) } : {}),
      signal,
      onProgress: (p: VideoProgress) => {
        if (flags.quiet) return;
        if (flags.json) terminal.out(JSON.stringify({ event: 'progress', ...roundProgress(p) }));
        else if (terminal.status) terminal.status(progressLine(p));
        else if (p.elapsedSeconds - lastLine >= 1 || p.frame === p.total) {
          lastLine = p.elapsedSeconds;
          terminal.err(`liveswap: ${progressLine(p)}`);
        }
      },
    }, inspected);
    const published = await provenance.publish(temporary, flags.output, {
      kind: 'video',
      sources: faceMap ? faceMap.identities.flatMap((p) => p.sources) : sourceFiles,
      target: flags.target,
      engine: swapped.engine,
      options: { ...options, label: provenance.label, encoding: { codec, preset, quality, fps, audio: flags.audio !== false }, trimStart: flags.trimStart, trimEnd: flags.trimEnd, manyFaces: options.manyFaces, mapFaces: flags.mapFaces !== undefined },
    });
    const summary: VideoCommandSummary = {
      ...swapped,
      provenance: { watermarkId: published.watermarkId, label: published.label, credentials: published.credentials },
      notices: [...swapped.notices, ...(published.notice ? [published.notice] : [])],
    };
    if (terminal.status && !flags.quiet && !flags.json) terminal.status('');
    summary.output = resolve(summary.output);
    summary.notices = [...notices, ...summary.notices];
    if (flags.json) terminal.out(JSON.stringify({ event: 'done', ...summary }));
    else if (!flags.quiet) {
      for (const notice of summary.notices.slice(notices.length)) terminal.err(`liveswap: warning: ${notice}`);
      terminal.out(formatVideoSummary(summary));
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (terminal.status && !flags.quiet && !flags.json) terminal.status('');
    await recogniser?.close();
    await swapper.close();
  }
}

function roundProgress(p: VideoProgress): VideoProgress {
  const r = (v: number): number => Math.round(v * 100) / 100;
  return { frame: p.frame, total: p.total, fps: r(p.fps), etaSeconds: r(p.etaSeconds), elapsedSeconds: r(p.elapsedSeconds) };
}

async function loadMap(file: string): Promise<LoadedFaceMap> {
  const { readFaceMapFile } = await import('../node/jobs/face-map-file.js');
  return readFaceMapFile(file);
}

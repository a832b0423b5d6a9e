/**
 * A video swap as a job. Plan: every cheap check (the choice of faces, the output container, the
 * ffmpeg binary resolved once, the target probed, timed and trimmed, the face map, the source and
 * reference photos, the output folder, the marks) and what will be left out and why. Run: open
 * the engine, prepare the identities, pump the frames, publish atomically with credentials and an
 * audit entry; cancellable, with progress. The CLI and the HTTP API both call these.
 */

import { extname, resolve } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { DEFAULT_SIMILAR_FACE_DISTANCE } from '../../pipeline/face-map.js';
import type { SwapOptions, TrackingOptions } from '../../pipeline/options.js';
import type { PreparedSource } from '../../pipeline/still.js';
import type { FaceSelection } from '../../pipeline/video.js';
import { checkOutputPath, temporaryPathFor } from '../files/output.js';
import { ffmpegPath } from '../media/ffmpeg-binary.js';
import { audioCopies, VIDEO_CONTAINERS } from '../media/ffmpeg-write.js';
import { readImage } from '../media/image-io.js';
import { defaultHome } from '../models/model-cache.js';
import { startProvenance, type AuditContext, type OutputProvenance, type ProvenanceChoices, type PublishedOutput } from '../provenance/output-provenance.js';
import { readFaceMapFile, type LoadedFaceMap } from './face-map-file.js';
import { openNodeSwapper, type JobRunOptions, type JobRuntime } from './image-job.js';
import { inspectVideo, swapVideo, type InspectedVideo, type VideoEncoding, type VideoProgress, type VideoSwapSummary } from './video-swap.js';

export interface VideoJobSpec {
  /** The source photos (several: one person); none when a face map names each person's photos. */
  sources: readonly string[];
  target: string;
  output: string;
  paint: SwapOptions;
  tracking: TrackingOptions;
  /** Swap only the person in this photo. */
  referenceFace?: string;
  /** How close to the reference a face must be; default {@link DEFAULT_SIMILAR_FACE_DISTANCE}. */
  similarFaceDistance?: number;
  /** A map.json from `liveswap faces scan`: each person their own photos. */
  mapFaces?: string;
  encoding: VideoEncoding;
  marks: ProvenanceChoices;
  runtime?: JobRuntime;
  /** The ffmpeg executable; default LIVESWAP_FFMPEG, else the bundled one. Resolved once, at planning. */
  ffmpegPath?: string;
  /** Where keys, credentials and the audit log live; default LIVESWAP_HOME or the user's cache. */
  home?: string;
}

export interface VideoJobPlan {
  spec: VideoJobSpec;
  /** The ffmpeg executable every step of this job runs. */
  ffmpegPath: string;
  inspected: InspectedVideo;
  faceMap: LoadedFaceMap | undefined;
  sourceImages: Image[];
  reference: Image | undefined;
  provenance: OutputProvenance;
  /** What the job will leave out or change, and why: said before the run. */
  notices: string[];
}

export interface VideoJobRunOptions extends JobRunOptions {
  onProgress?: (progress: VideoProgress) => void;
  /** Said once the engine is open and the identities made (e.g. the engine `auto` chose). */
  onNotices?: (notices: string[]) => void;
  /** The request behind the job, for its audit line (the HTTP API's jobs). */
  audit?: AuditContext;
  /** Called just before the output is logged and put in place; throw to keep it out (see PublishFacts). */
  beforeCommit?: () => Promise<void>;
}

export interface VideoJobResult extends VideoSwapSummary {
  published: PublishedOutput;
}

function checkChoices(spec: VideoJobSpec): void {
  if (spec.mapFaces !== undefined && (spec.referenceFace !== undefined || spec.paint.manyFaces)) {
    throw new LiveswapError('usage', '--map-faces chooses the faces itself: it cannot be combined with --reference-face or --many-faces.');
  }
  if (spec.similarFaceDistance !== undefined && spec.referenceFace === undefined) throw new LiveswapError('usage', '--similar-face-distance needs --reference-face.');
  if (spec.paint.faceIndex !== undefined) throw new LiveswapError('usage', '--face-index picks a face of an image; for a video use --reference-face, --many-faces or --map-faces.');
  if (spec.mapFaces === undefined && spec.sources.length === 0) throw new LiveswapError('usage', 'At least one source photo is needed (or a face map).');
  const ext = extname(spec.output).toLowerCase();
  if (!VIDEO_CONTAINERS[ext]) {
    throw new LiveswapError('usage', `The target is a video, so the output must be one too: use ${Object.keys(VIDEO_CONTAINERS).join(', ')} (got ${spec.output}).`);
  }
}

/** What the run will leave out or change, from the probe. */
function leftOut(spec: VideoJobSpec, inspected: InspectedVideo): string[] {
  const { info, timing, range } = inspected;
  const notices: string[] = [];
  const streams = info.audioStreams;
  if (streams.length > 0 && spec.encoding.audio === false) notices.push(`The audio (${streams.length} stream${streams.length > 1 ? 's' : ''}) is left out, as asked.`);
  const trimmed = range.first > 0 || range.end < timing.pts.length;
  if (trimmed) notices.push(`Only frames ${range.first} to ${range.end - 1} of ${timing.pts.length} are swapped and written (the trim).`);
  if (streams.length > 0 && spec.encoding.audio !== false && !trimmed && !streams.every((a) => audioCopies(extname(spec.output), a.codec))) {
    notices.push(`The audio is re-encoded: ${extname(spec.output)} cannot hold ${[...new Set(streams.map((a) => a.codec))].join(', ')} as it is.`);
  }
  return notices;
}

/** Every cheap check, before any model loads. */
export async function planVideoJob(spec: VideoJobSpec): Promise<VideoJobPlan> {
  checkChoices(spec);
  const ffmpeg = ffmpegPath(spec.ffmpegPath !== undefined ? { ffmpegPath: spec.ffmpegPath } : {});
  const maxPixels = spec.paint.maxPixels;
  const inspected = await inspectVideo(spec.target, { maxPixels, trimStart: spec.encoding.trimStart, trimEnd: spec.encoding.trimEnd, ffmpeg: { ffmpegPath: ffmpeg } });
  const faceMap = spec.mapFaces !== undefined ? await readFaceMapFile(spec.mapFaces) : undefined;
  const sources = faceMap ? [] : spec.sources;
  const sourceImages: Image[] = [];
  for (const file of sources) sourceImages.push(await readImage(file, { maxPixels }));
  const reference = spec.referenceFace !== undefined ? await readImage(spec.referenceFace, { maxPixels }) : undefined;
  await checkOutputPath(spec.output, { inputs: [...sources, spec.target] });
  const provenance = await startProvenance(spec.home ?? defaultHome(), spec.marks, 'video');
  return { spec, ffmpegPath: ffmpeg, inspected, faceMap, sourceImages, reference, provenance, notices: leftOut(spec, inspected) };
}

/** Opens the engine, prepares the identities, swaps every frame and publishes; on failure or cancel nothing is left at the output. */
export async function runVideoJob(plan: VideoJobPlan, options: VideoJobRunOptions = {}): Promise<VideoJobResult> {
  const { spec, faceMap, provenance } = plan;
  const swapper = await (options.open ?? openNodeSwapper)({ ...(spec.runtime ?? { provider: 'cpu', threads: 1 }), engine: spec.paint.engine });
  const recogniser =
    plan.reference !== undefined || faceMap !== undefined
      ? await (await import('../models/recogniser.js')).loadRecogniser(spec.home !== undefined ? { home: spec.home } : {})
      : undefined;
  const temporary = temporaryPathFor(spec.output);
  try {
    let selection: FaceSelection = spec.paint.manyFaces ? { kind: 'all' } : { kind: 'primary' };
    const identities: (PreparedSource | undefined)[] = [];
    if (faceMap) {
      for (const person of faceMap.identities) {
        if (person.sources.length === 0) {
          identities.push(undefined);
          continue;
        }
        const images: Image[] = [];
        for (const file of person.sources) images.push(await readImage(file, { maxPixels: spec.paint.maxPixels }));
        identities.push(await swapper.prepareSources(images, spec.paint, person.sources));
      }
      selection = { kind: 'map', embeddings: faceMap.identities.map((p) => p.embedding), minSimilarity: faceMap.threshold };
    } else {
      const [first] = plan.sourceImages;
      identities.push(
        plan.sourceImages.length === 1
          ? await swapper.prepareSource(first!, spec.paint, spec.sources[0])
          : await swapper.prepareSources(plan.sourceImages, spec.paint, spec.sources),
      );
    }
    if (plan.reference && recogniser) {
      const faces = await swapper.analyze(plan.reference);
      if (faces.length === 0) throw new LiveswapError('no-face', `${spec.referenceFace}: no face was found in the reference image.`, { file: spec.referenceFace });
      selection = { kind: 'reference', embedding: await recogniser.embed(plan.reference, faces[0]!), maxDistance: spec.similarFaceDistance ?? DEFAULT_SIMILAR_FACE_DISTANCE };
    }
    const notices = [...(swapper.notice ? [swapper.notice] : []), ...identities.flatMap((p) => p?.notices ?? [])];
    options.onNotices?.(notices);
    const swapped = await swapVideo(
      swapper,
      {
        input: spec.target,
        output: spec.output,
        writeTo: temporary,
        marks: provenance.marker,
        identities,
        swap: spec.paint,
        faces: { ...spec.tracking, selection },
        encoding: spec.encoding,
        ffmpeg: { ffmpegPath: plan.ffmpegPath },
        ...(recogniser ? { embed: (image: Image, face: Parameters<typeof recogniser.embed>[1]) => recogniser.embed(image, face) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
      plan.inspected,
    );
    const { encoding } = spec;
    // A signal during the last frames' encode: stop before publishing, not after.
    if (options.signal?.aborted) throw new LiveswapError('interrupted', `Stopped before ${spec.output} was finished; nothing was saved.`, { file: spec.output });
    const published = await provenance.publish(temporary, spec.output, {
      kind: 'video',
      sources: faceMap ? faceMap.identities.flatMap((p) => p.sources) : spec.sources,
      target: spec.target,
      engine: swapped.engine,
      options: {
        ...spec.paint,
        label: provenance.label,
        encoding: { codec: encoding.codec, preset: encoding.preset, quality: encoding.quality, fps: encoding.fps, audio: encoding.audio !== false },
        trimStart: encoding.trimStart,
        trimEnd: encoding.trimEnd,
        manyFaces: spec.paint.manyFaces,
        mapFaces: spec.mapFaces !== undefined,
      },
      ...(options.audit ? { audit: options.audit } : {}),
      ...(options.beforeCommit ? { beforeCommit: options.beforeCommit } : {}),
    });
    return {
      ...swapped,
      output: resolve(spec.output),
      published,
      notices: [...notices, ...swapped.notices, ...(published.notice ? [published.notice] : [])],
    };
  } finally {
    await recogniser?.close();
    await swapper.close();
  }
}

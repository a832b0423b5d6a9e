/**
 * `liveswap faces scan` on Node: samples a video, finds and embeds every face, groups them into
 * people, and writes one thumbnail per person and map.json for the user to fill in.
 */

import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { affineCornerToCentred } from '../../core/affine.js';
import { invalidOption, LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { warpAffine } from '../../core/warp.js';
import { faceSize } from '../../face/face.js';
import type { EngineChoice } from '../../pipeline/options.js';
import { clusterIdentities, detectShotChange, type FaceDetection, linkTracklets, meanEmbedding } from '../../pipeline/cluster.js';
import { DEFAULT_IDENTITY_THRESHOLD, FACE_MAP_RECOGNISER, FACE_MAP_VERSION, type FaceMap, formatFaceMap, parseFaceMap } from '../../pipeline/face-map.js';
import { probeVideo, readFrames } from '../media/ffmpeg.js';
import { writeImage } from '../media/image-io.js';
import { MIB, readInputFile } from '../files/input-file.js';
import { outputError, writeFileAtomically } from '../files/output.js';
import { loadRecogniser } from '../models/recogniser.js';
import { createNodeSwapper } from './swapper.js';

/** Frames analysed per second of video, by default. */
export const DEFAULT_SAMPLE_FPS = 2;
export { DEFAULT_IDENTITY_THRESHOLD } from '../../pipeline/face-map.js';
/** Side of the square thumbnails, pixels. */
export const THUMBNAIL_SIZE = 160;
/** Wider frames are scaled down to this width for the scan: plenty for detection and identity. */
export const SCAN_MAX_WIDTH = 1280;
/** The largest map.json read: far more than any scan writes (a person's embedding and frame list take kilobytes). */
export const FACE_MAP_MAX_BYTES = 64 * MIB;
/** The thumbnail shows this much around the face box (its larger side), for hair and context. */
const THUMBNAIL_PADDING = 1.6;

export interface ScanOptions {
  /** Folder for map.json and the thumbnails; created when missing. */
  outDir: string;
  /** Frames analysed per second of video; default {@link DEFAULT_SAMPLE_FPS}. */
  sampleFps?: number;
  /** Model cache root; default LIVESWAP_HOME or the user's cache folder. */
  home?: string;
  /** Clustering and matching similarity; default {@link DEFAULT_IDENTITY_THRESHOLD}. */
  threshold?: number;
  /** Which engine's face finder to use; default auto, the one the swap will use. */
  engine?: EngineChoice;
}

export interface ScanProgress {
  /** Sampled frames analysed so far. */
  frames: number;
  /** Video time reached, seconds. */
  seconds: number;
  /** The video's duration, seconds (from the container; may be approximate). */
  durationSeconds: number;
  /** Faces found so far. */
  faces: number;
}

/** One person in the scan's result, as in map.json plus the thumbnail's full path. */
export interface ScannedIdentity {
  id: number;
  frames: number;
  firstSeconds: number;
  /** Path of the thumbnail JPEG. */
  thumbnail: string;
}

export interface ScanSummary {
  video: string;
  /** Path of the map.json written. */
  map: string;
  sampleFps: number;
  threshold: number;
  sampledFrames: number;
  /** Faces found over all sampled frames. */
  faces: number;
  /** Runs of the same face in consecutive sampled frames. */
  tracklets: number;
  /** Shots (1 + the cuts found). */
  shots: number;
  /** Most appearances first. */
  identities: ScannedIdentity[];
}

interface Detection extends FaceDetection {
  /** How good a thumbnail this face makes: its size times its sharpness. */
  quality: number;
}

function checkOptions(options: ScanOptions): { sampleFps: number; threshold: number } {
  const sampleFps = options.sampleFps ?? DEFAULT_SAMPLE_FPS;
  const threshold = options.threshold ?? DEFAULT_IDENTITY_THRESHOLD;
  if (!(Number.isFinite(sampleFps) && sampleFps > 0 && sampleFps <= 120)) throw invalidOption('sampleFps', 'a frame rate above 0 and at most 120', sampleFps);
  if (!(Number.isFinite(threshold) && threshold > 0 && threshold < 1)) throw invalidOption('threshold', 'a similarity between 0 and 1', threshold);
  return { sampleFps, threshold };
}

/**
 * Scans a video for the people in it and writes `map.json` and `identity-<id>.jpg` thumbnails into
 * `options.outDir`. The video is read twice at `sampleFps`: once to find, embed and group the
 * faces, and once up to the last frame needed to cut each person's best thumbnail (keeping crops
 * of every face in memory instead would grow with the video). A video without any face is a
 * `no-face` error and nothing is written.
 */
export async function scanFaces(videoPath: string, options: ScanOptions, onProgress?: (progress: ScanProgress) => void): Promise<ScanSummary> {
  const { sampleFps, threshold } = checkOptions(options);
  const info = await probeVideo(videoPath);
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true }).catch((cause: unknown) => {
    throw outputError(join(outDir, 'map.json'), cause);
  });
  const readOptions = { fps: sampleFps, ...(info.width > SCAN_MAX_WIDTH ? { width: SCAN_MAX_WIDTH } : {}) };

  const swapper = await createNodeSwapper({ home: options.home, engine: options.engine ?? 'auto' });
  const recogniser = await loadRecogniser({ home: options.home }).catch(async (error: unknown) => {
    await swapper.close();
    throw error;
  });
  const detections: Detection[] = [];
  const shotStarts = new Set<number>();
  let sampledFrames = 0;
  try {
    let previous: Image | undefined;
    for await (const frame of readFrames(videoPath, readOptions)) {
      const index = sampledFrames++;
      const seconds = index / sampleFps;
      if (previous && detectShotChange(previous, frame)) shotStarts.add(index);
      previous = frame;
      for (const face of await swapper.analyze(frame)) {
        const embedding = await recogniser.embed(frame, face);
        detections.push({ frame: index, seconds, box: face.box, embedding, quality: faceSize(face) * sharpness(frame, face.box) });
      }
      onProgress?.({ frames: sampledFrames, seconds, durationSeconds: info.durationSeconds, faces: detections.length });
    }
  } finally {
    await Promise.all([swapper.close(), recogniser.close()]);
  }
  if (detections.length === 0) {
    throw new LiveswapError(
      'no-face',
      `No face found in ${videoPath} (${sampledFrames} frames looked at, ${sampleFps} a second). ` +
        'Faces need to be roughly frontal and at least about 40 pixels tall; try a higher --sample-fps for short appearances.',
      { file: videoPath },
    );
  }

  const tracklets = linkTracklets(detections, { shotStarts });
  const means = tracklets.map((t) => meanEmbedding(t.members.map((m) => detections[m]!.embedding)));
  const { clusters } = clusterIdentities(means, { threshold });
  const people = clusters
    .map((trackletIds) => trackletIds.flatMap((t) => tracklets[t]!.members).sort((a, b) => a - b))
    .map((members) => ({
      members,
      frames: new Set(members.map((m) => detections[m]!.frame)).size,
      firstSeconds: detections[members[0]!]!.seconds,
      best: members.reduce((b, m) => (detections[m]!.quality > detections[b]!.quality ? m : b), members[0]!),
    }))
    // Most appearances first; then earliest (members are disjoint, so the order is total).
    .sort((a, b) => b.frames - a.frames || a.members[0]! - b.members[0]!);

  const thumbnails = await cutThumbnails(
    videoPath,
    readOptions,
    people.map((p) => detections[p.best]!),
  );
  const identities: ScannedIdentity[] = [];
  const map: FaceMap = { version: FACE_MAP_VERSION, video: videoPath, recogniser: FACE_MAP_RECOGNISER, threshold, identities: [] };
  for (const [id, person] of people.entries()) {
    const file = `identity-${id}.jpg`;
    await writeImage(join(outDir, file), thumbnails[id]!);
    const { frames } = person;
    const firstSeconds = Math.round(person.firstSeconds * 1000) / 1000;
    map.identities.push({ id, thumbnail: file, frames, firstSeconds, source: null, embedding: Array.from(meanEmbedding(person.members.map((m) => detections[m]!.embedding))) });
    identities.push({ id, frames, firstSeconds, thumbnail: join(outDir, file) });
  }
  const mapPath = join(outDir, 'map.json');
  await writeFileAtomically(mapPath, new TextEncoder().encode(formatFaceMap(map)));
  return {
    video: videoPath,
    map: mapPath,
    sampleFps,
    threshold,
    sampledFrames,
    faces: detections.length,
    tracklets: tracklets.length,
    shots: shotStarts.size + 1,
    identities,
  };
}

/** Decodes the video again up to the last frame needed and cuts one thumbnail per detection. */
async function cutThumbnails(videoPath: string, readOptions: { fps: number; width?: number }, wanted: readonly FaceDetection[]): Promise<Image[]> {
  const out: (Image | undefined)[] = wanted.map(() => undefined);
  const last = Math.max(...wanted.map((d) => d.frame));
  let index = 0;
  for await (const frame of readFrames(videoPath, { ...readOptions, maxFrames: last + 1 })) {
    wanted.forEach((d, i) => {
      if (d.frame === index) out[i] = thumbnail(frame, d.box);
    });
    index++;
  }
  const missing = out.findIndex((image) => image === undefined);
  if (missing >= 0) {
    throw new LiveswapError('input-unreadable', `The video ${videoPath} gave fewer frames on a second reading (${index}, needed ${wanted[missing]!.frame + 1}).`, {
      file: videoPath,
    });
  }
  return out as Image[];
}

/** A square around the face, padded, resampled to THUMBNAIL_SIZE; black where it leaves the frame. */
function thumbnail(frame: Image, box: readonly [number, number, number, number]): Image {
  return squareCrop(frame, box, THUMBNAIL_PADDING, THUMBNAIL_SIZE);
}

function squareCrop(frame: Image, box: readonly [number, number, number, number], padding: number, size: number): Image {
  const side = Math.max(box[2], box[3], 1) * padding;
  const x0 = box[0] + box[2] / 2 - side / 2;
  const y0 = box[1] + box[3] / 2 - side / 2;
  const s = size / side;
  return warpAffine(frame, affineCornerToCentred([s, 0, -x0 * s, 0, s, -y0 * s]), size, size);
}

/** Sharpness of a face, scale-free: RMS of the Laplacian of its box resampled to 64×64 grey. */
function sharpness(frame: Image, box: readonly [number, number, number, number]): number {
  const n = 64;
  const crop = squareCrop(frame, box, 1, n);
  const grey = new Float32Array(n * n);
  for (let i = 0; i < n * n; i++) grey[i] = 0.299 * crop.data[i * 3]! + 0.587 * crop.data[i * 3 + 1]! + 0.114 * crop.data[i * 3 + 2]!;
  let sum = 0;
  for (let y = 1; y < n - 1; y++) {
    for (let x = 1; x < n - 1; x++) {
      const i = y * n + x;
      const lap = grey[i - 1]! + grey[i + 1]! + grey[i - n]! + grey[i + n]! - 4 * grey[i]!;
      sum += lap * lap;
    }
  }
  return Math.sqrt(sum / ((n - 2) * (n - 2)));
}

/**
 * Reads a map.json written by {@link scanFaces} (and edited by the user), with relative source
 * paths resolved against the map's folder. A missing file is `input-missing`; one that is not a
 * regular file (a FIFO, a device, a folder) `input-unreadable`; one over {@link FACE_MAP_MAX_BYTES}
 * `input-too-large`, refused before it is read.
 */
export async function readFaceMap(path: string): Promise<FaceMap> {
  const bytes = await readInputFile(path, 'face map', {
    maxBytes: FACE_MAP_MAX_BYTES,
    missingHint: 'Run `liveswap faces scan` first.',
    tooLargeHint: 'The maps `liveswap faces scan` writes are far smaller; give the map.json it wrote.',
  });
  const text = bytes.toString('utf8');
  const folder = dirname(resolve(path));
  return parseFaceMap(text, path, { resolveSource: (source) => resolve(folder, source) });
}

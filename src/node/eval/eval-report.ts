/**
 * What `liveswap eval` reports: per-pair figures, their aggregate over the whole set, and the
 * recognisers' baselines. Plain data, written to eval.json as it is.
 */

import type { AttributeDifference } from '../../eval/attributes.js';
import type { IdentityMeasures } from '../../eval/gallery.js';
import { RECOGNISERS, type RecogniserId } from '../../eval/recognisers.js';
import { summarise, type Summary } from './eval-stats.js';

export interface PairResult {
  /** The source photo's name. */
  source: string;
  /** The target's name; a face of a group photo is `name #k` (k from 1, largest face first). */
  target: string;
  /** Whether source and target show the same person, where the set says who is who. */
  samePerson?: boolean;
  /** Why nothing was measured (e.g. no face in the target), when so. */
  skipped?: string;
  /** Identity by each recogniser, by its id. */
  identity?: Partial<Record<RecogniserId, IdentityMeasures>>;
  attributes?: AttributeDifference;
  blending?: {
    /** Output gradient over target gradient on the mask's edge band: 1 = no visible seam. */
    seamRatio: number;
    /** PSNR (dB) outside the faces grown by a quarter of their size; Infinity = untouched. */
    psnrOutside: number;
  };
  timings?: Record<string, number>;
  /** Face crops of source, target and result (paths relative to the report). */
  thumbnails?: { source: string; target: string; result: string };
}

export interface IdentityAggregate {
  /** Over the pairs not known to show one person (different people, and faces of unknown identity). */
  toSource: Summary;
  toTarget: Summary;
  targetToSource: Summary;
  toGallery?: Summary;
  targetToGallery?: Summary;
  gain: Summary;
  /** Share of pairs of different people whose output is nearest the source person (NaN: none). */
  retrieval: number;
  /** The same share over every measured pair, same-person and unknown ones included. */
  retrievalAll: number;
  /**
   * Gallery mode, measured against the source photo as folders mode does: the gain
   * cos(O, S) − cos(T, S) and the share of pairs of different people whose output is nearest
   * its own source photo among all source photos.
   */
  sourceGain?: Summary;
  retrievalAmongSources?: number;
}

export interface EvalAggregate {
  pairs: number;
  measured: number;
  /** Measured pairs known to show different people, and the same person. */
  pairsAcrossPeople: number;
  pairsSamePerson: number;
  identity: Partial<Record<RecogniserId, IdentityAggregate>>;
  /** Over every measured pair: absolute differences, output vs target. */
  yaw: Summary;
  pitch: Summary;
  roll: Summary;
  mouthOpen: Summary;
  eyesOpen: Summary;
  mouthOpenRelative: Summary;
  eyesOpenRelative: Summary;
  landmarkError: Summary;
  seamRatio: Summary;
  psnrOutside: Summary;
}

export interface VideoResult {
  video: string;
  source: string;
  frames: number;
  /** RMS landmark movement around the mean position, pixels: input clip and swapped clip. */
  jitterInput: number;
  jitterOutput: number;
  /** Mean absolute frame-to-frame change in the face region (0..255): input and swapped. */
  flickerInput: number;
  flickerOutput: number;
  /** Frames where a face was swapped, out of frames where the input had one. */
  swappedFrames: number;
  framesWithFace: number;
}

/** Cosine similarity between photos of one person and of different people: what a value means. */
export interface RecogniserBaseline {
  sameIdentity: Summary;
  differentIdentity: Summary;
}

/** One row of an ablation: a variant's headline figures (see eval-ablation.ts). */
export interface AblationRow {
  variant: string;
  retrieval: Partial<Record<RecogniserId, number>>;
  gain: Partial<Record<RecogniserId, number>>;
  toTarget: Partial<Record<RecogniserId, number>>;
  maxYaw: number;
  meanSeam: number;
}

export interface EvalReport {
  engine: string;
  /** 'gallery' (--people), 'folders' (--sources/--targets) or 'builtin'. */
  mode: 'gallery' | 'folders' | 'builtin';
  recognisers: { id: RecogniserId; name: string }[];
  /** What identity gain is measured against: the source person's gallery, or the source photo. */
  gainAgainst: 'gallery' | 'source';
  sources: string[];
  /** Sources made from several photos of one person (eval --source-photos): each one's photos, the named one first. */
  sourcePhotos?: { source: string; photos: string[] }[];
  targets: string[];
  /** Gallery mode: each person's gallery photos. */
  galleries?: { person: string; photos: string[] }[];
  pairs: PairResult[];
  aggregate: EvalAggregate;
  recogniserBaseline?: Partial<Record<RecogniserId, RecogniserBaseline>>;
  videos: VideoResult[];
  /** With --ablate: one row per mesh-engine variant, 'defaults' first. */
  ablation?: AblationRow[];
}

const share = (pairs: readonly PairResult[], id: RecogniserId) => {
  const measured = pairs.filter((p) => p.identity?.[id]);
  return measured.length ? measured.filter((p) => p.identity![id]!.retrieved).length / measured.length : Number.NaN;
};

function pick(pairs: readonly PairResult[], f: (p: PairResult) => number | undefined): Summary {
  return summarise(pairs.map(f).filter((v): v is number => v !== undefined && !Number.isNaN(v)));
}

function identityAggregate(pairs: readonly PairResult[], id: RecogniserId): IdentityAggregate | undefined {
  const measured = pairs.filter((p) => p.identity?.[id]);
  if (measured.length === 0) return undefined;
  const notSame = measured.filter((p) => p.samePerson !== true);
  const m = (f: (i: IdentityMeasures) => number | undefined) => pick(notSame, (p) => f(p.identity![id]!));
  const result: IdentityAggregate = {
    toSource: m((i) => i.toSource),
    toTarget: m((i) => i.toTarget),
    targetToSource: m((i) => i.targetToSource),
    gain: m((i) => i.gain),
    retrieval: share(
      measured.filter((p) => p.samePerson === false),
      id,
    ),
    retrievalAll: share(measured, id),
  };
  if (measured.some((p) => p.identity![id]!.toGallery !== undefined)) {
    result.toGallery = m((i) => i.toGallery);
    result.targetToGallery = m((i) => i.targetToGallery);
    result.sourceGain = m((i) => i.toSource - i.targetToSource);
    const across = measured.filter((p) => p.samePerson === false && p.identity![id]!.retrievedAmongSources !== undefined);
    result.retrievalAmongSources = across.length ? across.filter((p) => p.identity![id]!.retrievedAmongSources).length / across.length : Number.NaN;
  }
  return result;
}

export function aggregatePairs(pairs: readonly PairResult[]): EvalAggregate {
  const measured = pairs.filter((p) => p.identity);
  const identity: Partial<Record<RecogniserId, IdentityAggregate>> = {};
  for (const id of RECOGNISERS) {
    const a = identityAggregate(pairs, id);
    if (a) identity[id] = a;
  }
  return {
    pairs: pairs.length,
    measured: measured.length,
    pairsAcrossPeople: measured.filter((p) => p.samePerson === false).length,
    pairsSamePerson: measured.filter((p) => p.samePerson === true).length,
    identity,
    yaw: pick(pairs, (p) => p.attributes?.yaw),
    pitch: pick(pairs, (p) => p.attributes?.pitch),
    roll: pick(pairs, (p) => p.attributes?.roll),
    mouthOpen: pick(pairs, (p) => p.attributes?.mouthOpen),
    eyesOpen: pick(pairs, (p) => p.attributes?.eyesOpen),
    mouthOpenRelative: pick(pairs, (p) => p.attributes?.mouthOpenRelative),
    eyesOpenRelative: pick(pairs, (p) => p.attributes?.eyesOpenRelative),
    landmarkError: pick(pairs, (p) => p.attributes?.landmarkError),
    seamRatio: pick(pairs, (p) => p.blending?.seamRatio),
    psnrOutside: pick(pairs, (p) => p.blending?.psnrOutside),
  };
}

/**
 * `liveswap eval`: swaps every source onto every target and measures the result with models and
 * maths independent of the engine: identity (FaceRes embeddings), pose and expression (the mesh),
 * blending (seam and untouched surroundings), and, for video targets, stability over frames.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Image } from '../core/image.js';
import { attributeDifference, type AttributeDifference } from '../eval/attributes.js';
import { cosineSimilarity, nearest } from '../eval/identity.js';
import { outsideBoxes, psnr, seamRatio } from '../eval/image-metrics.js';
import { maskEdgeBand } from '../eval/seam.js';
import { faceSize, type Face } from '../face/face.js';
import { resolveSwapOptions, type EngineChoice } from '../pipeline/options.js';
import { writeImage } from './image-io.js';
import { resizeToHeight } from './demo-assets.js';
import type { NodeSwapper } from './swapper.js';
import type { EvalSet, NamedImage } from './eval-set.js';
import { summarise, type Summary } from './eval-stats.js';
import { evaluateVideo } from './eval-video.js';

/** Embeds a face for identity comparisons; a recogniser independent of the swap engine. */
export interface Recogniser {
  readonly name: string;
  embed(image: Image, face: Face): Promise<Float32Array>;
}

export interface PairResult {
  source: string;
  target: string;
  /** Whether source and target show the same person, where the set says who is who. */
  samePerson?: boolean;
  /** Why nothing was measured (e.g. no face in the target), when so. */
  skipped?: string;
  identity?: {
    /** Cosine similarity of the swapped face to the source face and to the original target face. */
    toSource: number;
    toTarget: number;
    /** The same similarity before the swap, of the original target face to the source face. */
    targetToSource: number;
    /** The source whose face is most similar to the swapped one, and whether it is this pair's. */
    nearestSource: string;
    retrieved: boolean;
  };
  attributes?: AttributeDifference;
  blending?: {
    /** Output gradient over target gradient on the mask's edge band: 1 = no visible seam. */
    seamRatio: number;
    /** PSNR (dB) outside the faces grown by a quarter of their size; Infinity = untouched. */
    psnrOutside: number;
  };
  timings?: Record<string, number>;
  thumbnails?: { source: string; target: string; result: string };
}

export interface EvalReport {
  engine: string;
  recogniser: string;
  sources: string[];
  targets: string[];
  pairs: PairResult[];
  aggregate: Record<string, Summary | number>;
  /** Cosine similarity between pictures of the same person and of different people: what a value means. */
  recogniserBaseline?: { sameIdentity: Summary; differentIdentity: Summary };
  videos: VideoResult[];
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

export interface EvalOptions {
  engine: EngineChoice;
  outDir: string;
  /** Called after each pair, for progress output. */
  onPair?: (result: PairResult, done: number, total: number) => void;
}

/** The output face that corresponds to a target face: the nearest by box centre. */
function matchFace(faces: readonly Face[], target: Face): Face | undefined {
  const cx = target.box[0] + target.box[2] / 2;
  const cy = target.box[1] + target.box[3] / 2;
  let best: Face | undefined;
  let bestDistance = faceSize(target) / 2;
  for (const f of faces) {
    const d = Math.hypot(f.box[0] + f.box[2] / 2 - cx, f.box[1] + f.box[3] / 2 - cy);
    if (d < bestDistance) {
      bestDistance = d;
      best = f;
    }
  }
  return best;
}

async function thumbnail(outDir: string, name: string, image: Image): Promise<string> {
  const file = `thumbs/${name.replace(/[^\w.-]+/g, '_')}.jpg`;
  await writeImage(join(outDir, file), await resizeToHeight(image, 160));
  return file;
}

export async function runEval(set: EvalSet, swapper: NodeSwapper, recogniser: Recogniser, options: EvalOptions): Promise<EvalReport> {
  await mkdir(join(options.outDir, 'thumbs'), { recursive: true });
  const swapOptions = resolveSwapOptions({ engine: options.engine });
  const analyse = async (items: NamedImage[]) => Promise.all(items.map(async (item) => ({ ...item, faces: await swapper.analyze(item.image) })));
  const sources = await analyse(set.sources);
  const targets = await analyse(set.targets);
  const sourceEmbeddings = await Promise.all(sources.map(async (s) => (s.faces[0] ? recogniser.embed(s.image, s.faces[0]) : new Float32Array(0))));
  const thumbs = new Map<string, string>();
  for (const item of [...sources.map((s) => ['source-' + s.name, s.image] as const), ...targets.map((t) => ['target-' + t.name, t.image] as const)]) {
    thumbs.set(item[0], await thumbnail(options.outDir, item[0], item[1]));
  }

  const pairs: PairResult[] = [];
  const total = sources.length * targets.length;
  // The original target faces' embeddings, computed once per target face.
  const targetEmbeddings = new Map<Face, Float32Array>();
  const embedTarget = async (image: Image, face: Face) => {
    let e = targetEmbeddings.get(face);
    if (!e) targetEmbeddings.set(face, (e = await recogniser.embed(image, face)));
    return e;
  };
  let engineName = swapOptions.engine as string;
  for (const [si, source] of sources.entries()) {
    for (const target of targets) {
      const result: PairResult = { source: source.name, target: target.name };
      if (source.identity && target.identity) result.samePerson = source.identity === target.identity;
      pairs.push(result);
      if (!source.faces[0]) result.skipped = 'no face in the source';
      else if (!target.faces[0]) result.skipped = 'no face in the target';
      else {
        const { image, report } = await swapper.swap(source.image, target.image, swapOptions);
        engineName = report.engine;
        const swappedFace = target.faces[report.swappedFaces[0]];
        const outputFace = matchFace(await swapper.analyze(image), swappedFace);
        result.timings = report.timings;
        result.blending = {
          seamRatio: seamRatio(image, target.image, maskEdgeBand(swappedFace, target.image)),
          psnrOutside: psnr(image, target.image, outsideBoxes(report.swappedFaces.map((i) => target.faces[i].box), 0.25)),
        };
        if (!outputFace) result.skipped = 'no face found on the output';
        else {
          const embedding = await recogniser.embed(image, outputFace);
          const targetEmbedding = await embedTarget(target.image, swappedFace);
          const best = nearest(embedding, sourceEmbeddings);
          result.identity = {
            toSource: cosineSimilarity(embedding, sourceEmbeddings[si]),
            toTarget: cosineSimilarity(embedding, targetEmbedding),
            targetToSource: cosineSimilarity(targetEmbedding, sourceEmbeddings[si]),
            nearestSource: sources[best].name,
            retrieved: best === si,
          };
          result.attributes = attributeDifference(outputFace, swappedFace);
        }
        const resultName = `result-${source.name}-to-${target.name}`;
        result.thumbnails = { source: thumbs.get('source-' + source.name)!, target: thumbs.get('target-' + target.name)!, result: await thumbnail(options.outDir, resultName, image) };
      }
      options.onPair?.(result, pairs.length, total);
    }
  }

  const videos: VideoResult[] = [];
  const firstSource = sources.findIndex((s) => s.faces[0]);
  if (firstSource >= 0) {
    const prepared = await swapper.prepareSource(sources[firstSource].image, { sourceFace: undefined, maxPixels: swapOptions.maxPixels });
    for (const video of set.videos) videos.push(await evaluateVideo(video, basename(video), prepared, sources[firstSource].name, swapper, options.engine));
  }

  const report: EvalReport = {
    engine: engineName,
    recogniser: recogniser.name,
    sources: sources.map((s) => s.name),
    targets: targets.map((t) => t.name),
    pairs,
    aggregate: aggregate(pairs),
    videos,
  };
  const baseline = await recogniserBaseline(sources, targets, sourceEmbeddings, recogniser);
  if (baseline) report.recogniserBaseline = baseline;
  return report;
}

function aggregate(pairs: readonly PairResult[]): Record<string, Summary | number> {
  const measured = pairs.filter((p) => p.identity);
  const acrossPeople = measured.filter((p) => p.samePerson === false);
  const pick = (f: (p: PairResult) => number | undefined) => summarise(pairs.map(f).filter((v): v is number => v !== undefined && !Number.isNaN(v)));
  return {
    pairs: pairs.length,
    measured: measured.length,
    retrieval: measured.length ? measured.filter((p) => p.identity!.retrieved).length / measured.length : 0,
    // Same-person pairs are retrieved whatever the swap does: this is the share that tells.
    retrievalAcrossPeople: acrossPeople.length ? acrossPeople.filter((p) => p.identity!.retrieved).length / acrossPeople.length : Number.NaN,
    pairsAcrossPeople: acrossPeople.length,
    toSource: pick((p) => p.identity?.toSource),
    toTarget: pick((p) => p.identity?.toTarget),
    identityGain: pick((p) => (p.identity ? p.identity.toSource - p.identity.targetToSource : undefined)),
    yaw: pick((p) => p.attributes?.yaw),
    pitch: pick((p) => p.attributes?.pitch),
    roll: pick((p) => p.attributes?.roll),
    mouthOpen: pick((p) => p.attributes?.mouthOpen),
    eyesOpen: pick((p) => p.attributes?.eyesOpen),
    landmarkError: pick((p) => p.attributes?.landmarkError),
    seamRatio: pick((p) => p.blending?.seamRatio),
    psnrOutside: pick((p) => p.blending?.psnrOutside),
  };
}

/** Same-person vs different-person similarity between targets and sources of known identity. */
async function recogniserBaseline(
  sources: readonly (NamedImage & { faces: Face[] })[],
  targets: readonly (NamedImage & { faces: Face[] })[],
  sourceEmbeddings: readonly Float32Array[],
  recogniser: Recogniser,
): Promise<EvalReport['recogniserBaseline']> {
  const same: number[] = [];
  const different: number[] = [];
  for (const target of targets) {
    if (!target.identity || !target.faces[0]) continue;
    const e = await recogniser.embed(target.image, target.faces[0]);
    sources.forEach((s, i) => {
      if (!s.identity || sourceEmbeddings[i].length === 0) return;
      (s.identity === target.identity ? same : different).push(cosineSimilarity(e, sourceEmbeddings[i]));
    });
  }
  return same.length && different.length ? { sameIdentity: summarise(same), differentIdentity: summarise(different) } : undefined;
}

export async function writeEvalJson(outDir: string, report: EvalReport): Promise<string> {
  const path = join(outDir, 'eval.json');
  await writeFile(path, JSON.stringify(report, (_, v) => (v === Infinity ? 'Infinity' : v), 2));
  return path;
}

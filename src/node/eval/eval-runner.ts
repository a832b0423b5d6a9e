/**
 * `liveswap eval`: swaps every source onto every target and measures the result with models and
 * maths independent of the engine: identity (two recognisers: against the source photo, the source
 * person's gallery and every person's gallery), pose and expression (the mesh), blending (seam and
 * untouched surroundings), and, for video targets, stability over frames. With ablation variants
 * the stills run once per variant of the mesh engine's settings.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import type { Image } from '../../core/image.js';
import { attributeDifference } from '../../eval/attributes.js';
import { measureAgainstGalleries, measureAgainstSources, type IdentityMeasures } from '../../eval/gallery.js';
import { outsideBoxes, psnr, seamRatio } from '../../eval/image-metrics.js';
import type { Recogniser, RecogniserId } from '../../eval/recognisers.js';
import { maskEdgeBand } from '../../eval/seam.js';
import { faceSize, type Face } from '../../face/face.js';
import { faceAt } from '../../face/select.js';
import { resolveSwapOptions, type EngineChoice } from '../../pipeline/options.js';
import type { PreparedSource } from '../../pipeline/still.js';
import type { MeshAblation } from '../../swap/mesh-tuning.js';
import { ablationRow } from './eval-ablation.js';
import { prepareEval, type AnalysedPicture, type PreparedEval, type TargetFace } from './eval-prepare.js';
import { aggregatePairs, type EvalReport, type PairResult, type VideoResult } from './eval-report.js';
import type { EvalSet } from './eval-set.js';
import { evaluateVideo } from './eval-video.js';
import { writeImage } from '../media/image-io.js';
import type { NodeSwapper } from '../jobs/swapper.js';

export type { EvalReport, PairResult, VideoResult } from './eval-report.js';
export type { Recogniser } from '../../eval/recognisers.js';

export interface EvalOptions {
  engine: EngineChoice;
  outDir: string;
  mode: EvalReport['mode'];
  /** Called after each pair, for progress output. */
  onPair?: (result: PairResult, done: number, total: number) => void;
  /**
   * Mesh-engine variants, 'defaults' first: the stills run once per variant (videos are skipped)
   * and the report gets an ablation table. Its pairs and aggregate are the first variant's.
   */
  ablations?: readonly MeshAblation[];
  /** Called before each variant's pairs. */
  onVariant?: (name: string, index: number, total: number) => void;
}

/** Thumbnail edge in pixels. */
const THUMB = 160;

/** A square crop around the face (twice its size, clamped to the picture), THUMB pixels high. */
async function faceThumbnail(outDir: string, name: string, image: Image, face: Face | undefined): Promise<string> {
  const file = `thumbs/${name.replace(/[^\w.-]+/g, '_')}.jpg`;
  const side = face ? Math.min(image.width, image.height, Math.round(faceSize(face) * 2)) : Math.min(image.width, image.height);
  const cx = face ? face.box[0] + face.box[2] / 2 : image.width / 2;
  const cy = face ? face.box[1] + face.box[3] / 2 : image.height / 2;
  const left = Math.max(0, Math.min(image.width - side, Math.round(cx - side / 2)));
  const top = Math.max(0, Math.min(image.height - side, Math.round(cy - side / 2)));
  const raw = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const { data, info } = await sharp(raw, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .extract({ left, top, width: side, height: side })
    .resize({ height: THUMB, kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  await writeImage(join(outDir, file), { width: info.width, height: info.height, channels: 3, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) });
  return file;
}

function measureIdentity(prep: PreparedEval, id: RecogniserId, output: Float32Array, source: AnalysedPicture, si: number, target: TargetFace): IdentityMeasures | undefined {
  const t = target.embeddings?.[id];
  const s = source.embeddings?.[id];
  if (!t || !s) return undefined;
  const galleries = prep.galleries?.[id];
  const sources = prep.sources.map((p) => ({ name: p.name, embedding: p.embeddings?.[id] ?? new Float32Array(s.length) }));
  if (galleries && source.identity) return measureAgainstGalleries({ output, target: t, source: s }, galleries, source.identity, target.picture.name, sources);
  return measureAgainstSources({ output, target: t }, sources, si);
}

interface PairRun {
  swapper: NodeSwapper;
  recognisers: readonly Recogniser[];
  options: EvalOptions;
  /** Write source/target/result thumbnails (the report's variant only). */
  thumbnails: boolean;
  /** The engine the swaps report (shared by every variant's run). */
  engine: { name: string };
}

async function measurePair(prep: PreparedEval, run: PairRun, source: AnalysedPicture, si: number, prepared: PreparedSource, target: TargetFace, result: PairResult): Promise<void> {
  const swappedFace = target.face!;
  const swapOptions = resolveSwapOptions({ engine: run.options.engine, faceIndex: target.faceIndex });
  const { image, report } = await run.swapper.swap(prepared, target.picture.image, swapOptions, { marks: false }); // the swap itself is measured
  run.engine.name = report.engine;
  if (report.swappedFaces.length === 0) {
    // The engine left the face alone (e.g. turned too far): nothing to measure, and it says why.
    result.skipped = report.skippedFaces[0]?.reason ?? 'the engine swapped no face';
    return;
  }
  const outputFace = faceAt(await run.swapper.analyze(image), swappedFace);
  result.timings = report.timings;
  result.blending = {
    seamRatio: seamRatio(image, target.picture.image, maskEdgeBand(swappedFace, target.picture.image)),
    psnrOutside: psnr(
      image,
      target.picture.image,
      outsideBoxes(
        report.swappedFaces.map((i) => target.picture.faces[i].box),
        0.25,
      ),
    ),
  };
  if (!outputFace) result.skipped = 'no face found on the output';
  else {
    const identity: PairResult['identity'] = {};
    for (const r of run.recognisers) {
      const measured = measureIdentity(prep, r.id, await r.embed(image, outputFace), source, si, target);
      if (measured) identity[r.id] = measured;
    }
    result.identity = identity;
    result.attributes = attributeDifference(outputFace, swappedFace);
  }
  if (run.thumbnails) {
    result.thumbnails = {
      source: await faceThumbnail(run.options.outDir, `source-${source.name}`, source.image, source.face),
      target: await faceThumbnail(run.options.outDir, `target-${target.name}`, target.picture.image, swappedFace),
      result: await faceThumbnail(run.options.outDir, `result-${source.name}-to-${target.name}`, image, swappedFace),
    };
  }
}

/** The engine's identity of a source: from its photo, or from all its photos (the engine combines them). */
function prepareEvalSource(swapper: NodeSwapper, source: AnalysedPicture, maxPixels: number): Promise<PreparedSource> {
  const options = { sourceFace: source.faceIndex, maxPixels };
  if (!source.morePhotos?.length) return swapper.prepareSource(source.image, options, source.name);
  const photos = [source, ...source.morePhotos];
  return swapper.prepareSources(
    photos.map((p) => p.image),
    options,
    photos.map((p) => p.name),
  );
}

async function runPairs(prep: PreparedEval, run: PairRun): Promise<PairResult[]> {
  const pairs: PairResult[] = [];
  // A source is never swapped onto any of its own photos.
  const plan = prep.sources.flatMap((source, si) => {
    const own = new Set([source.name, ...(source.morePhotos ?? []).map((p) => p.name)]);
    return prep.targets.filter((t) => !own.has(t.picture.name)).map((target) => ({ source, si, target }));
  });
  const swapOptions = resolveSwapOptions({ engine: run.options.engine });
  const preparedSources = new Map<AnalysedPicture, PreparedSource>();
  for (const { source, si, target } of plan) {
    const result: PairResult = { source: source.name, target: target.name };
    if (source.identity && target.picture.identity) result.samePerson = source.identity === target.picture.identity;
    pairs.push(result);
    if (!source.face) result.skipped = 'no face in the source';
    else if (!target.face) result.skipped = 'no face in the target';
    else {
      let prepared = preparedSources.get(source);
      if (!prepared) {
        prepared = await prepareEvalSource(run.swapper, source, swapOptions.maxPixels);
        preparedSources.set(source, prepared);
      }
      await measurePair(prep, run, source, si, prepared, target, result);
    }
    run.options.onPair?.(result, pairs.length, plan.length);
  }
  return pairs;
}

export async function runEval(set: EvalSet, swapper: NodeSwapper, recognisers: readonly Recogniser[], options: EvalOptions): Promise<EvalReport> {
  await mkdir(join(options.outDir, 'thumbs'), { recursive: true });
  const prep = await prepareEval(set, swapper, recognisers);
  const variants = options.ablations ?? [];
  const run: PairRun = { swapper, recognisers, options, thumbnails: true, engine: { name: resolveSwapOptions({ engine: options.engine }).engine } };
  let pairs: PairResult[] = [];
  const ablation: EvalReport['ablation'] = [];
  if (variants.length === 0) pairs = await runPairs(prep, run);
  for (const [i, variant] of variants.entries()) {
    options.onVariant?.(variant.name, i, variants.length);
    const tuned = swapper.withMeshTuning(variant.tuning);
    const variantPairs = await runPairs(prep, { ...run, swapper: tuned, thumbnails: i === 0 });
    if (i === 0) pairs = variantPairs;
    ablation.push(
      ablationRow(
        variant.name,
        aggregatePairs(variantPairs),
        recognisers.map((r) => r.id),
      ),
    );
    await tuned.close();
  }

  const videos: VideoResult[] = [];
  const firstSource = prep.sources.find((s) => s.face);
  if (variants.length === 0 && firstSource) {
    const prepared = await prepareEvalSource(swapper, firstSource, resolveSwapOptions().maxPixels);
    for (const video of set.videos) videos.push(await evaluateVideo(video, basename(video), prepared, firstSource.name, swapper, options.engine));
  }

  const report: EvalReport = {
    engine: run.engine.name,
    mode: options.mode,
    recognisers: recognisers.map((r) => ({ id: r.id, name: r.name })),
    gainAgainst: prep.galleries ? 'gallery' : 'source',
    sources: prep.sources.map((s) => s.name),
    targets: prep.targets.map((t) => t.name),
    pairs,
    aggregate: aggregatePairs(pairs),
    videos,
  };
  const several = prep.sources.filter((s) => s.morePhotos?.length);
  if (several.length) report.sourcePhotos = several.map((s) => ({ source: s.name, photos: [s.name, ...s.morePhotos!.map((p) => p.name)] }));
  if (set.galleries) report.galleries = set.galleries;
  if (prep.baseline) report.recogniserBaseline = prep.baseline;
  if (variants.length) report.ablation = ablation;
  return report;
}

export async function writeEvalJson(outDir: string, report: EvalReport): Promise<string> {
  const path = join(outDir, 'eval.json');
  await writeFile(
    path,
    JSON.stringify(report, (_, v: unknown) => (v === Infinity ? 'Infinity' : v), 2),
  );
  return path;
}

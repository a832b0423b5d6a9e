/**
 * Still-image swap: find the faces in source and target, take the identity from one source face,
 * and paint it onto the chosen target faces. Platform-free; Node and browser inject the models.
 */

import { LiveswapError } from '../core/errors.js';
import { cloneImage, toRgb, type Image } from '../core/image.js';
import type { AnalyzeTimings } from '../face/analyzer.js';
import type { Face } from '../face/face.js';
import { primaryFaceIndex } from '../face/select.js';
import { Compositor } from '../compose/paste.js';
import type { OcclusionChoice } from '../compose/region-mask.js';
import type { FaceSwapper, SwapSettings } from '../swap/engine.js';
import type { SwapOptions } from './options.js';
import type { FaceSummary, SkippedFace, StillResult } from './report.js';

function summarise(faces: readonly Face[]): FaceSummary[] {
  return faces.map((f, index) => ({
    index,
    box: f.box.map((v) => Math.round(v * 10) / 10) as [number, number, number, number],
    score: Math.round(f.score * 1000) / 1000,
  }));
}

function checkPixels(image: Image, role: string, maxPixels: number): void {
  if (image.width * image.height > maxPixels) {
    throw new LiveswapError('input-too-large', `The ${role} image is ${image.width}×${image.height} (${image.width * image.height} pixels), over the limit of ${maxPixels}.`);
  }
}

/** What finds faces for an engine: BlazeFace + FaceMesh for mesh, SCRFD (+ FaceMesh) for inswapper. */
export interface FaceFinder {
  /** Faces largest first; `known`: faces followed from the frame before, refined from where they were when detected again. */
  analyze(image: Image, options?: undefined, timings?: AnalyzeTimings, known?: readonly Face[]): Promise<Face[]>;
}

/** A source photo analysed once, ready to be swapped onto many targets. */
export interface PreparedSource<Identity = unknown> {
  faces: FaceSummary[];
  /** Which of `faces` the identity was taken from. */
  faceIndex: number;
  identity: Identity;
  notices: string[];
  /** What preparing cost (ms): analysing the photo, and making the identity. */
  timings: { source: number; identity: number };
}

/** One face of a frame to paint, and whose identity goes on it. */
export interface FaceJob<Identity = unknown> {
  face: Face;
  identity: Identity;
}

/** Painting stages (ms): the engine's warp, colour matching and blending. */
export interface PaintTimings {
  warp: number;
  colour: number;
  blend: number;
}

export interface InputNames {
  source?: string;
  target?: string;
}

/** A face enhancer run on each painted face after its paste (swap/face-enhancer.ts). */
export interface PaintEnhancer {
  /** `occlusion`: the occlusion mask the paint uses; the enhancement keeps off what covers the face too. */
  enhance(frame: Image, face: Face, settings: { blend: number; weight: number; occlusion?: OcclusionChoice }): Promise<void>;
}

/** The engine's enhancer loader: the enhancer of a row id, loaded once; throws when it is not installed. */
export type EnhancerSource = (id: string) => Promise<PaintEnhancer>;

export class StillSwapper<Identity = unknown> {
  private readonly compositor = new Compositor();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly analyzer: FaceFinder,
    private readonly engine: FaceSwapper<Identity>,
    /** Where `faceEnhancer` finds its model; without it an enhancer asked for is an error. */
    private readonly enhancers?: EnhancerSource,
  ) {}

  /**
   * Analyses a source photo and makes the engine's identity from one of its faces, once: pass the
   * result to {@link swap} for every target of a batch or frame of a stream.
   */
  async prepareSource(sourceImage: Image, options: Pick<SwapOptions, 'sourceFace' | 'maxPixels'>, file?: string): Promise<PreparedSource<Identity>> {
    checkPixels(sourceImage, 'source', options.maxPixels);
    // The engines work in colour; a grey picture is treated as the RGB picture it shows, and an
    // RGBA one (a canvas's pixels) as its RGB: the identity's own fourth channel is the engine's.
    const source = sourceImage.channels !== 3 ? toRgb(sourceImage) : sourceImage;
    const timings = { detect: 0, mesh: 0 };
    const faces = await this.analyzer.analyze(source, undefined, timings);
    if (faces.length === 0) {
      throw new LiveswapError('no-face', `${file ?? 'source'}: no face was found in the source image. Use a photo where one face is clearly visible.`, { file });
    }
    const faceIndex = options.sourceFace ?? 0;
    const face = faces[faceIndex];
    if (!face) throw new LiveswapError('usage', `--source-face ${faceIndex} is out of range: the source image has ${faces.length} face(s) (0..${faces.length - 1}).`);
    const notices = faces.length > 1 && options.sourceFace === undefined ? [`The source image has ${faces.length} faces; using the largest (--source-face picks another).`] : [];
    const t = performance.now();
    const identity = await this.engine.createIdentity(source, face);
    return { faces: summarise(faces), faceIndex, identity, notices, timings: { source: timings.detect + timings.mesh, identity: performance.now() - t } };
  }

  /**
   * Several photos of one person as one identity: each is prepared as above, then the engine
   * combines them (inswapper averages the embeddings); an engine that cannot combine uses the
   * first photo and says so. `files` name the photos in messages.
   */
  async prepareSources(images: readonly Image[], options: Pick<SwapOptions, 'sourceFace' | 'maxPixels'>, files: readonly string[] = []): Promise<PreparedSource<Identity>> {
    if (images.length === 0) throw new LiveswapError('usage', 'At least one source photo is needed.');
    const prepared: PreparedSource<Identity>[] = [];
    for (const [i, image] of images.entries()) prepared.push(await this.prepareSource(image, options, files[i]));
    const [first] = prepared;
    if (prepared.length === 1) return first;
    const notices = prepared.flatMap((p) => p.notices);
    const timings = { source: prepared.reduce((s, p) => s + p.timings.source, 0), identity: prepared.reduce((s, p) => s + p.timings.identity, 0) };
    if (this.engine.combineIdentities) {
      notices.push(`Combined ${prepared.length} source photos into one identity.`);
      return { ...first, identity: await this.engine.combineIdentities(prepared.map((p) => p.identity)), notices, timings };
    }
    notices.push(`The ${this.engine.name} engine takes its identity from one photo: using the first of ${prepared.length}.`);
    return { ...first, notices, timings };
  }

  /**
   * Swaps the source onto the chosen faces of the target; the target is not modified. The source
   * is a photo (analysed on every call) or the result of {@link prepareSource}. `files` names the
   * inputs in messages and on errors (e.g. their paths); default "source"/"target".
   */
  swap(sourceImage: Image | PreparedSource<Identity>, targetImage: Image, options: SwapOptions, files: InputNames = {}): Promise<StillResult> {
    // The engine and compositor reuse working buffers between calls: one swap at a time.
    const run = this.queue.then(() => this.swapNow(sourceImage, targetImage, options, files));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async swapNow(sourceImage: Image | PreparedSource<Identity>, targetImage: Image, options: SwapOptions, files: InputNames): Promise<StillResult> {
    const prepared = 'identity' in sourceImage ? sourceImage : await this.prepareSource(sourceImage, options, files.source);
    checkPixels(targetImage, 'target', options.maxPixels);
    const target = targetImage.channels === 1 ? toRgb(targetImage) : targetImage;
    // The source is analysed once per identity (once per video or stream), so it is timed apart
    // from the per-target stages; a prepared source costs nothing here.
    const preparedHere = prepared !== sourceImage;
    const timings = {
      source: preparedHere ? prepared.timings.source : 0,
      detect: 0,
      mesh: 0,
      identity: preparedHere ? prepared.timings.identity : 0,
      warp: 0,
      colour: 0,
      blend: 0,
    };

    const targetFaces = await this.analyzer.analyze(target, undefined, timings);
    if (targetFaces.length === 0) throw new LiveswapError('no-face', `${files.target ?? 'target'}: no face was found in the target image.`, { file: files.target });
    const chosen: number[] = [];
    const skippedFaces: SkippedFace[] = [];
    for (const index of this.chooseTargets(targetFaces, target, options, files.target)) {
      const reason = this.engine.skipReason?.(targetFaces[index]!);
      if (reason) skippedFaces.push({ index, reason });
      else chosen.push(index);
    }

    const output = cloneImage(target);
    await this.paintNow(
      output,
      chosen.map((i) => ({ face: targetFaces[i]!, identity: prepared.identity })),
      options,
      timings,
    );

    const rounded = Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v * 100) / 100]));
    return {
      image: output,
      report: {
        engine: this.engine.name,
        sourceFaces: prepared.faces,
        targetFaces: summarise(targetFaces),
        sourceFaceUsed: prepared.faceIndex,
        swappedFaces: chosen,
        skippedFaces,
        timings: rounded,
        notices: [...prepared.notices, ...skippedFaces.map((s) => `target face ${s.index} was left untouched: ${s.reason}`)],
      },
    };
  }

  /**
   * Paints identities onto faces already found (a video's tracked, smoothed faces), in place on
   * `frame`. Calls are serialised with {@link swap}. `timings` (ms) is added to when given.
   */
  paintFaces(frame: Image, jobs: readonly FaceJob<Identity>[], options: SwapOptions, timings?: PaintTimings): Promise<void> {
    const run = this.queue.then(() => this.paintNow(frame, jobs, options, timings ?? { warp: 0, colour: 0, blend: 0 }));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async paintNow(output: Image, jobs: readonly FaceJob<Identity>[], options: SwapOptions, timings: PaintTimings): Promise<void> {
    const settings = {
      mouthMask: options.mouthMask ?? this.engine.mouthMaskByDefault,
      opacity: options.opacity,
      sharpness: options.sharpness,
      colorMatch: options.colorMatch ?? this.engine.colorMatchByDefault,
      faceShape: options.faceShape,
      faceOutline: options.faceOutline,
      masks: maskSettings(options),
      pixelBoost: options.pixelBoost,
      identityWeight: options.swapperWeight,
    };
    const enhancer = options.faceEnhancer === undefined ? undefined : await this.enhancerFor(options.faceEnhancer);
    for (const { face, identity } of jobs) {
      if (this.engine.skipReason?.(face)) continue;
      // The engine renders a patch; the compositor pastes it by the strategy it names.
      const t = performance.now();
      const patch = await this.engine.render(output, face, identity, settings);
      timings.warp += performance.now() - t;
      this.compositor.compose(output, patch, settings, timings);
      // FaceFusion runs the enhancer on the swapped frame, face by face (spec §8.1).
      if (enhancer) await enhancer.enhance(output, face, { blend: options.faceEnhancerBlend ?? 80, weight: options.faceEnhancerWeight ?? 0.5, occlusion: options.occlusionMask });
    }
  }

  private enhancerFor(id: string): Promise<PaintEnhancer> {
    if (!this.enhancers) return Promise.reject(new LiveswapError('model', `The face enhancer ${id} cannot run here: this engine was opened without enhancers.`));
    return this.enhancers(id);
  }

  private chooseTargets(faces: readonly Face[], target: Image, options: SwapOptions, file?: string): number[] {
    if (options.manyFaces) return faces.map((_, i) => i);
    if (options.faceIndex !== undefined) {
      if (options.faceIndex >= faces.length) {
        throw new LiveswapError('usage', `--face-index ${options.faceIndex} is out of range: the target image has ${faces.length} face(s) (0..${faces.length - 1}).`);
      }
      return [options.faceIndex];
    }
    const primary = primaryFaceIndex(faces, target.width, target.height);
    // -1 only when no face could be rated (the finders drop non-finite ones): no usable face.
    if (primary < 0) throw new LiveswapError('no-face', `${file ?? 'target'}: no usable face was found in the target image.`, { file });
    return [primary];
  }
}

/** The mask settings the paint options ask for (partial swaps, box mask, strength), or undefined when none. */
function maskSettings(options: SwapOptions): SwapSettings['masks'] {
  const { maskRegions, keepRegions, maskStrength, maskPadding, maskBlur, occlusionMask, faceParser } = options;
  if (maskRegions === undefined && keepRegions === undefined && (maskStrength ?? 1) >= 1 && maskPadding === undefined && maskBlur === undefined && occlusionMask === undefined)
    return undefined;
  const boxPadding = maskPadding && ([maskPadding[0], maskPadding[1], maskPadding[2], maskPadding[3]] as const);
  return { regions: maskRegions, keepRegions, strength: maskStrength ?? 1, boxPadding, boxBlur: maskBlur, occlusion: occlusionMask, parser: faceParser };
}

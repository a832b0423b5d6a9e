/**
 * Still-image swap: find the faces in source and target, take the identity from one source face,
 * and paint it onto the chosen target faces. Platform-free; Node and browser inject the models.
 */

import { LiveswapError } from '../core/errors.js';
import { cloneImage, toRgb, type Image } from '../core/image.js';
import type { FaceAnalyzer } from '../face/analyzer.js';
import type { Face } from '../face/face.js';
import { primaryFaceIndex } from '../face/select.js';
import { Compositor } from '../compose/paste.js';
import type { FaceSwapper } from '../swap/engine.js';
import type { SwapOptions } from './options.js';
import type { FaceSummary, StillResult } from './report.js';

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

export interface InputNames {
  source?: string;
  target?: string;
}

export class StillSwapper<Identity = unknown> {
  private readonly compositor = new Compositor();

  constructor(
    private readonly analyzer: FaceAnalyzer,
    private readonly engine: FaceSwapper<Identity>,
  ) {}

  /** `files` names the inputs in messages and on errors (e.g. their paths); default "source"/"target". */
  async swap(sourceImage: Image, targetImage: Image, options: SwapOptions, files: InputNames = {}): Promise<StillResult> {
    checkPixels(sourceImage, 'source', options.maxPixels);
    checkPixels(targetImage, 'target', options.maxPixels);
    // The engines work in colour; a grey picture is treated as the RGB picture it shows.
    const source = sourceImage.channels === 1 ? toRgb(sourceImage) : sourceImage;
    const target = targetImage.channels === 1 ? toRgb(targetImage) : targetImage;
    // The source is analysed once per identity (once per video or stream), so it is timed apart
    // from the per-target stages.
    const sourceTimings = { detect: 0, mesh: 0 };
    const timings = { source: 0, detect: 0, mesh: 0, identity: 0, warp: 0, colour: 0, blend: 0 };
    const notices: string[] = [];

    const sourceFaces = await this.analyzer.analyze(source, undefined, sourceTimings);
    timings.source = sourceTimings.detect + sourceTimings.mesh;
    if (sourceFaces.length === 0) {
      throw new LiveswapError('no-face', `${files.source ?? 'source'}: no face was found in the source image. Use a photo where one face is clearly visible.`, { file: files.source });
    }
    const sourceIndex = options.sourceFace ?? 0;
    const sourceFace = sourceFaces[sourceIndex];
    if (!sourceFace) throw new LiveswapError('usage', `--source-face ${sourceIndex} is out of range: the source image has ${sourceFaces.length} face(s) (0..${sourceFaces.length - 1}).`);
    if (sourceFaces.length > 1 && options.sourceFace === undefined) notices.push(`The source image has ${sourceFaces.length} faces; using the largest (--source-face picks another).`);

    const targetFaces = await this.analyzer.analyze(target, undefined, timings);
    if (targetFaces.length === 0) throw new LiveswapError('no-face', `${files.target ?? 'target'}: no face was found in the target image.`, { file: files.target });
    const chosen = this.chooseTargets(targetFaces, target, options);

    let t = performance.now();
    const identity = this.engine.createIdentity(source, sourceFace);
    timings.identity += performance.now() - t;
    const output = cloneImage(target);
    const settings = {
      mouthMask: options.mouthMask ?? this.engine.mouthMaskByDefault,
      opacity: options.opacity,
      sharpness: options.sharpness,
      colorMatch: options.colorMatch,
    };
    for (const i of chosen) {
      t = performance.now();
      const patch = this.engine.swap(output, targetFaces[i], identity, settings);
      timings.warp += performance.now() - t;
      this.compositor.compose(output, patch, settings, timings);
    }

    const rounded = Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v * 100) / 100]));
    return {
      image: output,
      report: {
        engine: this.engine.name,
        sourceFaces: summarise(sourceFaces),
        targetFaces: summarise(targetFaces),
        sourceFaceUsed: sourceIndex,
        swappedFaces: chosen,
        timings: rounded,
        notices,
      },
    };
  }

  private chooseTargets(faces: readonly Face[], target: Image, options: SwapOptions): number[] {
    if (options.manyFaces) return faces.map((_, i) => i);
    if (options.faceIndex !== undefined) {
      if (options.faceIndex >= faces.length) {
        throw new LiveswapError('usage', `--face-index ${options.faceIndex} is out of range: the target image has ${faces.length} face(s) (0..${faces.length - 1}).`);
      }
      return [options.faceIndex];
    }
    return [primaryFaceIndex(faces, target.width, target.height)];
  }
}

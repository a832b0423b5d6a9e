/**
 * One stream's swap, the same for a still, a video file and a live camera: plan (find, follow and
 * choose faces) → paint (each face its identity) → mark (label and watermark, last). The CLI, the
 * library, the browser worker and the coming server all run frames through it, so a frame leaves
 * marked unless the caller said `marks: false`, and the result says which marks it carries.
 * Platform-free: the engine comes in through {@link FrameEngine}.
 */

import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import type { Face } from '../face/face.js';
import { FrameMarker, type MarkSettings } from '../provenance/marks.js';
import type { SwapOptions } from './options.js';
import { pasteBack } from './working-frame.js';
import type { StillResult } from './report.js';
import type { FaceJob, InputNames, PaintTimings, PreparedSource } from './still.js';
import { VideoFacePlanner, type FaceSelection, type FramePlan, type PlanTimings, type VideoFaceOptions } from './video.js';

/** What the processor needs from an engine: finding and following faces, and painting them. */
export interface FrameEngine {
  readonly name: string;
  /** Faces in a frame (detector and landmarks), largest first; `known`: the faces followed from the frame before (see FrameFaceFinder). */
  analyze(image: Image, known?: readonly Face[]): Promise<Face[]>;
  /** Follows a face into the next frame without the detector; absent: detect on every frame. */
  readonly track?: ((image: Image, face: Face) => Promise<Face | undefined>) | undefined;
  /** Paints identities onto faces already found, in place. */
  paintFaces(frame: Image, jobs: readonly FaceJob[], options: SwapOptions, timings?: PaintTimings): Promise<void>;
  /** A still: finds the target's faces, chooses them by the options and paints a copy. */
  swap(source: PreparedSource, target: Image, options: SwapOptions, files?: InputNames): Promise<StillResult>;
}

/**
 * The marks stage: settings (the processor makes the marker), a marker made already (so a video's
 * frames share one asset id with its published file), or `false` to leave frames unmarked, which
 * only an explicit choice of the caller may do.
 */
export type MarkChoice = MarkSettings | FrameMarker | false;

/** Which marks a frame or an output carries. */
export interface MarksApplied {
  label: boolean;
  watermark: boolean;
  /** The watermark's asset id as printed by `liveswap verify`, when watermarked. */
  watermarkId?: string;
}

export interface FrameProcessorOptions {
  /**
   * 'still': one picture, its faces found and chosen by the paint options (main face, one index or
   * all); 'stream': frames in time order, faces followed by the planner across frames.
   */
  mode: 'still' | 'stream';
  paint: SwapOptions;
  /** Stream mode: how faces are found, followed, smoothed and chosen. */
  tracking?: VideoFaceOptions;
  /** Stream mode: an identity descriptor, for choosing people by who they are. */
  embed?: (image: Image, face: Face) => Promise<Float32Array>;
  /** The last stage; required so that no caller leaves it out by accident. */
  marks: MarkChoice;
}

/** One face painted on a frame: which followed person, and which identity slot went on it. */
export interface PaintedFace {
  trackId: number;
  slot: number;
  face: Face;
}

export interface ProcessTimings extends PlanTimings, PaintTimings {
  mark: number;
}

/** A processed frame's stage times: {@link ProcessTimings}, and the scaling back of a working frame's faces. */
export interface ProcessedTimings extends ProcessTimings {
  /** Putting the faces painted on a smaller working frame back onto the full frame (0 without one). */
  upscale: number;
}

export interface ProcessedFrame {
  /** The output: the input frame painted in place (stream), or a painted copy (still). */
  image: Image;
  /** Stream mode: the plan (faces followed, detection, cut). */
  plan?: FramePlan;
  /** Still mode: the faces found, chosen, skipped and the stage timings. */
  still?: StillResult['report'];
  painted: PaintedFace[];
  timings: ProcessedTimings;
  marks: MarksApplied;
}

export interface ProcessHooks {
  /** Called (and awaited) once the frame is planned, before it is painted (stream mode). */
  onPlan?: (frame: Image, plan: FramePlan) => void | Promise<void>;
  /** Names the inputs in messages (still mode). */
  files?: InputNames;
  /**
   * Stream mode: a smaller copy of the frame (the same picture scaled down, RGBA like the frame) to
   * find and paint faces on, for a lower working resolution. The plan's faces are then in its
   * pixels; only the pixels the painting changed are scaled back onto the frame, which is marked
   * at its full size afterwards (so the label stays sharp). The copy is painted on.
   */
  work?: Image;
}

function markerOf(choice: MarkChoice): FrameMarker | undefined {
  if (choice === false) return undefined;
  return choice instanceof FrameMarker ? choice : new FrameMarker(choice);
}

export class FrameProcessor {
  private identities: readonly (PreparedSource | undefined)[];
  private marker: FrameMarker | undefined;
  private planner: VideoFacePlanner | undefined;
  private paintOptions: SwapOptions;
  private index = 0;
  private closed = false;
  /** The working frame's pixels before painting, and which of them the painting changed: reused frame to frame. */
  private before = new Uint8ClampedArray(0);
  private changed = new Uint8Array(0);

  private constructor(
    private readonly engine: FrameEngine,
    options: FrameProcessorOptions,
    identities: readonly (PreparedSource | undefined)[],
  ) {
    this.identities = identities;
    this.paintOptions = options.paint;
    // A bad key or label fails here, at the start, not on every frame.
    this.marker = markerOf(options.marks);
    if (options.mode === 'stream') {
      if (!options.tracking) throw new LiveswapError('usage', 'A stream needs tracking options (how faces are found and followed).');
      this.planner = new VideoFacePlanner(
        { analyze: (image, known) => engine.analyze(image, known), ...(engine.track ? { track: engine.track } : {}), ...(options.embed ? { embed: options.embed } : {}) },
        options.tracking,
      );
    }
  }

  /**
   * A processor for one stream. `identities` are by slot: slot 0 for a single source, one per
   * person of a face map (undefined: leave that person alone).
   */
  static create(engine: FrameEngine, options: FrameProcessorOptions, identities: readonly (PreparedSource | undefined)[]): FrameProcessor {
    if (options.mode === 'still' && !identities[0]) throw new LiveswapError('usage', 'A still needs a source identity.');
    return new FrameProcessor(engine, options, identities);
  }

  /** The marks every frame of this processor gets. */
  get marks(): MarksApplied {
    return this.marker ? { label: this.marker.labelShown, watermark: true, watermarkId: this.marker.watermarkId } : { label: false, watermark: false };
  }

  /**
   * Plans, paints and marks one frame. `tSeconds` is its presentation time (stream mode: frames
   * come in time order). Stream frames are painted in place; a still is painted on a copy.
   */
  async process(frame: Image, tSeconds: number, hooks: ProcessHooks = {}): Promise<ProcessedFrame> {
    if (this.closed) throw new LiveswapError('usage', 'This frame processor was closed.');
    const timings: ProcessedTimings = { detect: 0, track: 0, embed: 0, warp: 0, colour: 0, blend: 0, mark: 0, upscale: 0 };
    const result = this.planner ? await this.paintStream(frame, tSeconds, timings, hooks) : await this.paintStill(frame, timings, hooks);
    if (this.marker) {
      const t = performance.now();
      this.marker.mark(result.image);
      timings.mark = performance.now() - t;
    }
    return { ...result, timings, marks: this.marks };
  }

  private async paintStill(target: Image, timings: ProcessTimings, hooks: ProcessHooks): Promise<Omit<ProcessedFrame, 'timings' | 'marks'>> {
    const result = await this.engine.swap(this.identities[0]!, target, this.paintOptions, hooks.files);
    for (const key of ['detect', 'warp', 'colour', 'blend'] as const) timings[key] = result.report.timings[key] ?? 0;
    return { image: result.image, still: result.report, painted: [] };
  }

  private async paintStream(frame: Image, tSeconds: number, timings: ProcessedTimings, hooks: ProcessHooks): Promise<Omit<ProcessedFrame, 'timings' | 'marks'>> {
    const work = hooks.work && (hooks.work.width !== frame.width || hooks.work.height !== frame.height) ? hooks.work : undefined;
    if (work && (work.channels !== 4 || frame.channels !== 4)) throw new LiveswapError('usage', 'A working frame needs RGBA pixels, as does the frame it stands for.');
    const target = work ?? frame;
    const plan = await this.planner!.plan(target, tSeconds, this.index++, timings);
    await hooks.onPlan?.(target, plan);
    const jobs: FaceJob[] = [];
    const painted: PaintedFace[] = [];
    for (const planned of plan.faces) {
      const identity = this.identities[planned.slot];
      if (!identity) continue;
      jobs.push({ face: planned.face, identity: identity.identity });
      painted.push(planned);
    }
    if (jobs.length === 0) return { image: frame, plan, painted };
    if (work) {
      if (this.before.length !== work.data.length) this.before = new Uint8ClampedArray(work.data.length);
      this.before.set(work.data);
    }
    await this.engine.paintFaces(target, jobs, this.paintOptions, timings);
    if (work) {
      const t = performance.now();
      if (this.changed.length < work.width * work.height) this.changed = new Uint8Array(work.width * work.height);
      pasteBack(frame, work, this.before, this.changed);
      timings.upscale = performance.now() - t;
    }
    return { image: frame, plan, painted };
  }

  /** Other identities by slot from the next frame on (a source added, removed or re-picked). */
  setIdentities(identities: readonly (PreparedSource | undefined)[]): void {
    this.identities = identities;
  }

  /** Other paint settings from the next frame on (opacity, mouth mask, …). */
  setPaint(paint: SwapOptions): void {
    this.paintOptions = paint;
  }

  /** Other marks from the next frame on (the live app's label switch). */
  setMarks(marks: MarkChoice): void {
    this.marker = markerOf(marks);
  }

  /** Chooses other people to swap from the next frame on; the faces followed are kept. */
  select(selection: FaceSelection): void {
    this.planner?.select(selection);
  }

  /** Another detection interval for a stream, keeping the faces followed (a still ignores it). */
  setDetectEvery(detectEvery: number | 'auto'): void {
    this.planner?.setDetectEvery(detectEvery);
  }

  /** Forgets every face followed (a cut, another target): the next frame is detected afresh. */
  reset(): void {
    this.planner?.reset();
  }

  /** Ends the stream: the processor's state is dropped; the engine stays with whoever opened it. */
  close(): void {
    this.closed = true;
    this.planner?.reset();
    this.planner = undefined;
    this.marker = undefined;
  }
}

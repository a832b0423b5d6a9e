/**
 * A live stream's swap: source photos the user adds and picks faces from, a planner that follows
 * the faces of the stream (afresh at every cut, every new target and every change of the face
 * painted), a multi-face map built by pointing at faces in the stream, and each frame painted in
 * place. How often faces are looked for is budgeted ({@link LiveSession.setQuality}): while no face
 * is followed the detector runs on every N-th frame only, so a cut or a turned head does not cost
 * a detection on every frame; and while one face is painted, the others in view (a crowd) are
 * tracked on every other frame only (the face-following policy is {@link FollowPolicy}).
 * Platform-free: the browser's worker drives it with camera frames, tests with frames from files.
 */

import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { DEFAULT_ONE_EURO } from '../core/one-euro.js';
import type { Face } from '../face/face.js';
import type { QualityLevel } from './adaptive-quality.js';
import type { AssembledEngine } from './engines.js';
import { FollowPolicy, type FollowBudget } from './follow-policy.js';
import { effectivePixelBoost, REGION_PRESETS, type ProcessSettings } from './live-options.js';
import { LIVE_DEFAULTS, resolveSwapOptions, type FaceRegion, type SwapOptions } from './options.js';
import { FrameProcessor, type MarkChoice, type MarksApplied, type ProcessedTimings } from './frame-processor.js';
import type { PreparedSource } from './still.js';
import { AUTO_DETECT_EVERY, type FaceSelection, type PlanTimings } from './video.js';

/** Computes an identity descriptor of a face (FaceRes), for the multi-face map. */
export type FaceEmbed = (image: Image, face: Face) => Promise<Float32Array>;

export interface LiveSource {
  id: number;
  name: string;
  /** Boxes [x, y, w, h] and scores of the faces found, largest first. */
  faces: { box: [number, number, number, number]; score: number }[];
  /** The face the identity comes from. */
  face: number;
  error?: string;
}

export interface LiveMapEntry {
  trackId: number;
  sourceId: number | null;
}

export interface LiveFace {
  trackId: number;
  box: [number, number, number, number];
  /** The source painted on it this frame, or null. */
  sourceId: number | null;
  /** The map entry it matched, or null. */
  mapEntry: number | null;
}

export interface LiveFrameResult {
  faces: LiveFace[];
  detected: boolean;
  /** Whether the frame started a new shot (a cut in a video, a new picture): it was planned afresh. */
  cut: boolean;
  timings: ProcessedTimings;
  /** The marks the frame carries. */
  marks: MarksApplied;
}

interface SourceEntry {
  state: LiveSource;
  image: Image | undefined;
  prepared: PreparedSource | undefined;
}

interface MapPerson extends LiveMapEntry {
  embedding: Float32Array;
}

/** How often faces are looked for: the part of a {@link QualityLevel} the session applies (the resolution is the caller's). */
export type DetectionBudget = Pick<QualityLevel, 'detectFactor' | 'searchEvery'>;

/** No budget: the detector runs whenever the planner asks (as a video file's frames are done). */
const FULL_DETECTION: DetectionBudget = { detectFactor: 1, searchEvery: 1 };

export class LiveSession {
  private readonly sources = new Map<number, SourceEntry>();
  private main: number | null = null;
  private readonly people: MapPerson[] = [];
  private readonly pending = new Map<number, number | null>();
  private processor: FrameProcessor;
  private swapOptions: SwapOptions;
  private embedder: Promise<FaceEmbed> | undefined;
  private budget: DetectionBudget = FULL_DETECTION;
  /** When faces are looked for, which are tracked on which frame, and where the tracker looks. */
  private readonly following: FollowPolicy;

  constructor(
    private readonly engine: AssembledEngine,
    private settings: ProcessSettings,
    /** The marks on every frame (label and watermark); `false` only by the caller's explicit choice. */
    private marks: MarkChoice,
    /** Loads the face recogniser on first need (it is only used by the multi-face map). */
    private readonly loadEmbed?: () => Promise<FaceEmbed>,
  ) {
    this.swapOptions = this.toSwapOptions(settings);
    const track = engine.track;
    this.following = new FollowPolicy({
      detect: (image, known) => engine.finder.analyze(image, undefined, undefined, known),
      ...(track ? { track: (image: Image, face: Face) => track.call(engine, image, face) } : {}),
    });
    this.processor = this.createProcessor();
  }

  private toSwapOptions(s: ProcessSettings): SwapOptions {
    const regions: { maskRegions?: readonly FaceRegion[]; keepRegions?: readonly FaceRegion[] } = REGION_PRESETS[s.regions] ?? {};
    return resolveSwapOptions({
      engine: this.engine.name,
      manyFaces: s.manyFaces,
      mouthMask: s.mouthMask,
      opacity: s.opacity,
      sharpness: s.sharpness,
      colorMatch: s.colorMatch,
      maskRegions: regions.maskRegions && [...regions.maskRegions],
      keepRegions: regions.keepRegions && [...regions.keepRegions],
      maskStrength: s.maskStrength ?? 1,
      // The model masks and the enhancer run per swapped face in the engine and the still swapper, as in Node.
      faceParser: s.faceParser === undefined || s.faceParser === 'auto' ? undefined : s.faceParser,
      occlusionMask: s.occlusionMask === undefined || s.occlusionMask === 'none' ? undefined : s.occlusionMask,
      faceEnhancer: s.faceEnhancer === undefined || s.faceEnhancer === 'none' ? undefined : s.faceEnhancer,
      faceEnhancerBlend: s.faceEnhancerBlend,
      faceEnhancerWeight: s.faceEnhancerWeight,
      // A boost the engine cannot tile is left out (the page offers only those it can).
      pixelBoost: effectivePixelBoost(this.engine.name, s.pixelBoost ?? 0),
    });
  }

  private selection(): FaceSelection {
    if (this.people.length === 0) return { kind: this.settings.manyFaces ? 'all' : 'primary' };
    return {
      kind: 'map',
      embeddings: this.people.map((p) => p.embedding),
      minSimilarity: this.settings.similarity,
      unmatched: this.settings.manyFaces ? 'all' : 'primary',
    };
  }

  private createProcessor(): FrameProcessor {
    const s = this.settings;
    const embed = this.loadEmbed ? async (image: Image, face: Face) => (await this.embedFunction())(image, face) : undefined;
    const engine = this.engine;
    return FrameProcessor.create(
      {
        name: engine.name,
        analyze: (image, known) => this.following.find(image, known),
        ...(engine.track ? { track: (image: Image, face: Face) => this.following.follow(image, face) } : {}),
        paintFaces: (frame, jobs, options, timings) => engine.still.paintFaces(frame, jobs, options, timings),
        swap: (source, target, options, files) => engine.still.swap(source, target, options, files),
      },
      {
        mode: 'stream',
        paint: this.swapOptions,
        tracking: {
          ...LIVE_DEFAULTS.tracking,
          detectEvery: this.detectEvery(),
          smoothing: s.smoothing ? LIVE_DEFAULTS.tracking.smoothing || DEFAULT_ONE_EURO : false,
          selection: this.selection(),
        },
        ...(embed ? { embed } : {}),
        marks: this.marks,
      },
      this.slotIdentities(),
    );
  }

  /** The user's detection interval, made longer by the budget's factor when a tracker follows faces in between. */
  private detectEvery(): number | 'auto' {
    const chosen = this.settings.detectEvery > 0 ? this.settings.detectEvery : LIVE_DEFAULTS.tracking.detectEvery;
    if (this.budget.detectFactor === 1 || !this.engine.track) return chosen;
    return (chosen === 'auto' ? AUTO_DETECT_EVERY : chosen) * this.budget.detectFactor;
  }

  /** The planner's detection interval as a number of frames. */
  private detectInterval(): number {
    const every = this.detectEvery();
    return every === 'auto' ? (this.engine.track ? AUTO_DETECT_EVERY : 1) : every;
  }

  /** This frame's face-following budget: the detection schedule and search budget, and whether one face only is painted. */
  private followBudget(): FollowBudget {
    return { detectInterval: this.detectInterval(), searchEvery: this.budget.searchEvery, onePainted: this.people.length === 0 && !this.settings.manyFaces };
  }

  /**
   * How often faces are looked for from the next frame on (the adaptive quality controller's
   * choice): the detection interval while faces are followed is multiplied by `detectFactor` (the
   * faces followed start afresh when it changes), and while none is followed the detector runs on
   * every `searchEvery`-th frame.
   */
  setQuality(budget: DetectionBudget): void {
    const before = this.budget;
    this.budget = { detectFactor: budget.detectFactor, searchEvery: budget.searchEvery };
    // The faces followed (and so the numbers the page shows for them) survive a change of budget.
    if (before.detectFactor !== budget.detectFactor) this.processor.setDetectEvery(this.detectEvery());
  }

  get quality(): DetectionBudget {
    return { ...this.budget };
  }

  private rebuildProcessor(): void {
    this.processor.close();
    this.processor = this.createProcessor();
    this.following.searchAtOnce();
    this.following.forget();
  }

  /** The faces followed are dropped: the next frame is detected afresh. */
  private restartTracks(): void {
    this.processor.reset();
    this.following.forget();
  }

  /** The identity on each slot: one per person of the map, then the main source for everyone else. */
  private slotIdentities(): (PreparedSource | undefined)[] {
    const prepared = (id: number | null): PreparedSource | undefined => (id === null ? undefined : this.sources.get(id)?.prepared);
    return [...this.people.map((p) => prepared(p.sourceId)), prepared(this.main)];
  }

  /** Other marks from the next frame on (the label switched on or off, another text). */
  setMarks(marks: MarkChoice): void {
    this.marks = marks;
    this.processor.setMarks(marks);
  }

  /** New settings; the tracks start afresh when how faces are found or smoothed changes. */
  updateSettings(settings: ProcessSettings): void {
    const before = this.settings;
    this.swapOptions = this.toSwapOptions(settings);
    this.settings = settings;
    this.processor.setPaint(this.swapOptions);
    if (before.detectEvery !== settings.detectEvery || before.smoothing !== settings.smoothing) this.rebuildProcessor();
    else if (before.manyFaces !== settings.manyFaces || before.similarity !== settings.similarity) this.processor.select(this.selection());
  }

  /**
   * Another target (camera, video or picture) from the next frame on: the faces followed, their
   * smoothing and who each one is are dropped, and people pointed at but not yet in the map are
   * forgotten, so the next frame is detected afresh and nothing of the old target is painted on it.
   * The map itself is kept: it holds people by their face, whatever the target.
   */
  reset(): void {
    this.restartTracks();
    this.pending.clear();
    this.following.searchAtOnce();
  }

  /** Analyses a photo and makes an identity from its largest face; a photo without a face keeps an error. */
  async addSource(id: number, name: string, image: Image): Promise<LiveSource> {
    const entry: SourceEntry = { state: { id, name, faces: [], face: 0 }, image, prepared: undefined };
    this.sources.set(id, entry);
    try {
      const prepared = await this.engine.still.prepareSource(image, { sourceFace: 0, maxPixels: this.swapOptions.maxPixels }, name);
      entry.prepared = prepared;
      entry.state.faces = prepared.faces.map((f) => ({ box: f.box, score: f.score }));
      if (this.main === null) this.changeMain(id);
    } catch (error) {
      if (!(error instanceof LiveswapError)) throw error;
      entry.state.error = error.kind === 'no-face' ? `No face was found in ${name}. Use a photo where one face is clearly visible.` : error.message;
      entry.image = undefined;
    }
    return entry.state;
  }

  /** Takes the identity from another face of a photo. */
  async pickFace(id: number, face: number): Promise<void> {
    const entry = this.sources.get(id);
    if (!entry?.image || face < 0 || face >= entry.state.faces.length || face === entry.state.face) return;
    entry.prepared = await this.engine.still.prepareSource(entry.image, { sourceFace: face, maxPixels: this.swapOptions.maxPixels }, entry.state.name);
    entry.state.face = face;
    this.sourceChanged(id);
  }

  removeSource(id: number): void {
    this.sources.delete(id);
    if (this.main === id) this.changeMain([...this.sources.values()].find((e) => e.prepared)?.state.id ?? null);
    else this.sourceChanged(id);
  }

  setMainSource(id: number | null): void {
    if (id === null || this.sources.get(id)?.prepared) this.changeMain(id);
  }

  private changeMain(id: number | null): void {
    if (this.main === id) return;
    this.main = id;
    this.restartTracks();
  }

  /** A face painted from this source changed (another face of its photo, or none): the faces are found afresh. */
  private sourceChanged(id: number): void {
    if (this.main === id || this.people.some((p) => p.sourceId === id)) this.restartTracks();
  }

  get mainSource(): number | null {
    return this.main;
  }

  get sourceStates(): LiveSource[] {
    return [...this.sources.values()].map((e) => ({ ...e.state, faces: [...e.state.faces] }));
  }

  get mapEntries(): LiveMapEntry[] {
    return this.people.map(({ trackId, sourceId }) => ({ trackId, sourceId }));
  }

  /**
   * Puts a source (or nobody) on the person followed as `trackId`. The person's descriptor is taken
   * from the next frame, before it is painted; a person already in the map gets the new source.
   */
  assign(trackId: number, sourceId: number | null): void {
    const known = this.people.find((p) => p.trackId === trackId);
    if (known) known.sourceId = sourceId;
    else this.pending.set(trackId, sourceId);
  }

  clearMap(): void {
    this.people.length = 0;
    this.pending.clear();
    this.processor.select(this.selection());
  }

  /**
   * Plans, paints and marks one frame in place; `time` is in milliseconds. With `work` (a smaller
   * copy of the frame, for a lower working resolution) faces are found and painted on the copy and
   * scaled back, and the frame is marked at its full size; the faces reported are in the frame's
   * pixels either way. A change of working size finds the faces afresh.
   */
  async process(frame: Image, time: number, work?: Image): Promise<LiveFrameResult> {
    let embedMs = 0;
    const working = work && (work.width !== frame.width || work.height !== frame.height) ? work : undefined;
    const at = working ? `${working.width}x${working.height}` : `${frame.width}x${frame.height}`;
    if (this.following.beginFrame(time, at, this.followBudget())) this.restartTracks();
    this.processor.setIdentities(this.slotIdentities());
    const result = await this.processor.process(frame, time / 1000, {
      ...(working ? { work: working } : {}),
      onPlan: async (image, plan) => {
        if (this.pending.size === 0) return;
        const timings = { detect: 0, track: 0, embed: 0 };
        await this.takePending(image, plan.tracks, timings);
        embedMs = timings.embed;
        // People just added take their slots on this very frame.
        this.processor.setIdentities(this.slotIdentities());
      },
    });
    const plan = result.plan!;
    this.following.endFrame(plan.tracks, plan.detected, new Set(result.painted.map((p) => p.trackId)));
    const slotSource = (slot: number): number | null => (slot < this.people.length ? this.people[slot]!.sourceId : this.main);
    const painted = new Map(result.painted.map((p) => [p.trackId, slotSource(p.slot)]));
    const mapped = new Map(plan.faces.filter((f) => f.slot < this.people.length).map((f) => [f.trackId, f.slot]));
    const back = working ? frame.width / working.width : 1;
    const faces = plan.tracks.map(({ trackId, face }) => ({
      trackId,
      box: face.box.map((v) => Math.round(v * back)) as [number, number, number, number],
      sourceId: painted.get(trackId) ?? null,
      mapEntry: mapped.get(trackId) ?? null,
    }));
    return { faces, detected: plan.detected, cut: plan.cut, timings: { ...result.timings, embed: result.timings.embed + embedMs }, marks: result.marks };
  }

  /** Ends the session: the processor's state is dropped (the engine belongs to whoever made it). */
  close(): void {
    this.processor.close();
  }

  /** The recogniser, loaded once on first use. */
  private embedFunction(): Promise<FaceEmbed> {
    if (!this.loadEmbed) return Promise.reject(new LiveswapError('usage', 'The multi-face map needs a face recogniser, and none was given.'));
    this.embedder ??= this.loadEmbed();
    // A recogniser that failed to load may be tried again later.
    this.embedder.catch(() => (this.embedder = undefined));
    return this.embedder;
  }

  private async takePending(frame: Image, tracks: readonly { trackId: number; raw: Face; observed: boolean }[], timings: PlanTimings): Promise<void> {
    let embed: FaceEmbed;
    try {
      embed = await this.embedFunction();
    } catch (error) {
      this.pending.clear(); // said once; the user can point at the face again
      throw error;
    }
    let added = false;
    for (const [trackId, sourceId] of [...this.pending]) {
      const track = tracks.find((t) => t.trackId === trackId);
      if (!track) {
        this.pending.delete(trackId); // gone before it could be looked at
        continue;
      }
      if (!track.observed) continue;
      const t = performance.now();
      const embedding = await embed(frame, track.raw);
      timings.embed += performance.now() - t;
      this.people.push({ trackId, sourceId, embedding });
      this.pending.delete(trackId);
      added = true;
    }
    if (added) this.processor.select(this.selection());
  }
}

/**
 * A live stream's swap: source photos the user adds and picks faces from, a planner that follows
 * the faces of the stream (afresh at every cut, every new target and every change of the face
 * painted), a multi-face map built by pointing at faces in the stream, and each frame painted in
 * place. How often faces are looked for is budgeted ({@link LiveSession.setQuality}): while no face
 * is followed the detector runs on every N-th frame only, so a cut or a turned head does not cost
 * a detection on every frame; and while one face is painted, the others in view (a crowd) are
 * tracked on every other frame only. Platform-free: the browser's worker drives it with camera
 * frames, tests with frames from files.
 */

import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { DEFAULT_ONE_EURO } from '../core/one-euro.js';
import type { Face } from '../face/face.js';
import type { QualityLevel } from './adaptive-quality.js';
import type { AssembledEngine } from './engines.js';
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

/**
 * With one face painted (no map, not "many faces"), a face followed but not painted is tracked on
 * every N-th frame only, and kept where it was in between: its box and number stay on the preview,
 * and a crowd costs the tracker one face a frame and a share of the others, not all of them.
 */
const UNPAINTED_TRACK_EVERY = 2;

/**
 * A face's motion older than this (ms) is not carried forward: after a longer gap the tracker looks
 * where the face was last seen.
 */
const MOTION_MAX_GAP_MS = 200;
/** The most the tracker's region is moved ahead of where a face was last seen, as a share of the region's side. */
const MOTION_MAX_SHIFT = 0.25;

/** Where a followed face's centre was last seen (working-frame pixels), when (ms), and how fast it moved there (pixels a millisecond). */
interface FaceMotion {
  cx: number;
  cy: number;
  at: number;
  vx: number;
  vy: number;
}

export class LiveSession {
  private readonly sources = new Map<number, SourceEntry>();
  private main: number | null = null;
  private readonly people: MapPerson[] = [];
  private readonly pending = new Map<number, number | null>();
  private processor: FrameProcessor;
  private swapOptions: SwapOptions;
  private embedder: Promise<FaceEmbed> | undefined;
  private budget: DetectionBudget = FULL_DETECTION;
  /** Whether the last frame followed no face it saw (nothing, or only faces held while lost). */
  private searching = true;
  /** Frames the detector was skipped on since it last ran while searching; ∞: run on the next. */
  private searchSkipped = Number.POSITIVE_INFINITY;
  /** The size faces were last followed at (the working frame's): faces followed at another are found afresh. */
  private followedAt = '';
  /** The last frame's followed faces (as the planner hands them to the tracker) by track, and those of them painted. */
  private readonly trackOf = new Map<Face, number>();
  private readonly paintedFaces = new Set<Face>();
  /** Frames processed, for spreading the unpainted faces' tracking over frames. */
  private frames = 0;
  /** The followed faces' motion by track, for placing the tracker's region where a moving face will be ({@link ahead}). */
  private readonly motion = new Map<number, FaceMotion>();
  /** The time (ms) of the frame being processed. */
  private now = 0;
  /** Frames since the planner last asked for a detection (as the planner counts them; ∞: none yet). */
  private sinceFind = Number.POSITIVE_INFINITY;
  /** The last frame's faces seen (as the planner hands them to the tracker), and whether a face it followed was lost. */
  private lastFollowed: { observed: Face[]; lost: boolean } = { observed: [], lost: false };

  constructor(
    private readonly engine: AssembledEngine,
    private settings: ProcessSettings,
    /** The marks on every frame (label and watermark); `false` only by the caller's explicit choice. */
    private marks: MarkChoice,
    /** Loads the face recogniser on first need (it is only used by the multi-face map). */
    private readonly loadEmbed?: () => Promise<FaceEmbed>,
  ) {
    this.swapOptions = this.toSwapOptions(settings);
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
        analyze: (image) => this.find(image),
        ...(engine.track ? { track: (image: Image, face: Face) => this.follow(image, face) } : {}),
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

  /**
   * The detector when the planner asks for it, except while searching (no face followed): then it
   * runs on every `searchEvery`-th frame, and the frames between find nothing, as the last did.
   * Likewise while a face is lost and others are still followed (a head turned away in a crowd):
   * the planner asks for a detection on every frame until the lost face comes back or is dropped;
   * outside the detection schedule it runs on every `searchEvery`-th frame, and the frames between
   * track the faces still followed instead. When none of them is found there (a cut came with the
   * loss), the detector runs at once.
   */
  private async find(image: Image): Promise<Face[]> {
    const scheduled = this.sinceFind + 1 >= this.detectInterval();
    this.sinceFind = 0;
    if (this.searching && this.searchSkipped + 1 < this.budget.searchEvery) {
      this.searchSkipped++;
      return [];
    }
    const followed = this.lastFollowed;
    if (!scheduled && followed.observed.length > 0 && followed.lost && this.engine.track && this.searchSkipped + 1 < this.budget.searchEvery) {
      const faces: Face[] = [];
      for (const face of followed.observed) {
        const found = await this.follow(image, face);
        if (found) faces.push(found);
      }
      if (faces.length > 0) {
        this.searchSkipped++;
        return faces;
      }
    }
    this.searchSkipped = 0;
    return this.engine.finder.analyze(image);
  }

  /**
   * The tracker, except for a face not painted while only one face is (see UNPAINTED_TRACK_EVERY):
   * on the frames it skips, that face is kept where the last frame had it.
   */
  private follow(image: Image, face: Face): Promise<Face | undefined> {
    const trackId = this.trackOf.get(face);
    const onePainted = this.people.length === 0 && !this.settings.manyFaces;
    if (onePainted && trackId !== undefined && !this.paintedFaces.has(face) && (this.frames + trackId) % UNPAINTED_TRACK_EVERY !== 0) return Promise.resolve(face);
    return this.engine.track!(image, trackId === undefined ? face : this.ahead(face, trackId));
  }

  /**
   * The face moved on by its motion since it was last seen, for the tracker to look at. FaceMesh
   * runs a second time when the region it was given was off the face (see FaceAnalyzer.refine), as
   * it mostly is for a face that moves between frames: looking where the face is going saves many
   * of those second runs. Only the landmarks the tracker's region is taken from are moved.
   */
  private ahead(face: Face, trackId: number): Face {
    const seen = this.motion.get(trackId);
    const gap = seen ? this.now - seen.at : Number.POSITIVE_INFINITY;
    if (!seen || gap <= 0 || gap > MOTION_MAX_GAP_MS) return face;
    const limit = face.roi.size * MOTION_MAX_SHIFT;
    const dx = Math.max(-limit, Math.min(limit, seen.vx * gap));
    const dy = Math.max(-limit, Math.min(limit, seen.vy * gap));
    if (Math.hypot(dx, dy) < 0.5) return face;
    const landmarks = face.landmarks.slice();
    for (let i = 0; i < landmarks.length; i += 3) {
      landmarks[i]! += dx;
      landmarks[i + 1]! += dy;
    }
    return { ...face, landmarks };
  }

  /** Records where each face seen on this frame is and how fast it moved; faces no longer followed are dropped. */
  private recordMotion(tracks: readonly { trackId: number; raw: Face; observed: boolean }[], time: number): void {
    const followed = new Set<number>();
    for (const { trackId, raw, observed } of tracks) {
      followed.add(trackId);
      if (!observed) continue;
      const { cx, cy } = raw.roi;
      const last = this.motion.get(trackId);
      const gap = last ? time - last.at : 0;
      const moving = last !== undefined && gap > 0 && gap <= MOTION_MAX_GAP_MS;
      this.motion.set(trackId, { cx, cy, at: time, vx: moving ? (cx - last.cx) / gap : 0, vy: moving ? (cy - last.cy) / gap : 0 });
    }
    for (const id of [...this.motion.keys()]) if (!followed.has(id)) this.motion.delete(id);
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
    this.searchSkipped = Number.POSITIVE_INFINITY;
    this.forgetFollowed();
  }

  /** The faces followed are dropped: the next frame is detected afresh. */
  private restartTracks(): void {
    this.processor.reset();
    this.forgetFollowed();
  }

  /** What the last frame followed is forgotten (nothing of it is tracked on the next frame in place of a detection). */
  private forgetFollowed(): void {
    this.trackOf.clear();
    this.paintedFaces.clear();
    this.motion.clear();
    this.lastFollowed = { observed: [], lost: false };
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
    this.searchSkipped = Number.POSITIVE_INFINITY;
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
    if (at !== this.followedAt && this.followedAt !== '') this.restartTracks();
    this.followedAt = at;
    this.now = time;
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
    this.searching = plan.tracks.every((track) => !track.observed);
    this.frames++;
    if (!plan.detected) this.sinceFind++;
    this.lastFollowed = { observed: plan.tracks.filter((t) => t.observed).map((t) => t.raw), lost: plan.tracks.some((t) => !t.observed) };
    this.recordMotion(plan.tracks, time);
    this.trackOf.clear();
    this.paintedFaces.clear();
    const paintedIds = new Set(result.painted.map((p) => p.trackId));
    for (const track of plan.tracks) {
      this.trackOf.set(track.raw, track.trackId);
      if (paintedIds.has(track.trackId)) this.paintedFaces.add(track.raw);
    }
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

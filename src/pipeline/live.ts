/**
 * A live stream's swap: source photos the user adds and picks faces from, a planner that follows
 * the faces of the stream (afresh at every cut, every new target and every change of the face
 * painted), a multi-face map built by pointing at faces in the stream, and each frame painted in
 * place. Platform-free: the browser's worker drives it with camera frames, tests with frames from
 * files.
 */

import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { DEFAULT_ONE_EURO } from '../core/one-euro.js';
import type { Face } from '../face/face.js';
import type { AssembledEngine } from './engines.js';
import type { ProcessSettings } from './live-options.js';
import { resolveSwapOptions, type SwapOptions } from './options.js';
import type { PaintTimings, PreparedSource } from './still.js';
import { DEFAULT_VIDEO_FACE_OPTIONS, VideoFacePlanner, type FaceSelection, type PlanTimings } from './video.js';

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
  timings: PlanTimings & PaintTimings;
}

interface SourceEntry {
  state: LiveSource;
  image: Image | undefined;
  prepared: PreparedSource | undefined;
}

interface MapPerson extends LiveMapEntry {
  embedding: Float32Array;
}

export class LiveSession {
  private readonly sources = new Map<number, SourceEntry>();
  private main: number | null = null;
  private readonly people: MapPerson[] = [];
  private readonly pending = new Map<number, number | null>();
  private planner: VideoFacePlanner;
  private swapOptions: SwapOptions;
  private index = 0;
  private embedder: Promise<FaceEmbed> | undefined;

  constructor(
    private readonly engine: AssembledEngine,
    private settings: ProcessSettings,
    /** Loads the face recogniser on first need (it is only used by the multi-face map). */
    private readonly loadEmbed?: () => Promise<FaceEmbed>,
  ) {
    this.swapOptions = this.toSwapOptions(settings);
    this.planner = this.createPlanner();
  }

  get engineName(): string {
    return this.engine.name;
  }

  private toSwapOptions(s: ProcessSettings): SwapOptions {
    return resolveSwapOptions({ engine: this.engine.name, manyFaces: s.manyFaces, mouthMask: s.mouthMask, opacity: s.opacity, sharpness: s.sharpness, colorMatch: s.colorMatch });
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

  private createPlanner(): VideoFacePlanner {
    const s = this.settings;
    const embed = this.loadEmbed ? async (image: Image, face: Face) => (await this.embedFunction())(image, face) : undefined;
    return new VideoFacePlanner(
      { analyze: (image) => this.engine.finder.analyze(image), track: this.engine.track, embed },
      {
        ...DEFAULT_VIDEO_FACE_OPTIONS,
        detectEvery: s.detectEvery > 0 ? s.detectEvery : 'auto',
        smoothing: s.smoothing ? DEFAULT_ONE_EURO : false,
        // A live picture is small and often soft (webcams): every face worth tracking is swapped.
        minSharpness: 0,
        selection: this.selection(),
      },
    );
  }

  /** New settings; the tracks start afresh when how faces are found or smoothed changes. */
  updateSettings(settings: ProcessSettings): void {
    const before = this.settings;
    this.swapOptions = this.toSwapOptions(settings);
    this.settings = settings;
    if (before.detectEvery !== settings.detectEvery || before.smoothing !== settings.smoothing) this.planner = this.createPlanner();
    else if (before.manyFaces !== settings.manyFaces || before.similarity !== settings.similarity) this.planner.select(this.selection());
  }

  /**
   * Another target (camera, video or picture) from the next frame on: the faces followed, their
   * smoothing and who each one is are dropped, and people pointed at but not yet in the map are
   * forgotten, so the next frame is detected afresh and nothing of the old target is painted on it.
   * The map itself is kept: it holds people by their face, whatever the target.
   */
  reset(): void {
    this.planner.reset();
    this.pending.clear();
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
    this.planner.reset();
  }

  /** A face painted from this source changed (another face of its photo, or none): the faces are found afresh. */
  private sourceChanged(id: number): void {
    if (this.main === id || this.people.some((p) => p.sourceId === id)) this.planner.reset();
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
    this.planner.select(this.selection());
  }

  /** Plans and paints one frame in place; `time` is in milliseconds. */
  async process(frame: Image, time: number): Promise<LiveFrameResult> {
    const timings = { detect: 0, track: 0, embed: 0, warp: 0, colour: 0, blend: 0 };
    const plan = await this.planner.plan(frame, time / 1000, this.index++, timings);
    if (this.pending.size > 0) await this.takePending(frame, plan.tracks, timings);

    const slotSource = (slot: number): number | null => (slot < this.people.length ? this.people[slot]!.sourceId : this.main);
    const jobs = [];
    const painted = new Map<number, number | null>();
    for (const { trackId, face, slot } of plan.faces) {
      const sourceId = slotSource(slot);
      const identity = sourceId === null ? undefined : this.sources.get(sourceId)?.prepared?.identity;
      if (identity === undefined) continue;
      jobs.push({ face, identity });
      painted.set(trackId, sourceId);
    }
    const mapped = new Map(plan.faces.filter((f) => f.slot < this.people.length).map((f) => [f.trackId, f.slot]));
    if (jobs.length > 0) await this.engine.still.paintFaces(frame, jobs, this.swapOptions, timings);
    const faces = plan.tracks.map(({ trackId, face }) => ({
      trackId,
      box: face.box.map((v) => Math.round(v)) as [number, number, number, number],
      sourceId: painted.get(trackId) ?? null,
      mapEntry: mapped.get(trackId) ?? null,
    }));
    return { faces, detected: plan.detected, cut: plan.cut, timings };
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
    if (added) this.planner.select(this.selection());
  }
}

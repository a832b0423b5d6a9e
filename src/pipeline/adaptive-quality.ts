/**
 * Adaptive quality for a live stream: holds a frame-rate target by stepping along a ladder of
 * cheaper settings — first searching for a lost face less often, then detecting less often while
 * faces are followed, then finding and painting faces at a lower working resolution (the picture
 * and its marks keep their full size: see pipeline/working-frame.ts) — and back up when there is
 * headroom. It never queues: it only makes each frame cheaper. Decisions are taken once per window (about a
 * second) of frames, with hysteresis (stepping up needs a clear margin for several windows, and a
 * step up that had to be taken back makes the next one wait longer), so it does not oscillate;
 * far short of the target (a cut to a close-up or a crowd) it steps two rungs at once, and a step
 * down that keeps the working resolution has the very next window judged, so it reacts within a
 * second or two.
 * Every change says what changed and why. Platform-free: the worker feeds it its own timings.
 */

import { LiveswapError } from '../core/errors.js';

/** One rung of the ladder: how the live session finds faces and at what resolution it works. */
export interface QualityLevel {
  /** The detector runs this many times less often than the user's setting while faces are followed. */
  detectFactor: number;
  /** While no face is followed (a cut, a turned head): the detector runs on every N-th frame only. */
  searchEvery: number;
  /** The working resolution faces are found and painted at, as a fraction of the frame's sides; absent: 1 (full). */
  scale?: number;
}

/** The ladder, dearest first, each rung ordered by what it costs the picture against what it saves. */
export const QUALITY_LADDER: readonly Readonly<QualityLevel>[] = Object.freeze([
  { detectFactor: 1, searchEvery: 2, scale: 1 },
  { detectFactor: 1, searchEvery: 3, scale: 1 },
  { detectFactor: 2, searchEvery: 4, scale: 1 },
  { detectFactor: 2, searchEvery: 4, scale: 0.75 },
  { detectFactor: 3, searchEvery: 6, scale: 0.5 },
]);

/** One processed frame as the controller sees it. */
export interface FrameSample {
  /** When the frame's processing started (ms, any monotonic clock). */
  at: number;
  /** How long it took (ms). */
  busyMs: number;
}

/** A step of the controller: the rung it left and the one it took, in words too. */
export interface QualityChange {
  /** Index into the ladder. */
  level: number;
  from: QualityLevel;
  to: QualityLevel;
  /** What changed, e.g. "face search every 2 → 3 frames". */
  what: string;
  /** Why, e.g. "18.2 fps < 30 target, processing busy 96 %". */
  why: string;
  /** 'down' when it made frames cheaper, 'up' when it gave quality back. */
  direction: 'down' | 'up';
  /** Frame rate measured over the window that decided it. */
  fps: number;
}

export interface QualityControllerOptions {
  /** Frames per second to hold (> 0). */
  targetFps: number;
  /** The window decisions are taken over (ms). Default 1000. */
  windowMs?: number;
  /** Windows with clear headroom before a step up. Default 3; doubles (up to 32) each time a step up is taken back. */
  upWindows?: number;
  /** Where to start on the ladder. Default 0. */
  start?: number;
  ladder?: readonly Readonly<QualityLevel>[];
}

/** Below this share of the target the rate is short. */
const SHORT = 0.93;
/** Below this share of the target (a cut to a close-up, a crowd) the controller steps two rungs at once. */
const FAR_SHORT = 0.7;
/** The processing share of the window above which processing (and the CPU it takes from the page) holds the rate back. */
const BUSY = 0.5;
/** A step up needs the rate at this share of the target and frames at most this share of the frame budget. */
const FULL = 0.97;
const HEADROOM = 0.5;
/** A step up taken back within this many windows counts as an oscillation. */
const REVERT_WINDOWS = 3;
const MAX_UP_WINDOWS = 32;

export class QualityController {
  private readonly ladder: readonly Readonly<QualityLevel>[];
  private readonly windowMs: number;
  private targetFps: number;
  private current: number;
  private upWindows: number;
  private samples: FrameSample[] = [];
  private calm = 0;
  /** Windows since the last step up (for spotting one that had to be taken back). */
  private sinceUp = Infinity;
  private settling = false;
  private lastChange: QualityChange | undefined;

  constructor(options: QualityControllerOptions) {
    this.ladder = options.ladder ?? QUALITY_LADDER;
    if (this.ladder.length === 0) throw new LiveswapError('usage', 'The quality ladder needs at least one level.');
    this.targetFps = checkTarget(options.targetFps);
    this.windowMs = options.windowMs ?? 1000;
    this.upWindows = options.upWindows ?? 3;
    this.current = Math.min(Math.max(0, options.start ?? 0), this.ladder.length - 1);
  }

  /** The rung in use. */
  get level(): QualityLevel {
    return { ...this.ladder[this.current]! };
  }

  get levelIndex(): number {
    return this.current;
  }

  get target(): number {
    return this.targetFps;
  }

  /** The last step taken, if any. */
  get last(): QualityChange | undefined {
    return this.lastChange;
  }

  /** Another target from now on; the measurements start again. */
  setTarget(fps: number): void {
    this.targetFps = checkTarget(fps);
    this.samples = [];
    this.calm = 0;
  }

  /** Records one frame; returns the change when this frame closed a window that decided one. */
  record(sample: FrameSample): QualityChange | undefined {
    this.samples.push(sample);
    const first = this.samples[0]!;
    if (sample.at - first.at < this.windowMs || this.samples.length < 3) return undefined;
    const window = this.samples;
    this.samples = [sample];
    // The window after a step up or a change of working resolution measures the change's own cost (a detection afresh): not judged.
    if (this.settling) {
      this.settling = false;
      return undefined;
    }
    this.sinceUp++;
    return this.judge(window);
  }

  private judge(window: FrameSample[]): QualityChange | undefined {
    const elapsed = window[window.length - 1]!.at - window[0]!.at;
    const frames = window.length - 1;
    const fps = (frames * 1000) / elapsed;
    const busy = window.slice(0, -1).reduce((sum, s) => sum + s.busyMs, 0);
    const meanMs = busy / frames;
    const budgetMs = 1000 / this.targetFps;
    const share = busy / elapsed;
    if (fps < this.targetFps * SHORT && share > BUSY) {
      this.calm = 0;
      if (this.current === this.ladder.length - 1) return undefined;
      // A step up that is taken back at once: wait twice as long before the next one.
      if (this.sinceUp <= REVERT_WINDOWS) this.upWindows = Math.min(MAX_UP_WINDOWS, this.upWindows * 2);
      return this.step(fps < this.targetFps * FAR_SHORT ? 2 : 1, `${fps.toFixed(1)} fps < ${this.targetFps} target, processing busy ${Math.round(share * 100)} %`, fps);
    }
    if (fps >= this.targetFps * FULL && meanMs <= budgetMs * HEADROOM) {
      if (++this.calm < this.upWindows || this.current === 0) return undefined;
      this.calm = 0;
      this.sinceUp = 0;
      return this.step(-1, `headroom: ${fps.toFixed(1)} fps, ${meanMs.toFixed(1)} ms a frame of a ${budgetMs.toFixed(1)} ms budget`, fps);
    }
    this.calm = 0;
    return undefined;
  }

  private step(by: number, why: string, fps: number): QualityChange {
    const from = this.ladder[this.current]!;
    this.current = Math.min(Math.max(0, this.current + by), this.ladder.length - 1);
    const to = this.ladder[this.current]!;
    // A step down that keeps the working resolution takes effect at once: the next window is judged. A change of resolution finds the
    // faces afresh (a detection that costs its window), and a step up is a trial of the dearer rung: their next window is not judged.
    this.settling = by < 0 || (from.scale ?? 1) !== (to.scale ?? 1);
    this.lastChange = { level: this.current, from: { ...from }, to: { ...to }, what: describeChange(from, to), why, direction: by > 0 ? 'down' : 'up', fps };
    return this.lastChange;
  }
}

/** "face search every 4 → 6 frames, detection 2× → 3× less often, working resolution 75 → 50 %": what differs between two rungs. */
export function describeChange(from: QualityLevel, to: QualityLevel): string {
  const parts: string[] = [];
  if (from.searchEvery !== to.searchEvery) parts.push(`face search every ${from.searchEvery} → ${to.searchEvery} frames`);
  if (from.detectFactor !== to.detectFactor) parts.push(`detection ${from.detectFactor}× → ${to.detectFactor}× less often`);
  const [fromScale, toScale] = [from.scale ?? 1, to.scale ?? 1];
  if (fromScale !== toScale) parts.push(`working resolution ${Math.round(fromScale * 100)} → ${Math.round(toScale * 100)} %`);
  return parts.join(', ') || 'no change';
}

function checkTarget(fps: number): number {
  if (!(Number.isFinite(fps) && fps > 0)) throw new LiveswapError('usage', `A frame-rate target must be a number above 0, not ${fps}.`);
  return fps;
}

/**
 * Frames a worker has sent away to be processed elsewhere (processing on the server, over a
 * WebSocket or WebRTC) and not yet answered: more than one may be on its way at once, and they are
 * answered in the order sent. A frame answered settles those sent before it (they were dropped on
 * the way, or by the server's freshest-frame rule: skipped); a frame that times out fails with
 * those before it. Outcomes reach LiveClient in the frames' order. Also how many frames to keep on
 * their way.
 */

import { median } from '../core/median.js';

/** A 30 fps camera's frame interval: keeping frames on their way faster than this gains nothing. */
const CAMERA_INTERVAL_MS = 1000 / 30;
/** Round trips and server times kept for the depth (the latest frames). */
const TIMES_KEPT = 15;

/** How a worker tells LiveClient about frames that got no picture (in their turn, see {@link InFlightFrames.deliver}). */
export interface LostFrames {
  /** A frame sent before the one answered: dropped on the way, or by the server. */
  skipped(): void;
  /** A frame that failed: the connection ended, or no answer came in time. */
  failed(why: string): void;
}

/** The frames on their way by their number (a frame stamp, a sequence number), oldest first. */
export class InFlightFrames<T> {
  private readonly frames = new Map<number, { frame: T; timer?: ReturnType<typeof setTimeout> }>();
  /** The outcomes handed to LiveClient, one after another in the frames' order. */
  private delivery: Promise<void> = Promise.resolve();

  constructor(private readonly lost: LostFrames) {}

  get size(): number {
    return this.frames.size;
  }

  has(key: number): boolean {
    return this.frames.has(key);
  }

  /** The oldest frame's number, if any. */
  oldest(): number | undefined {
    return this.frames.keys().next().value;
  }

  /**
   * Adds a frame (the newest); one still on its way under the same number is replaced. With
   * `timeoutMs`, a frame still on its way then fails, with those sent before it.
   */
  add(key: number, frame: T, timeoutMs?: number): void {
    clearTimeout(this.frames.get(key)?.timer);
    this.frames.delete(key);
    const entry: { frame: T; timer?: ReturnType<typeof setTimeout> } = { frame };
    if (timeoutMs !== undefined) {
      entry.timer = setTimeout(() => {
        if (this.frames.get(key) === entry) this.fail(key, `No swapped frame came back within ${timeoutMs / 1000} s.`);
      }, timeoutMs);
    }
    this.frames.set(key, entry);
  }

  /** The frame numbered `key`, taken as answered; those sent before it are reported skipped. Undefined when it is not on its way. */
  answer(key: number): T | undefined {
    if (!this.frames.has(key)) return undefined;
    const taken = this.takeUpTo(key);
    for (let i = 1; i < taken.length; i++) this.deliver(() => this.lost.skipped());
    return taken.at(-1);
  }

  /** Fails the frames up to the one numbered `key` (all when undefined). */
  fail(key: number | undefined, why: string): void {
    for (let n = this.takeUpTo(key).length; n > 0; n--) this.deliver(() => this.lost.failed(why));
  }

  /** Forgets every frame on its way, reporting nothing (the worker is ending). */
  clear(): void {
    this.takeUpTo(undefined);
  }

  /** Hands a frame's outcome to LiveClient after those of the frames before it. */
  deliver(outcome: () => void | Promise<void>): void {
    this.delivery = this.delivery.then(outcome).catch(() => undefined);
  }

  /** Takes the frames up to the one numbered `key` (all when undefined), oldest first, their timers stopped. */
  private takeUpTo(key: number | undefined): T[] {
    const taken: T[] = [];
    for (const [number, entry] of this.frames) {
      this.frames.delete(number);
      clearTimeout(entry.timer);
      taken.push(entry.frame);
      if (number === key) break;
    }
    return taken;
  }
}

/**
 * How many frames to keep on their way: enough to cover the round trip at the rate the server takes
 * them (its work per frame, or a 30 fps camera's interval when that is longer), between `min` and
 * `max`, from the medians of the latest frames.
 */
export class PipelineDepth {
  private readonly roundTrips: number[] = [];
  private readonly work: number[] = [];

  constructor(
    readonly min: number,
    readonly max: number,
  ) {}

  /** Notes a frame's round trip and the server's work on it (ms); returns the depth from now on. */
  after(roundTrip: number, work: number | undefined): number {
    keepLatest(this.roundTrips, roundTrip);
    if (work !== undefined) keepLatest(this.work, work);
    const interval = Math.max(CAMERA_INTERVAL_MS, median(this.work));
    return Math.min(this.max, Math.max(this.min, Math.ceil(median(this.roundTrips) / interval)));
  }
}

function keepLatest(list: number[], value: number): void {
  list.push(value);
  if (list.length > TIMES_KEPT) list.shift();
}

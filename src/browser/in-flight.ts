/**
 * Frames a worker has sent away to be processed elsewhere (processing on the server, over a
 * WebSocket or WebRTC) and not yet answered: more than one may be on its way at once, and they are
 * answered in the order sent. A frame answered settles those sent before it (they were dropped on
 * the way, or by the server's freshest-frame rule). Also how many to keep on their way, and the
 * answers' delivery to LiveClient in order.
 */

import { median } from '../core/median.js';

/** A 30 fps camera's frame interval: keeping frames on their way faster than this gains nothing. */
const CAMERA_INTERVAL_MS = 1000 / 30;
/** Round trips and server times kept for the depth (the latest frames). */
const TIMES_KEPT = 15;

/** The frames on their way by their number (a frame stamp, a sequence number), oldest first; a frame's `timer`, if it has one, is stopped when it leaves. */
export class InFlightFrames<T extends object> {
  private readonly frames = new Map<number, T>();
  /** The outcomes handed to LiveClient, one after another in the frames' order. */
  private delivery: Promise<void> = Promise.resolve();

  get size(): number {
    return this.frames.size;
  }

  has(key: number): boolean {
    return this.frames.has(key);
  }

  get(key: number): T | undefined {
    return this.frames.get(key);
  }

  /** The oldest frame's number, if any. */
  oldest(): number | undefined {
    return this.frames.keys().next().value;
  }

  /** Adds a frame (the newest); one still on its way under the same number is replaced. */
  add(key: number, frame: T): void {
    const previous = this.frames.get(key);
    if (previous) stopTimer(previous);
    this.frames.delete(key);
    this.frames.set(key, frame);
  }

  /** Takes the frames up to the one numbered `key` (all when undefined), oldest first, their timers stopped. */
  takeUpTo(key: number | undefined): T[] {
    const taken: T[] = [];
    for (const [number, frame] of this.frames) {
      this.frames.delete(number);
      stopTimer(frame);
      taken.push(frame);
      if (number === key) break;
    }
    return taken;
  }

  /** Hands a frame's outcome to LiveClient after those of the frames before it. */
  deliver(outcome: () => void | Promise<void>): void {
    this.delivery = this.delivery.then(outcome).catch(() => undefined);
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

function stopTimer(frame: object): void {
  if ('timer' in frame) clearTimeout(frame.timer as ReturnType<typeof setTimeout>);
}

function keepLatest(list: number[], value: number): void {
  list.push(value);
  if (list.length > TIMES_KEPT) list.shift();
}

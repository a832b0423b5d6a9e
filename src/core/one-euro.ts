/**
 * The One Euro filter (Casiez, Roussel and Vogel, CHI 2012): an adaptive low-pass filter whose
 * cutoff rises with speed, so still points stop jittering while fast motion keeps little lag.
 */

import { invalidOption } from './errors.js';

/** Parameters of a {@link OneEuroFilter}; frequencies in Hz, speeds in units of `scale` per second. */
export interface OneEuroParams {
  /** Cutoff frequency at rest (Hz, > 0): lower removes more jitter from still points, adds lag to slow drifts. */
  minCutoff: number;
  /** How fast the cutoff rises with speed (Hz per unit of speed, ≥ 0); 0 is a fixed low-pass. */
  beta: number;
  /** Cutoff of the low-pass on the speed estimate (Hz, > 0). */
  dCutoff: number;
}

/**
 * Defaults for face landmarks in video when `scale` is the face size in pixels, so speeds are in
 * face sizes per second. Tuned on a 200 px face at 30 fps with 0.5–1 px landmark noise: a still
 * face's jitter falls about 2.8×, a steady 0.5–2 face sizes per second motion lags 1.4–1.7 px,
 * and the lag when motion starts peaks under 4 px. A lower `minCutoff` or `beta` removes more
 * jitter at the cost of more lag.
 */
export const DEFAULT_ONE_EURO: Readonly<OneEuroParams> = Object.freeze({ minCutoff: 0.5, beta: 20, dCutoff: 1 });

/** Checks filter parameters (missing ones take {@link DEFAULT_ONE_EURO}); throws a usage error naming the bad one. */
export function validateOneEuro(p: Partial<OneEuroParams>): OneEuroParams {
  const out: OneEuroParams = { ...DEFAULT_ONE_EURO };
  if (p.minCutoff !== undefined) out.minCutoff = p.minCutoff;
  if (p.beta !== undefined) out.beta = p.beta;
  if (p.dCutoff !== undefined) out.dCutoff = p.dCutoff;
  if (typeof out.minCutoff !== 'number' || !Number.isFinite(out.minCutoff) || out.minCutoff <= 0) {
    throw invalidOption('minCutoff', 'a finite number > 0 (Hz)', out.minCutoff);
  }
  if (typeof out.beta !== 'number' || !Number.isFinite(out.beta) || out.beta < 0) {
    throw invalidOption('beta', 'a finite number >= 0', out.beta);
  }
  if (typeof out.dCutoff !== 'number' || !Number.isFinite(out.dCutoff) || out.dCutoff <= 0) {
    throw invalidOption('dCutoff', 'a finite number > 0 (Hz)', out.dCutoff);
  }
  return out;
}

/** Smoothing factor of a first-order low-pass with cutoff `cutoff` Hz sampled `dt` seconds apart. */
function alpha(cutoff: number, dt: number): number {
  const tau = 1 / (2 * Math.PI * cutoff);
  return 1 / (1 + tau / dt);
}

/**
 * One Euro filter over a fixed-length vector whose elements share a timestamp (e.g. all landmark
 * coordinates of one face). Each element has its own speed estimate and cutoff.
 */
export class OneEuroFilter {
  readonly size: number;
  readonly params: Readonly<OneEuroParams>;
  private readonly prev: Float64Array;
  private readonly speed: Float64Array;
  private readonly result: Float32Array;
  private lastT = 0;
  private started = false;

  constructor(size: number, params: Partial<OneEuroParams> = {}) {
    if (!Number.isInteger(size) || size < 0) throw invalidOption('size', 'a non-negative integer', size);
    this.size = size;
    this.params = Object.freeze(validateOneEuro(params));
    this.prev = new Float64Array(size);
    this.speed = new Float64Array(size);
    this.result = new Float32Array(size);
  }

  /**
   * Filters `values` observed at time `t` (seconds, increasing) and returns the filtered vector:
   * `out` when given, otherwise a buffer owned by the filter and overwritten by the next call.
   * The first call (and the first after {@link reset}) returns the input unchanged. `scale`
   * divides the speed before `beta` applies: pass the face size in pixels so `beta` is in face
   * sizes per second whatever the resolution. A `t` that does not advance (equal to or before
   * the previous one) changes nothing and returns the previous output, so a repeated frame
   * cannot produce an infinite speed.
   */
  filter(values: ArrayLike<number>, t: number, scale = 1, out?: Float32Array): Float32Array {
    const n = this.size;
    if (values.length !== n) throw new RangeError(`OneEuroFilter: expected ${n} values, got ${values.length}`);
    const dst = out ?? this.result;
    if (dst.length < n) throw new RangeError(`OneEuroFilter: output holds ${dst.length} values, need ${n}`);
    const prev = this.prev;
    if (!this.started) {
      for (let i = 0; i < n; i++) {
        prev[i] = values[i];
        this.speed[i] = 0;
      }
      this.started = true;
      this.lastT = t;
    } else if (t > this.lastT) {
      const dt = t - this.lastT;
      this.lastT = t;
      const { minCutoff, beta, dCutoff } = this.params;
      const aD = alpha(dCutoff, dt);
      const speedScale = beta / (scale > 0 && Number.isFinite(scale) ? scale : 1);
      const speed = this.speed;
      for (let i = 0; i < n; i++) {
        const x = values[i];
        const p = prev[i];
        const ds = speed[i] + aD * ((x - p) / dt - speed[i]);
        speed[i] = ds;
        const a = alpha(minCutoff + speedScale * Math.abs(ds), dt);
        prev[i] = p + a * (x - p);
      }
    }
    for (let i = 0; i < n; i++) dst[i] = prev[i];
    return dst;
  }

  /** Forgets the history: the next call returns its input (e.g. at a shot change). */
  reset(): void {
    this.started = false;
    this.speed.fill(0);
  }
}

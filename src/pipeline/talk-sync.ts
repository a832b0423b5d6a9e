/**
 * How well a talking face's mouth follows its speech: the Pearson correlation between the mouth
 * opening per video frame and the speech envelope (RMS over 20 ms), over a range of time offsets
 * between the two; the offset with the highest correlation is the lip-sync error.
 */

/** Pearson correlation of two equal-length series (0 when either is constant). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  if (n < 2) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/** The envelope at `fps` frame times shifted by `offset` seconds: RMS over `window` seconds, smoothed over three frames. */
export function envelopeAt(samples: Float32Array, sampleRate: number, fps: number, frames: number, offset: number, window = 0.02): Float32Array {
  const raw = new Float32Array(frames);
  const half = Math.max(1, Math.round((window * sampleRate) / 2));
  for (let f = 0; f < frames; f++) {
    const centre = Math.round((f / fps + offset) * sampleRate);
    const a = Math.max(0, centre - half);
    const b = Math.min(samples.length, centre + half);
    let sum = 0;
    for (let i = a; i < b; i++) sum += samples[i]! * samples[i]!;
    raw[f] = b > a ? Math.sqrt(sum / (b - a)) : 0;
  }
  const out = new Float32Array(frames);
  for (let f = 0; f < frames; f++) out[f] = 0.25 * raw[Math.max(0, f - 1)]! + 0.5 * raw[f]! + 0.25 * raw[Math.min(frames - 1, f + 1)]!;
  return out;
}

export interface LipSync {
  /** Correlation at offset 0. */
  correlation: number;
  /** The highest correlation over the offsets searched, and its offset in seconds (positive: the mouth moves before the sound). */
  bestCorrelation: number;
  bestOffset: number;
}

/**
 * Correlates `mouth` (one opening per frame at `fps`; NaN where no face was measured, left out)
 * with the speech envelope, at offsets from −`range` to +`range` seconds in `step`s.
 */
export function lipSync(mouth: ArrayLike<number>, samples: Float32Array, sampleRate: number, fps: number, range = 0.2, step = 0.01): LipSync {
  const frames = mouth.length;
  const kept: number[] = [];
  for (let f = 0; f < frames; f++) if (Number.isFinite(mouth[f])) kept.push(f);
  const m = kept.map((f) => mouth[f]!);
  const at = (offset: number): number => {
    const envelope = envelopeAt(samples, sampleRate, fps, frames, offset);
    return pearson(
      m,
      kept.map((f) => envelope[f]!),
    );
  };
  let bestCorrelation = -Infinity;
  let bestOffset = 0;
  const steps = Math.round(range / step);
  for (let k = -steps; k <= steps; k++) {
    // The mouth at frame time t against the sound at t + offset: a positive offset means the mouth leads.
    const c = at(k * step);
    if (c > bestCorrelation) {
      bestCorrelation = c;
      bestOffset = k * step;
    }
  }
  return { correlation: at(0), bestCorrelation, bestOffset: Math.round(bestOffset * 1000) / 1000 };
}

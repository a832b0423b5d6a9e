/**
 * The mouth of a talking portrait over time, one value per video frame: from timed phones (each a
 * viseme target, blended with its neighbours so the mouth ramps between shapes and moves a little
 * ahead of the sound, closing fully for p/b/m and in pauses), or from bare audio (the speech
 * envelope). Also the idle motion a still photo gets so it does not look frozen: a slow sway and
 * nod, and blinks every few seconds. Everything here is a pure function of time: the same input
 * gives the same frames.
 */

import { smoothstep } from '../core/smoothstep.js';
import { closesLips, shapeOf, type TimedPhone } from './talk-visemes.js';

/** Per-frame mouth parameters (see MouthShape): frame i is shown at i / fps seconds. */
export interface MouthTrack {
  fps: number;
  open: Float32Array;
  wide: Float32Array;
  round: Float32Array;
}

export interface TimelineOptions {
  /** Seconds over which one shape hands over to the next (coarticulation); default 0.06. */
  ramp?: number;
  /** Seconds the mouth runs ahead of the sound (lips anticipate); default 0.01. */
  lead?: number;
  /**
   * The speech's loudness per frame (0–1, see {@link loudness}): louder syllables open wider, as a
   * speaker's do. A phone's opening is scaled by (1 − loudnessShare) + loudnessShare × loudness.
   */
  loudness?: Float32Array;
  /** How much of the opening follows the loudness; default 0.8 (0: the phones alone). */
  loudnessShare?: number;
}

/** How strongly a viseme holds its shape against its neighbours: lip closures and silence win. */
function dominance(viseme: string): number {
  return viseme === 'PP' || viseme === 'FF' ? 1.5 : 1;
}

/**
 * The mouth for `frames` frames at `fps` from timed phones. Each phone pulls the mouth towards its
 * shape with a weight that is full inside the phone and falls off (Gaussian, `ramp` seconds) away
 * from it; the shapes are averaged by those weights. Lip closures (p, b, m) and silence also close
 * the lips outright over their span, easing in and out over `ramp`, so a closure always reaches
 * zero whatever its neighbours. Continuous in time: no jumps from frame to frame.
 */
export function mouthFromPhones(phones: readonly TimedPhone[], fps: number, frames: number, options: TimelineOptions = {}): MouthTrack {
  const ramp = options.ramp ?? 0.06;
  const lead = options.lead ?? 0.01;
  const loud = options.loudness;
  const share = options.loudnessShare ?? 0.8;
  const shaped = phones.map((p) => ({ ...p, ...(shapeOf(p.phone) ?? { viseme: 'sil' as const, shape: { open: 0, wide: 0, round: 0 } }) }));
  const track: MouthTrack = { fps, open: new Float32Array(frames), wide: new Float32Array(frames), round: new Float32Array(frames) };
  const reach = 3 * ramp;
  let first = 0;
  for (let f = 0; f < frames; f++) {
    const t = f / fps + lead;
    while (first < shaped.length && shaped[first]!.end < t - reach) first++;
    let weights = 0;
    let open = 0;
    let wide = 0;
    let round = 0;
    let closure = 0;
    for (let i = first; i < shaped.length && shaped[i]!.start <= t + reach; i++) {
      const p = shaped[i]!;
      const distance = Math.max(0, p.start - t, t - p.end);
      const w = dominance(p.viseme) * Math.exp(-((distance / ramp) ** 2));
      weights += w;
      open += w * p.shape.open;
      wide += w * p.shape.wide;
      round += w * p.shape.round;
      // Closed lips over the phone's span, easing over a ramp on each side (a pause only when long enough to rest).
      if (closesLips(p.viseme) && (p.viseme === 'PP' || p.end - p.start >= ramp)) {
        const edge = ramp;
        const c = distance === 0 ? 1 : 1 - smoothstep(0, edge, distance);
        if (c > closure) closure = c;
      }
    }
    if (weights > 0) {
      const gain = loud ? 1 - share + share * (loud[f] ?? 0) : 1;
      track.open[f] = (open / weights) * (1 - closure) * gain;
      track.wide[f] = wide / weights;
      track.round[f] = round / weights;
    }
  }
  return track;
}

/**
 * RMS of `samples` (mono, −1..1) over `window` seconds centred on each frame's time: the speech
 * envelope the mouth follows for bare audio, and what the lip-sync measure correlates against.
 */
export function speechEnvelope(samples: Float32Array, sampleRate: number, fps: number, frames: number, window = 0.02): Float32Array {
  const out = new Float32Array(frames);
  const half = Math.max(1, Math.round((window * sampleRate) / 2));
  for (let f = 0; f < frames; f++) {
    const centre = Math.round((f / fps) * sampleRate);
    const a = Math.max(0, centre - half);
    const b = Math.min(samples.length, centre + half);
    let sum = 0;
    for (let i = a; i < b; i++) sum += samples[i]! * samples[i]!;
    out[f] = b > a ? Math.sqrt(sum / (b - a)) : 0;
  }
  return out;
}

/**
 * The envelope as loudness, 0–1: scaled to its loud level (95th percentile), quiet below a noise
 * floor (8 % of it), compressed (loud speech need not mean a wider jaw) and smoothed over three
 * frames without delay.
 */
export function loudness(envelope: Float32Array): Float32Array {
  const n = envelope.length;
  const sorted = Float32Array.from(envelope).sort();
  const loud = sorted[Math.min(n - 1, Math.floor(n * 0.95))] ?? 0;
  const floor = loud * 0.08;
  const raw = new Float32Array(n);
  if (loud > 1e-4) for (let i = 0; i < n; i++) raw[i] = Math.min(1, Math.max(0, (envelope[i]! - floor) / (loud - floor))) ** 0.6;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.25 * raw[Math.max(0, i - 1)]! + 0.5 * raw[i]! + 0.25 * raw[Math.min(n - 1, i + 1)]!;
  return out;
}

/** The mouth for bare audio: its loudness (a little under full opening); lips neutral in width and rounding. */
export function mouthFromEnvelope(envelope: Float32Array, fps: number): MouthTrack {
  const n = envelope.length;
  const open = loudness(envelope).map((v) => v * 0.85);
  return { fps, open, wide: new Float32Array(n), round: new Float32Array(n) };
}

/** A still photo's motion at one moment: head turn (radians, in the picture plane), shift and nod (face sizes), lids (0 open … 1 closed). */
export interface IdleMotion {
  angle: number;
  dx: number;
  dy: number;
  blink: number;
}

/** Gaps between blinks (seconds), repeated: irregular enough not to look mechanical. */
const BLINK_GAPS = [3.1, 2.4, 4.2, 2.9, 3.6, 2.2, 4.8, 3.3];
const FIRST_BLINK = 1.3;
const BLINK_CLOSE = 0.07;
const BLINK_OPEN = 0.13;

function blinkAt(t: number): number {
  let start = FIRST_BLINK;
  for (let k = 0; start <= t; k++) {
    const u = t - start;
    if (u < BLINK_CLOSE) return smoothstep(0, BLINK_CLOSE, u);
    if (u < BLINK_CLOSE + BLINK_OPEN) return 1 - smoothstep(BLINK_CLOSE, BLINK_CLOSE + BLINK_OPEN, u);
    start += BLINK_GAPS[k % BLINK_GAPS.length]!;
  }
  return 0;
}

/** The idle motion at `t` seconds: a sway of about ±1.5°, a shift and nod under 1 % of the face, and blinks. */
export function idleMotion(t: number): IdleMotion {
  const tau = 2 * Math.PI;
  const degrees = 1.0 * Math.sin(tau * 0.21 * t) + 0.5 * Math.sin(tau * 0.53 * t + 1.3);
  return {
    angle: (degrees * Math.PI) / 180,
    dx: 0.006 * Math.sin(tau * 0.17 * t + 0.4),
    dy: 0.005 * Math.sin(tau * 0.31 * t + 2.1),
    blink: blinkAt(t),
  };
}

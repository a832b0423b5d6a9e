/**
 * Embedding: an improved-spread-spectrum embedder that moves each payload bit's correlation to
 * ±strength on the canonical grid and adds the residual to the frame's colour channels, and the
 * PSNR-Y measure the strengths are tuned against. Video marks put the change where an encoder keeps
 * it cheaply (see {@link WatermarkEmbedder}); the reader is the same for every mark. Platform-free.
 */

import type { Image } from '../../core/image.js';
import { WATERMARK_BITS, encodePayload, type WatermarkPayload } from '../payload.js';
import { checkImage, GridScratch } from './grid.js';
import { BitCorrelator } from './bit-order.js';
import { blockPower, blockWeight, BLOCKS, chipPattern, GRID_H, GRID_W, PER_BLOCK, SLOTS, type ChipPattern } from './pattern.js';

/**
 * ISS target correlation for video frames (DCT units of the canonical grid); votes over frames do
 * the rest. With the change shaped as {@link WatermarkEmbedder} does for video, 1.25 reads back
 * every 1-s window after H.264/H.265 CRF 28 and 0.5× + CRF 23 on the synthetic 1080p clips, at
 * PSNR-Y 45.4 dB (the spec's floor is 45), and costs an encoder less than 3.75 dealt evenly did: a
 * swapped 640×360 stage clip at x264 CRF 18 grows by 27 % with it instead of 40 %.
 */
export const DEFAULT_VIDEO_STRENGTH = 1.25;
/**
 * Stills get one frame and no votes. On the 512-px fixture photos, JPEG q75 + 0.5× resize leaves
 * them narrower than the 480-column grid, so the higher chips are lost: 5 is the smallest strength
 * that recovers every bit with a little margin, 6 leaves more (PSNR-Y ≈ 41 dB on those photos).
 */
export const DEFAULT_STILL_STRENGTH = 6;

/**
 * Memory of the per-block host power that places a video mark: each frame moves it 5 % of the way
 * to the frame's own (a time constant of about 20 frames), so the mark's layout holds still from
 * frame to frame and an encoder's prediction carries it instead of coding it again.
 */
const POWER_MEMORY = 0.95;
/** Chips 0..2 of each block are those of u+v = 2, the lowest frequencies the reader correlates. */
const LOW_CHIPS = 3;
/** Corrections of a video frame's bit changes for the reader's weights after embedding (see shapeVideo). */
const REFINE_PASSES = 2;
/** The least gain a correction assumes, so that a bit the change barely moved is not pushed without bound. */
const MIN_SEEN_GAIN = 0.25;
/**
 * Most mean square change per grid sample a video frame gets (44.5 dB on the grid, about 45.4 dB
 * in a 1080p frame, whose upsampling smooths it): frames with large flat areas, where the reader's
 * weights ask for more change, are scaled down to it rather than marked more visibly.
 */
const MAX_VIDEO_MSE = (255 * 255) / 10 ** 4.45;

export interface WatermarkOptions {
  /**
   * What is marked: `'video'` (the default) shapes the change for a lossy encoder and its frame
   * prediction; `'still'` deals it evenly to every chip (one frame, no prediction to lean on).
   * Either reads back with the same detector.
   */
  media?: 'video' | 'still';
  /** ISS target |correlation| per bit on the canonical grid. Default {@link DEFAULT_VIDEO_STRENGTH}, or {@link DEFAULT_STILL_STRENGTH} for stills. */
  strength?: number;
  /**
   * Whether the WebAssembly SIMD kernels may run where available (default true). `false` keeps
   * every step in TypeScript: the same bytes, slower; for tests and benchmarks.
   */
  simd?: boolean;
}

/**
 * Writes one payload with one key into frames, in place; holds its scratch, so reuse it across
 * frames. Every mark moves each bit's weighted correlation (the reader's, bit-order.ts) to
 * ±strength. A still's change is dealt evenly to the bit's chips. A video frame's goes only to the
 * lowest-frequency chips (u+v = 2), which survive a lossy encoder several times better, and among
 * those in proportion to the square root of a weight like the reader's but from the host power
 * remembered over recent frames ({@link POWER_MEMORY}): flatter areas, which an encoder keeps and
 * the reader trusts, get more of it, and the layout holds still from frame to frame, so that the
 * encoder's prediction carries it. A video embedder is therefore stateful: give it the frames of
 * one stream, in order.
 */
export class WatermarkEmbedder {
  private readonly pattern: ChipPattern;
  private readonly signs = new Float32Array(WATERMARK_BITS);
  private readonly strength: number;
  private readonly scratch: GridScratch;
  private readonly soft = new Float32Array(WATERMARK_BITS);
  private readonly bitDelta = new Float32Array(WATERMARK_BITS);
  private readonly slotDelta = new Float32Array(SLOTS);
  /** Video only: the remembered host power per block, and per bit the sum of the reader's weights × the share of its chips. */
  private readonly power: Float32Array | undefined;
  private readonly share = new Float32Array(BLOCKS);
  private readonly sharedWeight = new Float64Array(WATERMARK_BITS);
  private readonly gain = new Float32Array(WATERMARK_BITS);
  private readonly hostSoft = new Float32Array(WATERMARK_BITS);
  private readonly after = new Float32Array(WATERMARK_BITS);
  /** Per bit, d × gain of the change being spread. */
  private readonly bitScale = new Float64Array(WATERMARK_BITS);
  /** The reader's correlation of this key's chips (bit-order.ts, the reader's own code), reused by the video corrections. */
  private readonly chips: BitCorrelator;
  private frames = 0;

  constructor(key: Uint8Array, payload: WatermarkPayload, options: WatermarkOptions = {}) {
    this.pattern = chipPattern(key);
    this.chips = new BitCorrelator(this.pattern);
    this.scratch = new GridScratch(options.simd ?? true);
    const media = options.media ?? 'video';
    if (media !== 'video' && media !== 'still') throw new RangeError(`media must be 'video' or 'still', got ${String(media)}`);
    this.power = media === 'video' ? new Float32Array(BLOCKS) : undefined;
    const strength = options.strength ?? (media === 'video' ? DEFAULT_VIDEO_STRENGTH : DEFAULT_STILL_STRENGTH);
    if (!Number.isFinite(strength) || strength <= 0) throw new RangeError(`strength must be a positive number, got ${String(strength)}`);
    this.strength = strength;
    const bits = encodePayload(payload);
    for (let b = 0; b < WATERMARK_BITS; b++) this.signs[b] = bits[b] ? 1 : -1;
  }

  /**
   * Embeds in place into an RGB or RGBA Image (grey also works), any size ≥ 16×16: the same luma
   * delta goes to R, G and B (chroma unchanged), clipped to 0..255; alpha is untouched.
   */
  embed(image: Image): void {
    checkImage(image, 'WatermarkEmbedder.embed', [1, 3, 4]);
    const coeffs = this.scratch.analyze(image);
    const chips = this.chips;
    chips.loadHost(coeffs);
    const soft = chips.correlate(this.soft);
    // ISS: move each bit's correlation to ±strength; a host already beyond it is left alone.
    for (let b = 0; b < WATERMARK_BITS; b++) {
      const target = this.strength * this.signs[b];
      this.bitDelta[b] = soft[b] * this.signs[b] >= this.strength ? 0 : target - soft[b];
    }
    if (this.power) this.shapeVideo(coeffs, this.power);
    else {
      const { bitOf, sign } = this.pattern;
      for (let i = 0; i < SLOTS; i++) this.slotDelta[i] = this.bitDelta[bitOf[i]] * sign[i];
    }
    this.scratch.synthesize(this.slotDelta);
    this.scratch.addResidual(image);
  }

  /**
   * A video frame's chip changes: bit b's change d goes to its u+v = 2 chips as d × sign × share ×
   * Σw / Σ(w × share) over the bit's chips (w the reader's block weights of this frame, share 0 on
   * the other chips), which would move the reader's weighted correlation by exactly d if the weights
   * stayed put. They do not: the change raises the power of the flat blocks it favours, and the
   * reader then trusts them less. So the embedder reads its own result on the chips (host + change,
   * through the reader's weights) and corrects each bit's d by what it missed over the gain it saw,
   * {@link REFINE_PASSES} times.
   */
  private shapeVideo(coeffs: Float32Array, power: Float32Array): void {
    const chips = this.chips;
    const weights = chips.weights; // the reader's for this frame, until the first correction below
    const keep = this.frames++ === 0 ? 0 : POWER_MEMORY;
    const share = this.share;
    const { bitOf } = this.pattern;
    const shared = this.sharedWeight;
    shared.fill(0);
    for (let block = 0, i = 0; block < BLOCKS; block++, i += PER_BLOCK) {
      power[block] = keep * power[block] + (1 - keep) * blockPower(weights[block]);
      const s = Math.fround(Math.sqrt(blockWeight(power[block])));
      share[block] = s;
      const ws = weights[block] * s;
      for (let k = i; k < i + LOW_CHIPS; k++) shared[bitOf[k]] += ws;
    }
    const total = chips.total; // Σw over each bit's chips, also from the host's correlation
    for (let b = 0; b < WATERMARK_BITS; b++) this.gain[b] = shared[b] > 0 ? total[b] / shared[b] : 0;
    const d = this.bitDelta;
    const host = this.soft;
    this.hostSoft.set(host);
    const bitScale = this.bitScale;
    for (let pass = 0; pass < REFINE_PASSES; pass++) {
      // Spread d to the chips and read host + change as the reader would; the change is 0 outside the low chips.
      for (let b = 0; b < WATERMARK_BITS; b++) bitScale[b] = d[b] * this.gain[b];
      chips.spreadAndWeigh(coeffs, this.slotDelta, LOW_CHIPS, bitScale, share);
      const after = chips.correlate(this.after);
      for (let b = 0; b < WATERMARK_BITS; b++) {
        if (d[b] === 0) continue;
        const target = this.strength * this.signs[b];
        const seen = Math.min(1, Math.max(MIN_SEEN_GAIN, (after[b] - this.hostSoft[b]) / d[b]));
        d[b] += (target - after[b]) / seen;
      }
    }
    const energy = this.spread(d);
    const slotDelta = this.slotDelta;
    const mse = energy / (GRID_W * GRID_H);
    if (mse > MAX_VIDEO_MSE) {
      const scale = Math.sqrt(MAX_VIDEO_MSE / mse);
      for (let i = 0; i < SLOTS; i += PER_BLOCK) for (let k = i; k < i + LOW_CHIPS; k++) slotDelta[k] *= scale;
    }
  }

  /**
   * Bit changes `d` to chip changes, in the shape {@link shapeVideo} set up (a video embedder's other
   * chips stay 0), as {@link BitCorrelator.spreadAndWeigh} writes them; returns their energy.
   */
  private spread(d: Float32Array): number {
    const { bitOf, sign } = this.pattern;
    const slotDelta = this.slotDelta;
    const gain = this.gain;
    const share = this.share;
    let energy = 0;
    for (let block = 0, i = 0; block < BLOCKS; block++, i += PER_BLOCK) {
      const s = share[block];
      for (let k = i; k < i + LOW_CHIPS; k++) {
        const bit = bitOf[k];
        const change = Math.fround(d[bit] * gain[bit] * sign[k] * s);
        slotDelta[k] = change;
        energy += change * change;
      }
    }
    return energy;
  }
}

/** PSNR of the BT.601 luma of two same-size images, in dB (Infinity when identical). */
export function psnrLuma(a: Image, b: Image): number {
  if (a.width !== b.width || a.height !== b.height) throw new RangeError(`psnrLuma: sizes differ, ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  const n = a.width * a.height;
  const ca = a.channels;
  const cb = b.channels;
  const luma = (d: Uint8ClampedArray, p: number, c: number): number => (c < 3 ? d[p] : 0.299 * d[p] + 0.587 * d[p + 1] + 0.114 * d[p + 2]);
  let se = 0;
  for (let i = 0; i < n; i++) {
    const e = luma(a.data, i * ca, ca) - luma(b.data, i * cb, cb);
    se += e * e;
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / se);
}

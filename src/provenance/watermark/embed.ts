/**
 * Embedding: an improved-spread-spectrum embedder that moves each payload bit's correlation to
 * ±strength on the canonical grid and adds the residual to the frame's colour channels, and the
 * PSNR-Y measure the strengths are tuned against. Platform-free.
 */

import type { Image } from '../../core/image.js';
import { WATERMARK_BITS, encodePayload, type WatermarkPayload } from '../payload.js';
import { checkImage, GridScratch } from './grid.js';
import { chipPattern, CorrelationScratch, correlate, SLOTS, type ChipPattern } from './pattern.js';

/**
 * ISS target correlation for video frames (DCT units of the canonical grid); votes over frames do
 * the rest. 3.75 keeps PSNR-Y near 45.5 dB on 1080p clips (the spec's floor is 45); 3.5 gives
 * 46 dB but lets a hard H.265 CRF 28 clip drop a bit in a 1-s window.
 */
export const DEFAULT_VIDEO_STRENGTH = 3.75;
/**
 * Stills get one frame and no votes. On the 512-px fixture photos, JPEG q75 + 0.5× resize leaves
 * them narrower than the 480-column grid, so the higher chips are lost: 5 is the smallest strength
 * that recovers every bit with a little margin, 6 leaves more (PSNR-Y ≈ 41 dB on those photos).
 */
export const DEFAULT_STILL_STRENGTH = 6;

export interface WatermarkOptions {
  /** ISS target |correlation| per bit on the canonical grid. Default {@link DEFAULT_VIDEO_STRENGTH}. */
  strength?: number;
  /**
   * Whether the WebAssembly SIMD kernels may run where available (default true). `false` keeps
   * every step in TypeScript: the same bytes, slower; for tests and benchmarks.
   */
  simd?: boolean;
}

/** Writes one payload with one key into frames, in place; holds its scratch, so reuse it across frames. */
export class WatermarkEmbedder {
  private readonly pattern: ChipPattern;
  private readonly signs = new Float32Array(WATERMARK_BITS);
  private readonly strength: number;
  private readonly scratch: GridScratch;
  private readonly correlation = new CorrelationScratch();
  private readonly soft = new Float32Array(WATERMARK_BITS);
  private readonly bitDelta = new Float32Array(WATERMARK_BITS);
  private readonly slotDelta = new Float32Array(SLOTS);

  constructor(key: Uint8Array, payload: WatermarkPayload, options: WatermarkOptions = {}) {
    this.pattern = chipPattern(key);
    this.scratch = new GridScratch(options.simd ?? true);
    const strength = options.strength ?? DEFAULT_VIDEO_STRENGTH;
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
    const soft = correlate(this.pattern, coeffs, this.soft, this.correlation);
    // ISS: move each bit's correlation to ±strength; a host already beyond it is left alone.
    for (let b = 0; b < WATERMARK_BITS; b++) {
      const target = this.strength * this.signs[b];
      this.bitDelta[b] = soft[b] * this.signs[b] >= this.strength ? 0 : target - soft[b];
    }
    const { bitOf, sign } = this.pattern;
    const slotDelta = this.slotDelta;
    const bitDelta = this.bitDelta;
    for (let i = 0; i < SLOTS; i++) slotDelta[i] = bitDelta[bitOf[i]] * sign[i];
    this.scratch.synthesize(slotDelta);
    this.scratch.addResidual(image);
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

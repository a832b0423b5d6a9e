/**
 * Invisible video watermark (improved spread spectrum, Malvar & Florêncio 2003): the 64 payload
 * bits are spread over keyed mid-frequency DCT chips of a canonical 480×270 luma grid, each block's
 * chips weighted by the inverse of its host variance, and a detector sums per-frame soft
 * correlations over windows of frames before deciding. Platform-free:
 * typed arrays only, so it runs in Node and in a browser Worker.
 *
 * The code is in watermark/: pattern.ts (grid layout, key → chips, block weights), bit-order.ts (the
 * weighted correlation, shared by writer and reader), grid.ts (frame ↔
 * grid, with the WebAssembly SIMD kernels of ../upsample-simd.ts and their TypeScript twins, and
 * the float row kernel of residual-rows.ts), embed.ts (the writer) and detect.ts (the reader); this
 * module is their one import.
 */

export { WATERMARK_KEY_BYTES } from './watermark/pattern.js';
export { DEFAULT_STILL_STRENGTH, DEFAULT_VIDEO_STRENGTH, psnrLuma, WatermarkEmbedder } from './watermark/embed.js';
export type { WatermarkOptions } from './watermark/embed.js';
export { correlateCoefficients, decideWatermark, decodeWindow, flipsFor, frameCoefficients, measureFrame, WatermarkDetector } from './watermark/detect.js';
export type { WatermarkDetection } from './watermark/detect.js';

/**
 * The marks every output frame carries: the visible label, then the invisible watermark over the
 * whole frame (label included). One object per output, so a video's frames get identical marks
 * and the label's rendering and the watermark's key-derived patterns are prepared once.
 * Platform-free: the CLI, the video pipeline and the browser worker all use it.
 */

import type { Image } from '../core/image.js';
import { drawLabel, type LabelOptions } from './label.js';
import { formatWatermarkId, type WatermarkPayload } from './payload.js';
import { WatermarkEmbedder } from './watermark.js';

export interface MarkSettings {
  /** The visible label; `false` only when the user turned it off explicitly. */
  label: Partial<LabelOptions> | false;
  /** The invisible watermark: the key and the payload (asset id and format version). */
  watermark: { key: Uint8Array; payload: WatermarkPayload };
  /** A still gets a stronger watermark, dealt evenly: it has one frame, so no votes across frames and no encoder prediction. */
  media: 'still' | 'video';
  /** `false` keeps the watermark's work in TypeScript (the same bytes, slower): for tests and benchmarks. */
  simd?: boolean;
}

export class FrameMarker {
  readonly watermarkId: string;
  private readonly embedder: WatermarkEmbedder;

  /** `settings` stay readable: a marks thread makes its own marker from them (the same marks, bytes for bytes). */
  constructor(readonly settings: MarkSettings) {
    this.embedder = new WatermarkEmbedder(settings.watermark.key, settings.watermark.payload, { media: settings.media, simd: settings.simd });
    this.watermarkId = formatWatermarkId(settings.watermark.payload.assetId);
  }

  /** Whether the visible label is drawn (the watermark always is). */
  get labelShown(): boolean {
    return this.settings.label !== false;
  }

  /** Marks `image` in place (RGB or RGBA). */
  mark(image: Image): void {
    if (this.settings.label !== false) drawLabel(image, this.settings.label);
    this.embedder.embed(image);
  }
}

/**
 * The library's still swap: the engine paints a copy of the target, then the frame processor's
 * marks stage labels and watermarks it, with the user's key unless the caller chose other marks or
 * none (`marks: false`, explicit, and reported in the result).
 */

import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { FrameProcessor, type FrameEngine, type MarkChoice, type MarksApplied } from '../../pipeline/frame-processor.js';
import type { SwapOptions } from '../../pipeline/options.js';
import type { StillResult } from '../../pipeline/report.js';
import type { InputNames, PreparedSource, StillSwapper } from '../../pipeline/still.js';
import { defaultMarker } from '../provenance/default-marks.js';

/** How one still call is named and marked. */
export interface StillCall extends InputNames {
  /** Default: the default label and the user's watermark key; `false` leaves the picture unmarked. */
  marks?: MarkChoice;
  /** Where the default marks' key is kept; default LIVESWAP_HOME or the user's cache folder. */
  home?: string;
}

export interface MarkedStillResult extends StillResult {
  /** The marks the image carries. */
  marks: MarksApplied;
}

/** Swaps and marks one still; `source` is a photo (analysed here) or a prepared source. */
export async function swapStill(
  engineName: string,
  still: StillSwapper,
  source: Image | PreparedSource,
  target: Image,
  options: SwapOptions,
  call: StillCall = {},
): Promise<MarkedStillResult> {
  const files: InputNames = { ...(call.source !== undefined ? { source: call.source } : {}), ...(call.target !== undefined ? { target: call.target } : {}) };
  if (call.marks === false) return { ...(await still.swap(source, target, options, files)), marks: { label: false, watermark: false } };
  const marks = call.marks ?? (await defaultMarker('still', call.home));
  const prepared = 'identity' in source ? source : await still.prepareSource(source, options, call.source);
  const engine: FrameEngine = {
    name: engineName,
    // Still mode finds and chooses faces inside `swap`; the planner's analyse is for streams.
    analyze: () => Promise.reject(new LiveswapError('internal', 'A still is analysed by its swap, not frame by frame.')),
    paintFaces: (frame, jobs, paint, timings) => still.paintFaces(frame, jobs, paint, timings),
    swap: (identity, picture, paint, names) => still.swap(identity, picture, paint, names),
  };
  const processor = FrameProcessor.create(engine, { mode: 'still', paint: options, marks }, [prepared]);
  try {
    const result = await processor.process(target, 0, { files });
    const report = result.still!;
    if (prepared !== source) {
      // Prepared here: its cost belongs to this call, as when the swap analyses the photo itself.
      report.timings = { ...report.timings, source: round(prepared.timings.source), identity: round(prepared.timings.identity) };
    }
    report.timings.mark = round(result.timings.mark);
    return { image: result.image, report, marks: result.marks };
  } finally {
    processor.close();
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

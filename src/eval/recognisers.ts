/**
 * The face recognisers the evaluation measures identity with: one list, read by the CLI's
 * `--recognisers` choices, the report's column headers and the pass/fail gates.
 */

import type { Image } from '../core/image.js';
import type { Face } from '../face/face.js';

export const RECOGNISERS = ['faceres', 'mobileface'] as const;
export type RecogniserId = (typeof RECOGNISERS)[number];

/** Short names for table headers. */
export const RECOGNISER_LABELS: Readonly<Record<RecogniserId, string>> = {
  faceres: 'FaceRes',
  mobileface: 'MobileFace',
};

/** Embeds a face for identity comparisons; a recogniser independent of the swap engine. */
export interface Recogniser {
  readonly id: RecogniserId;
  /** What it is and where it comes from, for reports. */
  readonly name: string;
  embed(image: Image, face: Face): Promise<Float32Array>;
}

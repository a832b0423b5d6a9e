/** Identity measurements from face embeddings: similarity and retrieval among candidates. */

import { cosineSimilarity } from '../face/embedder.js';

export { cosineSimilarity };

/** Index of the candidate most similar to `query` (ties: the first). */
export function nearest(query: Float32Array, candidates: readonly Float32Array[]): number {
  let best = -1;
  let bestSimilarity = -Infinity;
  candidates.forEach((c, i) => {
    const s = cosineSimilarity(query, c);
    if (s > bestSimilarity) {
      bestSimilarity = s;
      best = i;
    }
  });
  return best;
}

/**
 * Landmark jitter of a face over a sequence: the RMS distance of each landmark from its mean
 * position, over all landmarks and frames, in pixels. On a clip where the face holds still this
 * is pure measurement noise plus whatever the swap adds.
 */
export function landmarkJitter(sequence: readonly Float32Array[], stride = 3): number {
  if (sequence.length < 2) return 0;
  const points = sequence[0].length / stride;
  const mean = new Float64Array(points * 2);
  for (const m of sequence)
    for (let i = 0; i < points; i++) {
      mean[2 * i] += m[stride * i] / sequence.length;
      mean[2 * i + 1] += m[stride * i + 1] / sequence.length;
    }
  let sum = 0;
  for (const m of sequence) for (let i = 0; i < points; i++) sum += (m[stride * i] - mean[2 * i]) ** 2 + (m[stride * i + 1] - mean[2 * i + 1]) ** 2;
  return Math.sqrt(sum / (points * sequence.length));
}

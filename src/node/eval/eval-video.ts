/**
 * Stability of a swap over video frames: landmark jitter and frame-to-frame flicker in the face
 * region, for the input clip and for the swapped one. On a clip where the face holds still, every
 * bit of movement in the output beyond the input's is the swap's doing.
 */

import type { Image } from '../../core/image.js';
import { landmarkJitter } from '../../eval/identity.js';
import { flicker, insideBox } from '../../eval/image-metrics.js';
import type { Face } from '../../face/face.js';
import { faceSize } from '../../face/face.js';
import { resolveSwapOptions, type EngineChoice } from '../../pipeline/options.js';
import type { PreparedSource } from '../../pipeline/still.js';
import { readFrames } from '../media/ffmpeg.js';
import type { VideoResult } from './eval-report.js';
import type { NodeSwapper } from '../jobs/swapper.js';

/** Frames read from a video for the stability measures. */
const MAX_FRAMES = 60;

function nearestFace(faces: readonly Face[], to: Face): Face | undefined {
  let best: Face | undefined;
  let bestDistance = faceSize(to) / 2;
  for (const f of faces) {
    const d = Math.hypot(f.box[0] - to.box[0], f.box[1] - to.box[1]);
    if (d < bestDistance) {
      bestDistance = d;
      best = f;
    }
  }
  return best;
}

export async function evaluateVideo(path: string, label: string, source: PreparedSource, sourceName: string, swapper: NodeSwapper, engine: EngineChoice): Promise<VideoResult> {
  const options = resolveSwapOptions({ engine });
  const inputFrames: Image[] = [];
  const outputFrames: Image[] = [];
  const inputMeshes: Float32Array[] = [];
  const outputMeshes: Float32Array[] = [];
  let frames = 0;
  let framesWithFace = 0;
  let swappedFrames = 0;
  let firstFace: Face | undefined;
  for await (const frame of readFrames(path, { maxFrames: MAX_FRAMES })) {
    frames++;
    const [face] = await swapper.analyze(frame);
    if (!face) continue;
    framesWithFace++;
    firstFace ??= face;
    const { image, report } = await swapper.swap(source, frame, options, { marks: false }); // the swap itself is measured
    if (report.swappedFaces.length) swappedFrames++;
    const swapped = nearestFace(await swapper.analyze(image), face);
    if (!swapped) continue;
    inputFrames.push(frame);
    outputFrames.push(image);
    inputMeshes.push(face.landmarks);
    outputMeshes.push(swapped.landmarks);
  }
  const region = firstFace ? insideBox(firstFace.box, 0.1) : () => false;
  return {
    video: label,
    source: sourceName,
    frames,
    jitterInput: landmarkJitter(inputMeshes),
    jitterOutput: landmarkJitter(outputMeshes),
    flickerInput: flicker(inputFrames, region),
    flickerOutput: flicker(outputFrames, region),
    swappedFrames,
    framesWithFace,
  };
}

/**
 * Stability of a swap over video frames: landmark jitter and frame-to-frame flicker in the face
 * region, for the input clip and for the swapped one. On a clip where the face holds still, every
 * bit of movement in the output beyond the input's is the swap's doing.
 */

import type { Image } from '../core/image.js';
import { landmarkJitter } from '../eval/identity.js';
import { flicker, insideBox } from '../eval/image-metrics.js';
import type { Face } from '../face/face.js';
import { faceSize } from '../face/face.js';
import { resolveSwapOptions, type EngineChoice } from '../pipeline/options.js';
import type { PreparedSource } from '../pipeline/still.js';
import { createVideoWriter, readFrames } from './ffmpeg.js';
import type { VideoResult } from './eval-runner.js';
import type { NodeSwapper } from './swapper.js';

/** Frames read from a video for the stability measures. */
const MAX_FRAMES = 60;

/**
 * A still-face clip: the photo held for `frames` frames with mild independent noise per frame
 * (±2 levels), so the encoder sees a camera's grain rather than identical frames.
 */
export async function makeStaticClip(path: string, photo: Image, frames = 45, fps = 30): Promise<void> {
  const width = photo.width & ~1;
  const height = photo.height & ~1;
  const writer = await createVideoWriter(path, { width, height, fps, crf: 18 });
  const frame: Image = { width, height, channels: 3, data: new Uint8ClampedArray(width * height * 3) };
  let seed = 12345;
  try {
    for (let f = 0; f < frames; f++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width * 3; x++) {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          frame.data[y * width * 3 + x] = photo.data[y * photo.width * 3 + x] + ((seed >>> 29) - 3.5) * 0.6;
        }
      }
      await writer.write(frame);
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

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
    const { image, report } = await swapper.swap(source, frame, options);
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

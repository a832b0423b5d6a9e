/**
 * A slow pan for face-following tests: a fixture photo cropped to `width`×`height`, drifting right
 * by 1 pixel a frame, as RGB frames.
 */

import sharp from 'sharp';
import type { Image } from '../../src/core/image.js';
import { FIXTURES } from './fixtures.js';

/** `frames` frames of a fixture photo drifting right by 1 px a frame. */
export async function panShot(photo: string, frames: number, width: number, height: number): Promise<Image[]> {
  const { data, info } = await sharp(`${FIXTURES}${photo}`)
    .removeAlpha()
    .resize(width + frames, height, { fit: 'cover' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Array.from({ length: frames }, (_, k) => {
    const out = new Uint8ClampedArray(width * height * 3);
    for (let y = 0; y < height; y++) out.set(data.subarray((y * info.width + k) * 3, (y * info.width + k + width) * 3), y * width * 3);
    return { width, height, channels: 3, data: out };
  });
}

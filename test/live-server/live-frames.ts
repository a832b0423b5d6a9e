/**
 * Camera-like frames for the live-session tests, made from the committed fixture photos: a face
 * photo placed on a plain 640×360 picture, moved a little from frame to frame, as JPEG.
 */

import { join } from 'node:path';
import sharp from 'sharp';
import { FIXTURES } from '../helpers/fixtures.js';

/** `count` JPEG frames of `width`×`height` with the fixture face drifting right by `step` pixels a frame. */
export async function faceFrames(count: number, options: { photo?: string; width?: number; height?: number; step?: number } = {}): Promise<Buffer[]> {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const side = Math.round(height * 0.8);
  const face = await sharp(join(FIXTURES, options.photo ?? 'grace_hopper.jpg'))
    .resize(side, side, { fit: 'cover' })
    .toBuffer();
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const left = Math.round((width - side) / 2) + i * (options.step ?? 2);
    frames.push(
      await sharp({ create: { width, height, channels: 3, background: { r: 90, g: 110, b: 130 } } })
        .composite([{ input: face, left, top: Math.round((height - side) / 2) }])
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
  }
  return frames;
}

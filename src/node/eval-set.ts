/**
 * The pictures an evaluation runs on: the user's folders, or the built-in set made from the
 * bundled photos: the originals as sources; as targets, augmented copies (mirrored, scaled,
 * relit, tilted: the same people seen differently), a three-face group picture, and a clip of a
 * face holding still (for stability).
 */

import { mkdir, readdir } from 'node:fs/promises';
import { extname, join, parse } from 'node:path';
import sharp from 'sharp';
import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { loadDemoPhotos, makeGroupPicture } from './demo-assets.js';
import { makeStaticClip } from './eval-video.js';
import { readImage } from './image-io.js';

export interface NamedImage {
  name: string;
  image: Image;
  /** Who is in it, when known: lets retrieval be scored against identity, not file name. */
  identity?: string;
}

export interface EvalSet {
  sources: NamedImage[];
  targets: NamedImage[];
  /** Video files among the targets (evaluated for stability). */
  videos: string[];
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);
const VIDEO_EXTENSIONS = new Set(['.mp4', '.mkv', '.webm', '.mov', '.gif']);

async function listFolder(dir: string, role: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort().map((f) => join(dir, f));
  } catch (cause) {
    throw new LiveswapError('input-missing', `Cannot read the ${role} folder ${dir}: ${(cause as Error).message}`, { file: dir, cause });
  }
}

/** Images (and, for targets, videos) from two folders. */
export async function readEvalFolders(sourcesDir: string, targetsDir: string, maxPixels: number): Promise<EvalSet> {
  const read = async (paths: string[]) =>
    Promise.all(paths.filter((p) => IMAGE_EXTENSIONS.has(extname(p).toLowerCase())).map(async (p) => ({ name: parse(p).base, image: await readImage(p, { maxPixels }) })));
  const sourcePaths = await listFolder(sourcesDir, 'sources');
  const targetPaths = await listFolder(targetsDir, 'targets');
  const set = {
    sources: await read(sourcePaths),
    targets: await read(targetPaths),
    videos: targetPaths.filter((p) => VIDEO_EXTENSIONS.has(extname(p).toLowerCase())),
  };
  if (set.sources.length === 0) throw new LiveswapError('input-missing', `No JPEG, PNG or WebP images in the sources folder ${sourcesDir}.`, { file: sourcesDir });
  if (set.targets.length === 0 && set.videos.length === 0) throw new LiveswapError('input-missing', `No images or videos in the targets folder ${targetsDir}.`, { file: targetsDir });
  return set;
}

async function augment(image: Image, steps: { mirror?: boolean; scale?: number; brightness?: number; rotate?: number }): Promise<Image> {
  let pipeline = sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: image.channels },
  });
  if (steps.mirror) pipeline = pipeline.flop();
  if (steps.scale) pipeline = pipeline.resize(Math.round(image.width * steps.scale), Math.round(image.height * steps.scale));
  if (steps.brightness) pipeline = pipeline.linear(1, steps.brightness);
  if (steps.rotate) pipeline = pipeline.rotate(steps.rotate, { background: { r: 128, g: 128, b: 128 } });
  const { data, info } = await sharp(await pipeline.removeAlpha().png().toBuffer()).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

/** The built-in set from the bundled photos; its still-face clip is written into `clipDir`. */
export async function builtinEvalSet(fixturesDir: string, clipDir: string): Promise<EvalSet> {
  const photos = await loadDemoPhotos(fixturesDir);
  await mkdir(clipDir, { recursive: true });
  const clip = join(clipDir, 'grace_hopper-still.mp4');
  await makeStaticClip(clip, photos.grace_hopper);
  return {
    sources: [
      { name: 'astronaut', image: photos.astronaut, identity: 'astronaut' },
      { name: 'grace_hopper', image: photos.grace_hopper, identity: 'grace_hopper' },
      { name: 'camera', image: photos.camera, identity: 'camera' },
    ],
    targets: [
      { name: 'astronaut-mirrored-0.8x', image: await augment(photos.astronaut, { mirror: true, scale: 0.8 }), identity: 'astronaut' },
      { name: 'astronaut-tilted-brighter', image: await augment(photos.astronaut, { rotate: 12, brightness: 25 }), identity: 'astronaut' },
      { name: 'grace_hopper-mirrored-darker', image: await augment(photos.grace_hopper, { mirror: true, brightness: -30 }), identity: 'grace_hopper' },
      { name: 'grace_hopper-1.2x-tilted', image: await augment(photos.grace_hopper, { scale: 1.2, rotate: -10 }), identity: 'grace_hopper' },
      { name: 'group', image: await makeGroupPicture(photos.astronaut, photos.grace_hopper) },
    ],
    videos: [clip],
  };
}

/**
 * The pictures an evaluation runs on: a folder of people (one subfolder each: a source photo and
 * a gallery) with group photos, two folders of sources and targets, or the built-in set made from
 * the bundled photos: the originals as sources; as targets, augmented copies (mirrored, scaled,
 * relit, tilted: the same people seen differently), a three-face group picture, and a clip of a
 * face holding still (for stability).
 */

import { mkdir, readdir, stat } from 'node:fs/promises';
import { extname, join, parse } from 'node:path';
import sharp from 'sharp';
import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { loadDemoPhotos, makeGroupPicture } from './demo-assets.js';
import { createVideoWriter } from '../media/ffmpeg.js';
import { readImage } from '../media/image-io.js';

export interface NamedImage {
  name: string;
  image: Image;
  /** Who is in it, when known: lets retrieval be scored against identity, not file name. */
  identity?: string;
  /** A target whose every face is swapped, each as a pair of its own (group photos). */
  everyFace?: boolean;
  /** A source made from several photos of one person: the photos after this one (see GallerySetOptions). */
  morePhotos?: NamedImage[];
}

/** How a people folder is split into sources and galleries. */
export interface GallerySetOptions {
  /** Each person's first this many photos are one source (default 1); at least one is always left for the gallery. */
  sourcePhotos?: number;
  /**
   * Each person's gallery starts after their first this many photos (default `sourcePhotos`, never
   * fewer; at the latest their last photo), so runs with different `sourcePhotos` share one gallery.
   */
  galleryFrom?: number;
}

/** One person's gallery: the names of their target photos that are never a swap's source. */
export interface GalleryPhotos {
  person: string;
  photos: string[];
}

export interface EvalSet {
  sources: NamedImage[];
  /** A source is never swapped onto the target of the same name (itself). */
  targets: NamedImage[];
  /** Video files among the targets (evaluated for stability). */
  videos: string[];
  /** Gallery mode: every person's gallery, naming photos among `targets`. */
  galleries?: GalleryPhotos[];
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
  if (set.targets.length === 0 && set.videos.length === 0)
    throw new LiveswapError('input-missing', `No images or videos in the targets folder ${targetsDir}.`, { file: targetsDir });
  return set;
}

/** File names sorted with numbers compared as numbers, so photo-2 comes before photo-10. */
function naturalSort(names: string[]): string[] {
  return names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

async function subfolders(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw new LiveswapError('input-missing', `Cannot read the people folder ${dir}: ${(cause as Error).message}`, { file: dir, cause });
  }
  const isDir = await Promise.all(names.map(async (n) => (await stat(join(dir, n))).isDirectory()));
  return naturalSort(names.filter((_, i) => isDir[i]));
}

/** A person's photos split as {@link GallerySetOptions} say: how many are the source, where the gallery starts. */
export function splitPhotos(count: number, options: GallerySetOptions = {}): { sources: number; galleryFrom: number } {
  if (count < 2) return { sources: 0, galleryFrom: 0 };
  const wanted = options.sourcePhotos ?? 1;
  const sources = Math.min(wanted, count - 1);
  return { sources, galleryFrom: Math.max(sources, Math.min(options.galleryFrom ?? wanted, count - 1)) };
}

/**
 * Gallery mode. Each subfolder of `peopleDir` is one person. A person with two or more photos
 * gives the first (natural sort order) as a source and the rest as their gallery (or, with
 * `options`, their first few photos as one source: see {@link splitPhotos}); a person with one
 * photo is in the set as a gallery of that photo (a distractor for retrieval, and a target).
 * Every person's photo is a target, named `person/file`; so is every photo in `groupsDir`, where
 * each face is swapped as a pair of its own (named `groups/file`). Videos in `groupsDir` are
 * evaluated for stability.
 */
export async function readGallerySet(peopleDir: string, groupsDir: string | undefined, maxPixels: number, options: GallerySetOptions = {}): Promise<EvalSet> {
  const set: EvalSet = { sources: [], targets: [], videos: [], galleries: [] };
  for (const person of await subfolders(peopleDir)) {
    const files = naturalSort((await readdir(join(peopleDir, person))).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())));
    if (files.length === 0) continue;
    const photos = await Promise.all(files.map(async (f) => ({ name: `${person}/${f}`, image: await readImage(join(peopleDir, person, f), { maxPixels }), identity: person })));
    set.targets.push(...photos);
    const split = splitPhotos(photos.length, options);
    if (split.sources === 1) set.sources.push(photos[0]);
    else if (split.sources > 1) set.sources.push({ ...photos[0], morePhotos: photos.slice(1, split.sources) });
    set.galleries!.push({ person, photos: photos.slice(split.galleryFrom).map((p) => p.name) });
  }
  if (set.sources.length === 0) {
    throw new LiveswapError(
      'input-missing',
      `No person in ${peopleDir} has two or more photos (a source and a gallery); give each person a subfolder of JPEG, PNG or WebP photos.`,
      { file: peopleDir },
    );
  }
  if (groupsDir !== undefined) {
    const paths = await listFolder(groupsDir, 'groups');
    for (const p of paths.filter((q) => IMAGE_EXTENSIONS.has(extname(q).toLowerCase()))) {
      set.targets.push({ name: `groups/${parse(p).base}`, image: await readImage(p, { maxPixels }), everyFace: true });
    }
    set.videos.push(...paths.filter((q) => VIDEO_EXTENSIONS.has(extname(q).toLowerCase())));
  }
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
  const { data, info } = await sharp(await pipeline.removeAlpha().png().toBuffer())
    .raw()
    .toBuffer({ resolveWithObject: true });
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

/**
 * Synthetic video for the watermark tests and bench: a fixture face moving over a panning textured
 * background with per-frame noise, made in memory, plus a raw-rgb24 pipe through ffmpeg (encode
 * with an attack, decode back) that hands each decoded frame to a callback without keeping it.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { Image } from '../../src/core/image.js';
import { childExit, ffmpegPath, StderrTail } from '../../src/node/media/ffmpeg-binary.js';
import { readFrames } from '../../src/node/media/ffmpeg-read.js';
import { FIXTURES } from './fixtures.js';
import { seededRandom } from './random.js';

export const PHOTOS = ['grace_hopper.jpg', 'astronaut.png', 'camera.png'] as const;

export interface SyntheticClipOptions {
  width: number;
  height: number;
  /** Varies texture, motion and noise. */
  seed: number;
  photo?: (typeof PHOTOS)[number];
  /** Per-frame noise amplitude in levels (uniform ±). Default 3. */
  noise?: number;
}

export { seededRandom };

async function rawRgb(pipeline: Sharp): Promise<Image> {
  const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

/** Random colour noise at `cells` resolution, smoothly enlarged: blobs of that scale. */
async function blobs(random: () => number, cellsX: number, cellsY: number, width: number, height: number): Promise<Image> {
  const small = Buffer.alloc(cellsX * cellsY * 3);
  for (let i = 0; i < small.length; i++) small[i] = Math.floor(random() * 256);
  return rawRgb(sharp(small, { raw: { width: cellsX, height: cellsY, channels: 3 } }).resize(width, height, { kernel: 'cubic', fit: 'fill' }));
}

/** Frame source of one synthetic clip; frame(i) is deterministic and a new Image each call. */
export interface SyntheticClip {
  readonly width: number;
  readonly height: number;
  frame(index: number): Image;
}

export async function syntheticClip(options: SyntheticClipOptions): Promise<SyntheticClip> {
  const { width, height, seed } = options;
  const random = seededRandom(seed);
  const noise = options.noise ?? 3;
  // Background 1.5× the frame with roughly natural (1/f) statistics: large soft blobs, weaker
  // mid-scale shapes and faint fine texture, panned over the clip.
  const bw = Math.round(width * 1.5);
  const bh = Math.round(height * 1.5);
  const coarse = await blobs(random, 8, 6, bw, bh);
  const mid = await blobs(random, 24 + Math.floor(random() * 16), 16 + Math.floor(random() * 10), bw, bh);
  const fine = await blobs(random, 100 + Math.floor(random() * 80), 70 + Math.floor(random() * 50), bw, bh);
  const background = new Uint8ClampedArray(bw * bh * 3);
  const midGain = 0.3 + 0.3 * random();
  const fineGain = 0.1 + 0.2 * random();
  for (let i = 0; i < background.length; i++) background[i] = coarse.data[i] + midGain * (mid.data[i] - 128) + fineGain * (fine.data[i] - 128);
  const photo = options.photo ?? PHOTOS[seed % PHOTOS.length];
  const faceH = Math.round(height * (0.45 + 0.3 * random()));
  const face = await rawRgb(sharp(join(FIXTURES, photo)).rotate().resize({ height: faceH }));
  // Motion in pixels per frame as a 1080p clip would have it, scaled to the frame (a smaller clip is the same video, downsized).
  const motionScale = width / 1920;
  const pan = { x: (random() - 0.5) * 6 * motionScale, y: (random() - 0.5) * 3 * motionScale };
  const sway = { ax: width * (0.05 + 0.1 * random()), ay: height * 0.05 * random(), period: 40 + 80 * random(), phase: random() * 6.28 };
  const home = { x: Math.round((width - face.width) * (0.2 + 0.6 * random())), y: Math.round((height - faceH) * (0.3 + 0.4 * random())) };
  return {
    width,
    height,
    frame(index: number): Image {
      const data = new Uint8ClampedArray(width * height * 3);
      const span = { x: bw - width, y: bh - height };
      // Pan back and forth so long clips stay inside the background.
      const bounce = (v: number, max: number): number => {
        const m = ((v % (2 * max)) + 2 * max) % (2 * max);
        return Math.round(m <= max ? m : 2 * max - m);
      };
      const ox = bounce(span.x / 2 + pan.x * index, span.x);
      const oy = bounce(span.y / 2 + pan.y * index, span.y);
      for (let y = 0; y < height; y++) {
        const src = ((oy + y) * bw + ox) * 3;
        data.set(background.subarray(src, src + width * 3), y * width * 3);
      }
      const angle = (index / sway.period) * 2 * Math.PI + sway.phase;
      const fx = Math.round(home.x + sway.ax * Math.sin(angle));
      const fy = Math.round(home.y + sway.ay * Math.cos(angle));
      for (let y = Math.max(0, fy); y < Math.min(height, fy + face.height); y++) {
        const x0 = Math.max(0, fx);
        const x1 = Math.min(width, fx + face.width);
        if (x1 <= x0) continue;
        const src = ((y - fy) * face.width + (x0 - fx)) * 3;
        data.set(face.data.subarray(src, src + (x1 - x0) * 3), (y * width + x0) * 3);
      }
      if (noise > 0) {
        let s = (seed * 7919 + index * 104729) >>> 0;
        const span2 = 2 * noise + 1;
        for (let i = 0; i < data.length; i++) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          data[i] += ((s >>> 16) % span2) - noise;
        }
      }
      return { width, height, channels: 3, data };
    },
  };
}

export interface Attack {
  name: string;
  codec: 'libx264' | 'libx265';
  crf: number;
  /** Extra video filter before encoding (eq=…). */
  filter?: string;
  /** Scale factor applied before encoding (0.5 for the downscale attack). */
  scale?: number;
}

export const ATTACKS = {
  h264: { name: 'H.264 CRF 28', codec: 'libx264', crf: 28 },
  h265: { name: 'H.265 CRF 28', codec: 'libx265', crf: 28 },
  brightness: { name: 'brightness +10%, contrast 0.9, CRF 23', codec: 'libx264', crf: 23, filter: 'eq=brightness=0.1:contrast=0.9' },
  downscale: { name: '0.5× downscale + CRF 23', codec: 'libx264', crf: 23, scale: 0.5 },
} as const satisfies Record<string, Attack>;

export interface RoundTripOptions {
  width: number;
  height: number;
  fps: number;
  frames: number;
  attack: Attack;
  /** Frame `i` to encode (already marked, or not). */
  source: (index: number) => Image;
  /** Each decoded frame, in order. */
  onDecoded: (image: Image, index: number) => void;
}

function even(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}

/** Encodes the frames with the attack (preset medium, yuv420p), decodes back to rgb24. Returns the decoded frame count. */
export async function roundTrip(options: RoundTripOptions): Promise<number> {
  const { width, height, fps, frames, attack } = options;
  const dir = await mkdtemp(join(tmpdir(), 'liveswap-wm-'));
  const file = join(dir, attack.codec === 'libx265' ? 'clip.mkv' : 'clip.mp4');
  const binary = ffmpegPath();
  try {
    const filters: string[] = [];
    if (attack.filter) filters.push(attack.filter);
    const outW = attack.scale ? even(width * attack.scale) : width;
    const outH = attack.scale ? even(height * attack.scale) : height;
    if (attack.scale) filters.push(`scale=${outW}:${outH}`);
    filters.push('format=yuv420p');
    const codecArgs = attack.codec === 'libx265' ? ['-c:v', 'libx265', '-x265-params', 'log-level=error'] : ['-c:v', 'libx264'];
    const encodeArgs = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${width}x${height}`,
      '-r',
      String(fps),
      '-i',
      'pipe:0',
      '-vf',
      filters.join(','),
      ...codecArgs,
      '-preset',
      'medium',
      '-crf',
      String(attack.crf),
      '-pix_fmt',
      'yuv420p',
      file,
    ];
    const encoder = spawn(binary, encodeArgs, { stdio: ['pipe', 'ignore', 'pipe'] });
    const encodeTail = new StderrTail();
    encoder.stderr!.on('data', (chunk: Buffer) => encodeTail.push(chunk));
    const encoded = childExit(encoder, binary);
    const stdin = encoder.stdin!;
    stdin.on('error', () => undefined); // an early ffmpeg exit is reported from its status below
    for (let i = 0; i < frames; i++) {
      const frame = options.source(i);
      if (!stdin.write(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.length))) await Promise.race([once(stdin, 'drain'), encoded]);
    }
    stdin.end();
    const status = await encoded;
    if (status.code !== 0) throw new Error(`ffmpeg ${attack.name} encode failed (${status.code}): ${encodeTail.lastLines()}`);

    // Decoded as ffmpeg converts by default ('fast'); verify reads with the accurate conversion.
    let count = 0;
    for await (const image of readFrames(file, { ffmpegPath: binary, colorConversion: 'fast' })) options.onDecoded(image, count++);
    return count;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

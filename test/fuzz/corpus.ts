/**
 * Valid samples the fuzz targets mutate: real image files (the fixtures, and small ones of each
 * format made here), ffmpeg output as ffmpeg prints it, a map.json as the scan writes it, stand-in
 * ONNX models, a tiny TFJS graph model and the provenance bodies the page sends. Mutating valid
 * inputs reaches far deeper into a parser than random bytes, which most parsers refuse at once.
 */

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { DESCRIPTOR_SIZE } from '../../src/face/embedder.js';
import type { TfjsGraphModelJson } from '../../src/models/tfjs-graph.js';
import { formatFaceMap, type FaceMap } from '../../src/pipeline/face-map.js';
import { PHONE_MP4_PROBE } from '../helpers/ffmpeg-samples.js';
import { arcfaceStandin, inswapperStandin } from '../helpers/standin-models.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/faces/${name}`, import.meta.url));

let images: Promise<Uint8Array[]> | undefined;

/** grace_hopper.jpg and 24×24 JPEG, PNG (RGBA, grey) and WebP files. */
export function imageSeeds(): Promise<Uint8Array[]> {
  images ??= (async () => {
    const rgb = Buffer.alloc(24 * 24 * 3, 0).map((_, i) => (i * 37) & 0xff);
    const raw = { raw: { width: 24, height: 24, channels: 3 as const } };
    return [
      await readFile(fixture('grace_hopper.jpg')),
      await sharp(rgb, raw).jpeg({ quality: 80 }).toBuffer(),
      await sharp(rgb, raw).jpeg({ progressive: true }).toBuffer(),
      await sharp(rgb, raw).ensureAlpha().png().toBuffer(),
      await sharp(rgb, raw).greyscale().png().toBuffer(),
      await sharp(rgb, raw).webp({ quality: 70 }).toBuffer(),
      await sharp(rgb, raw).webp({ lossless: true }).toBuffer(),
    ].map((b) => new Uint8Array(b));
  })();
  return images;
}

/** `ffmpeg -i` stderr of an MP4 from a phone and of a WebM, as recent ffmpeg releases print them. */
export const PROBE_SAMPLES: readonly string[] = [
  PHONE_MP4_PROBE,
  [
    "Input #0, matroska,webm, from 'clip.webm':",
    '  Duration: N/A, start: -0.007000, bitrate: N/A',
    '  Stream #0:0: Video: vp9 (Profile 0), yuv420p(tv, progressive), 640x360, SAR 1:1 DAR 16:9, 30 fps, 30 tbr, 1k tbn (default)',
    '  Stream #0:1: Audio: opus, 48000 Hz, stereo, fltp (default)',
    "Output #0, null, to 'pipe:':",
  ].join('\r\n'),
];

/** Video stream descriptions, the part of a stream line after "Video: ". */
export const VIDEO_STREAM_SAMPLES: readonly string[] = [
  'hevc (Main) (hvc1 / 0x31637668), yuv420p(tv, bt709), 1920x1080, 8000 kb/s, 29.97 fps, 29.97 tbr, 600 tbn (default)',
  'vp9 (Profile 0), yuv420p(tv, progressive), 640x360, SAR 1:1 DAR 16:9, 30 fps, 30 tbr, 1k tbn (default)',
  'h264 (High) (avc1 / 0x31637661), yuvj420p(pc, bt470bg/bt470bg/smpte170m, progressive), 1080x1920, 23.98 fps, 90k tbn',
];

/** `-f framecrc` output: the time base line, then one line per packet. */
export const FRAMECRC_SAMPLE = [
  '#software: Lavf60.16.100',
  '#tb 0: 1/15360',
  '#media_type 0: video',
  '#stream#, dts,        pts, duration,     size, hash',
  '0,          0,          0,      512,    14519, 0x5bd6d3c2',
  '0,        512,       1024,      512,      910, 0x2b0d6e0b, F=0x0',
  '0,       1024,        512,      512,      310, 0x7e0a8a43',
  '0,       1536,       1536,      512,      512, 0xcafe0000',
].join('\n');

/** showinfo lines of a decoding pass. */
export const SHOWINFO_SAMPLES: readonly string[] = [
  '[Parsed_showinfo_0 @ 0x55d5c8] n:   3 pts:   1536 pts_time:0.1     duration:    512 fmt:yuv420p',
  '[Parsed_showinfo_0 @ 0x55d5c8] config in time_base: 1/15360, frame_rate: 30/1',
  '[Parsed_showinfo_0 @ 0x55d5c8] n:   0 pts:  -1024 pts_time:-0.0667',
];

/** A map.json with two people, as `liveswap faces scan` writes it. */
export function faceMapSample(): { text: string; json: unknown } {
  const embedding = (k: number): number[] => Array.from({ length: DESCRIPTOR_SIZE }, (_, i) => Math.round(Math.sin(i + k) * 1e5) / 1e5 / 16);
  const map: FaceMap = {
    version: 1,
    video: 'clip.mp4',
    recogniser: 'faceres',
    threshold: 0.6,
    identities: [
      { id: 0, thumbnail: 'face-0.jpg', frames: 12, firstSeconds: 0, source: 'ada.jpg', embedding: embedding(1) },
      { id: 1, thumbnail: 'face-1.jpg', frames: 3, firstSeconds: 1.5, source: ['a.jpg', 'b.png'], embedding: embedding(2) },
      { id: 2, thumbnail: 'face-2.jpg', frames: 1, firstSeconds: 4, source: null, embedding: embedding(3) },
    ],
  };
  const text = formatFaceMap(map);
  return { text, json: JSON.parse(text) };
}

let onnx: Uint8Array[] | undefined;

/** InSwapper stand-ins (fp32 and fp16, emap last) and an ArcFace one (no emap). */
export function onnxSeeds(): Uint8Array[] {
  onnx ??= [inswapperStandin({ precision: 'fp16' }), inswapperStandin(), arcfaceStandin()];
  return onnx;
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** A TFJS graph model: input → Conv2D (3×3, SAME) → AddV2 (bias) → Relu, with a float16-quantised filter and a uint8 bias. */
export function tfjsSample(): { model: TfjsGraphModelJson; weights: Uint8Array } {
  const filter = new Uint8Array(3 * 3 * 3 * 2 * 2).map((_, i) => (i % 2 === 1 ? 0x3c : 0)); // float16 1.0 everywhere
  const bias = Uint8Array.of(3, 7);
  const model: TfjsGraphModelJson = {
    format: 'graph-model',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '1' }, { size: '4' }, { size: '4' }, { size: '3' }] } } } },
        { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' } } },
        { name: 'b', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' } } },
        {
          name: 'conv',
          op: 'Conv2D',
          input: ['x', 'w'],
          attr: {
            strides: { list: { i: ['1', '1', '1', '1'] } },
            dilations: { list: { i: ['1', '1', '1', '1'] } },
            padding: { s: b64('SAME') },
            data_format: { s: b64('NHWC') },
          },
        },
        { name: 'biased', op: 'AddV2', input: ['conv', 'b'] },
        { name: 'out', op: 'Relu', input: ['biased'] },
      ],
    },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'w', shape: [3, 3, 3, 2], dtype: 'float32', quantization: { dtype: 'float16' } },
          { name: 'b', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
        ],
      },
    ],
  };
  const weights = new Uint8Array(filter.length + bias.length);
  weights.set(filter);
  weights.set(bias, filter.length);
  return { model, weights };
}

const sha = 'ab'.repeat(32);

/** Bodies of the two provenance requests, as the page sends them. */
export const SESSION_BODY = { engine: 'mesh', label: { shown: true, text: 'AI-generated' }, sources: [{ name: 'me.jpg', sha256: sha }] };
export const OUTPUT_BODY = {
  kind: 'live-recording',
  assetId: 12345,
  sha256: sha,
  bytes: 1024,
  mimeType: 'video/webm',
  label: { shown: false },
  sources: [{ name: 'me.jpg', sha256: sha }],
  engine: 'inswapper',
};

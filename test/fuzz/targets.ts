/**
 * Every parser that reads bytes or text liveswap did not write itself, as a fuzz target: what it
 * is fed (arbitrary input, and mutations of real samples) and what it must do with it (a valid
 * value, or the error its contract names; never a TypeError, RangeError or a hang).
 * `test/fuzz/fuzz.test.ts` runs each briefly on a fixed seed; `npm run fuzz` runs them for long.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { MODEL_SPECS } from '../../src/models/model-spec.js';
import { bindSession } from '../../src/models/model-io.js';
import { EMAP_SIZE, readEmap } from '../../src/models/emap.js';
import { decodeOnnxModel } from '../../src/models/onnx-proto.js';
import { convertTfjsGraph, TfjsConversionError } from '../../src/models/tfjs-to-onnx.js';
import type { TfjsGraphModelJson } from '../../src/models/tfjs-graph.js';
import { parseInputInfo, parseVideoStream } from '../../src/node/media/ffmpeg-probe.js';
import { FramecrcParser, showinfoPts } from '../../src/node/media/ffmpeg-timing.js';
import { decodeImage, readImage } from '../../src/node/media/image-io.js';
import { readFaceMap } from '../../src/node/jobs/faces-scan.js';
import { readWatermarkKey } from '../../src/node/provenance/output-provenance.js';
import { parseFaceMap } from '../../src/pipeline/face-map.js';
import { decodePayload, encodePayload, parseWatermarkId } from '../../src/provenance/payload.js';
import { WATERMARK_KEY_BYTES } from '../../src/provenance/watermark.js';
import { FRAMECRC_SAMPLE, PROBE_SAMPLES, SHOWINFO_SAMPLES, VIDEO_STREAM_SAMPLES, faceMapSample, imageSeeds, onnxSeeds, tfjsSample } from './corpus.js';
import { checkFaceMap, checkProbe, checkVideoStream, sameTypeJson } from './checks.js';
import { body, origin, range } from './targets-server.js';
import { expectOutcome, hostileBytes, hostileText, liveswapKinds, mutatedJson, neverThrows, type FuzzTarget } from './harness.js';

/** Pixel limits the image targets use: tiny (most headers refused), the fixtures' size, generous. */
const PIXEL_LIMITS = [1, 24 * 24, 400 * 400, 4_000_000];
const imageErrors = liveswapKinds('input-unreadable', 'input-unsupported', 'input-too-large');

let scratch: string | undefined;
/** A file holding `bytes`, in a folder of this process's own (files are reused by name to stay few). */
function scratchFile(name: string, bytes: Uint8Array | string): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'liveswap-fuzz-'));
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return path;
}

const checkImage =
  (maxPixels: number) =>
  (image: { width: number; height: number; channels: number; data: Uint8ClampedArray }): string | undefined => {
    if (!(image.width >= 1 && image.height >= 1)) return `size ${image.width}×${image.height}`;
    if (image.width * image.height > maxPixels) return `${image.width}×${image.height} is over the limit ${maxPixels}`;
    if (image.channels !== 3 || image.data.length !== image.width * image.height * 3)
      return `data of ${image.data.length} bytes for ${image.width}×${image.height}×${image.channels}`;
    return undefined;
  };

const imageInput = async () => fc.record({ bytes: hostileBytes(await imageSeeds()), maxPixels: fc.constantFrom(...PIXEL_LIMITS) });

const image: FuzzTarget<{ bytes: Uint8Array; maxPixels: number }> = {
  name: 'image-decode',
  about: 'decodeImage: JPEG/PNG/WebP bytes, header checks and the pixel limit (sharp)',
  arbitrary: imageInput,
  run: ({ bytes, maxPixels }) => expectOutcome(() => decodeImage(Buffer.from(bytes), 'fuzz', { maxPixels }), checkImage(maxPixels), imageErrors),
};

const imageFile: FuzzTarget<{ bytes: Uint8Array; maxPixels: number }> = {
  name: 'image-read',
  about: 'readImage: the same bytes read from a file (bounded reads of the header and body)',
  arbitrary: imageInput,
  run: ({ bytes, maxPixels }) => expectOutcome(() => readImage(scratchFile('image', bytes), { maxPixels }), checkImage(maxPixels), imageErrors),
};

const probe: FuzzTarget<string> = {
  name: 'ffmpeg-probe',
  about: 'parseInputInfo: the stream description `ffmpeg -i` prints to stderr',
  arbitrary: async () => hostileText(PROBE_SAMPLES),
  run: (text) => expectOutcome(() => parseInputInfo(text), checkProbe, neverThrows),
};

const videoStream: FuzzTarget<string> = {
  name: 'ffmpeg-video-stream',
  about: 'parseVideoStream: codec, pixel format, size and rate from a "Video:" stream line',
  arbitrary: async () => hostileText(VIDEO_STREAM_SAMPLES, 512),
  run: (text) => expectOutcome(() => parseVideoStream(text), checkVideoStream, neverThrows),
};

const framecrc: FuzzTarget<string> = {
  name: 'ffmpeg-framecrc',
  about: 'FramecrcParser: packet times from `-f framecrc` lines',
  arbitrary: async () => hostileText([FRAMECRC_SAMPLE]),
  run: (text) =>
    expectOutcome(
      () => {
        const parser = new FramecrcParser();
        for (const line of text.split('\n')) parser.line(line);
        return parser;
      },
      (p) => {
        if (p.timeBase && !p.timeBase.every((n) => Number.isSafeInteger(n) && n > 0)) return `time base ${p.timeBase.join('/')}`;
        const bad = p.pts.find((t) => !Number.isFinite(t));
        return bad === undefined ? undefined : `a frame time of ${bad}`;
      },
      neverThrows,
    ),
};

const showinfo: FuzzTarget<string> = {
  name: 'ffmpeg-showinfo',
  about: 'showinfoPts: frame times from showinfo lines of a decoding pass',
  arbitrary: async () => hostileText(SHOWINFO_SAMPLES, 512),
  run: (line) =>
    expectOutcome(
      () => showinfoPts(line),
      (t) => (t === undefined || Number.isSafeInteger(t) ? undefined : `pts ${t}`),
      neverThrows,
    ),
};

const faceMapErrors = liveswapKinds('input-unreadable', 'usage');
const faceMapText = async (): Promise<fc.Arbitrary<string>> => {
  const sample = faceMapSample();
  // Deep nesting breaks recursive code (JSON.stringify of a field quoted in a message).
  const deep = fc.integer({ min: 1, max: 20_000 }).map((n) => `{"version":1,"recogniser":${'['.repeat(n)}${']'.repeat(n)}}`);
  return fc.oneof(
    hostileText([sample.text], 8192),
    mutatedJson([sample.json]).map((v) => JSON.stringify(v)),
    deep,
  );
};

const faceMap: FuzzTarget<string> = {
  name: 'face-map',
  about: 'parseFaceMap: map.json text, its JSON and every field',
  arbitrary: faceMapText,
  run: (text) => expectOutcome(() => parseFaceMap(text, 'map.json'), checkFaceMap, faceMapErrors),
};

const faceMapFile: FuzzTarget<string> = {
  name: 'face-map-read',
  about: 'readFaceMap: map.json read from a file, sources resolved against its folder',
  arbitrary: faceMapText,
  run: (text) => expectOutcome(() => readFaceMap(scratchFile('map.json', text)), checkFaceMap, faceMapErrors),
};

const watermarkKey: FuzzTarget<Uint8Array> = {
  name: 'watermark-key',
  about: 'readWatermarkKey: a key file of hex digits or raw bytes',
  arbitrary: async () => {
    const hex = new TextEncoder().encode(`${'0123456789abcdef'.repeat(WATERMARK_KEY_BYTES / 8)}\n`);
    return hostileBytes([hex, new Uint8Array(WATERMARK_KEY_BYTES).fill(7)], 256);
  },
  run: (bytes) =>
    expectOutcome(
      () => readWatermarkKey(scratchFile('watermark.key', bytes)),
      (loaded) => (loaded.key.length === WATERMARK_KEY_BYTES ? undefined : `a key of ${loaded.key.length} bytes`),
      liveswapKinds('usage', 'input-unreadable', 'input-unsupported', 'input-too-large'),
    ),
};

const emap: FuzzTarget<Uint8Array> = {
  name: 'onnx-emap',
  about: "readEmap: an ONNX file's protobuf, its initializers and the 512×512 emap",
  arbitrary: async () => hostileBytes(onnxSeeds()),
  run: (bytes) =>
    expectOutcome(
      () => readEmap(bytes, 'fuzz.onnx'),
      (m) => (m instanceof Float32Array && m.length === EMAP_SIZE * EMAP_SIZE ? undefined : `an emap of ${m.length} values`),
      liveswapKinds('model'),
    ),
};

const SPECS = Object.values(MODEL_SPECS);
const tensorName = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...SPECS.flatMap((s) => [...s.inputs, ...s.outputs].flatMap((t) => (t.name ? [t.name] : [])))));

const bind: FuzzTarget<{ spec: number; inputNames: string[]; outputNames: string[] }> = {
  name: 'model-io',
  about: "bindSession: a loaded model's tensor names against its row of the model table",
  arbitrary: async () =>
    fc.record({ spec: fc.nat({ max: SPECS.length - 1 }), inputNames: fc.array(tensorName, { maxLength: 12 }), outputNames: fc.array(tensorName, { maxLength: 12 }) }),
  run: ({ spec, inputNames, outputNames }) => {
    const row = SPECS[spec]!;
    const session = { inputNames, outputNames, run: () => Promise.resolve({}), close: () => Promise.resolve() };
    return expectOutcome(
      () => bindSession(session, row),
      (io) =>
        io.inputs.length === row.inputs.length &&
        io.outputs.length === row.outputs.length &&
        io.inputs.every((n) => inputNames.includes(n)) &&
        io.outputs.every((n) => outputNames.includes(n))
          ? undefined
          : `bound ${JSON.stringify(io)}`,
      liveswapKinds('model'),
    );
  },
};

/** The converter's own errors: a deliberate message (Error or TfjsConversionError), which its caller wraps as a `model` error. */
const converterErrors = (error: unknown): boolean => error instanceof TfjsConversionError || (error instanceof Error && error.constructor === Error);

const tfjs: FuzzTarget<{ model: TfjsGraphModelJson; weights: Uint8Array }> = {
  name: 'tfjs-convert',
  about: 'convertTfjsGraph: a model.json (every value changed, types kept) and its weight bytes',
  arbitrary: async () => {
    const sample = tfjsSample();
    return fc.record({
      model: fc.oneof({ arbitrary: sameTypeJson(sample.model), weight: 4 }, { arbitrary: fc.constant(sample.model), weight: 1 }) as fc.Arbitrary<TfjsGraphModelJson>,
      weights: fc.oneof({ arbitrary: fc.constant(sample.weights), weight: 3 }, { arbitrary: hostileBytes([sample.weights], 256), weight: 1 }),
    });
  },
  run: ({ model, weights }) =>
    expectOutcome(
      () => convertTfjsGraph(model, weights),
      (bytes) => (decodeOnnxModel(bytes).graph ? undefined : 'an ONNX file with no graph'),
      converterErrors,
    ),
};

const payload: FuzzTarget<{ bits: number[]; id: string }> = {
  name: 'watermark-payload',
  about: 'decodePayload and parseWatermarkId: 64 recovered bits, and an id typed by a user',
  arbitrary: async () =>
    fc.record({
      bits: fc.oneof(
        fc.array(fc.oneof(fc.constantFrom(0, 1), fc.double()), { maxLength: 70 }),
        fc.record({ assetId: fc.nat(), flip: fc.nat({ max: 80 }) }).map(({ assetId, flip }) => {
          const bits = [...encodePayload({ assetId, version: 1 })];
          if (flip < bits.length) bits[flip] = 1 - bits[flip]!;
          return bits;
        }),
      ),
      id: fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^[0-9a-fA-F]{8}$/)),
    }),
  run: ({ bits, id }) =>
    expectOutcome(
      () => ({ payload: decodePayload(bits), id: parseWatermarkId(id) }),
      ({ payload: p, id: parsed }) => {
        if (p && !(Number.isInteger(p.assetId) && p.assetId >= 0 && p.assetId <= 0xffffffff && p.version === 1)) return `payload ${JSON.stringify(p)}`;
        if (parsed !== undefined && !(Number.isInteger(parsed) && parsed >= 0 && parsed <= 0xffffffff)) return `id ${parsed}`;
        return undefined;
      },
      neverThrows,
    ),
};

/** Every target, by name. */
export const TARGETS: readonly FuzzTarget[] = [
  image,
  imageFile,
  probe,
  videoStream,
  framecrc,
  showinfo,
  faceMap,
  faceMapFile,
  watermarkKey,
  emap,
  bind,
  tfjs,
  payload,
  body,
  range,
  origin,
] as FuzzTarget[];

export function targetNamed(name: string): FuzzTarget {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`No fuzz target "${name}"; the targets are ${TARGETS.map((t) => t.name).join(', ')}`);
  return target;
}

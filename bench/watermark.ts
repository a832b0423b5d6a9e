/**
 * Invisible watermark figures: embed/measure cost per frame (and label + watermark as every video
 * frame gets them) at 640×360, 1280×720, 1920×1080 and an odd size, with the WebAssembly SIMD
 * kernels and with their TypeScript twins (the same bytes) side by side; PSNR-Y, bit accuracy after
 * ffmpeg attacks (per frame, 1-s and 2-s windows), stills after JPEG q75 + 0.5× resize, and false
 * positives on unmarked clips with random keys. Synthetic 1080p clips, made in memory.
 * Run: node --import tsx bench/watermark.ts [--json] [--clips N] [--seconds S] [--cost-only | --skip-cost] [--skip-stills] [--skip-fp]   (several minutes)
 */

import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import sharp, { type Sharp } from 'sharp';
import { cloneImage, toRgba } from '../src/core/image.js';
import { drawLabel } from '../src/provenance/label.js';
import { FrameMarker } from '../src/provenance/marks.js';
import { encodePayload, randomAssetId, type WatermarkPayload } from '../src/provenance/payload.js';
import {
  DEFAULT_STILL_STRENGTH,
  DEFAULT_VIDEO_STRENGTH,
  WatermarkEmbedder,
  correlateCoefficients,
  decideWatermark,
  decodeWindow,
  flipsFor,
  frameCoefficients,
  measureFrame,
  psnrLuma,
} from '../src/provenance/watermark.js';
import { watermarkKernels } from '../src/provenance/upsample-simd.js';
import { decodeRgb, loadFixture } from '../test/helpers/fixtures.js';
import { ATTACKS, PHOTOS, roundTrip, syntheticClip, type Attack } from '../test/helpers/watermark-clips.js';
import { timeRuns, type Timing } from './timing.js';
import { option } from './flags.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const numeric = (name: string, fallback: number): number => Number(option(name, String(fallback)));
const CLIPS = numeric('--clips', 10);
const SECONDS = numeric('--seconds', 3);
const FPS = 30;
const FRAMES = Math.round(SECONDS * FPS);
const FP_KEYS_PER_CLIP = numeric('--fp-keys', 200);
const log = (line: string): void => {
  if (!json) console.log(line);
  else process.stderr.write(`${line}\n`);
};
const newKey = (): Uint8Array => new Uint8Array(randomBytes(32));
const newPayload = (): WatermarkPayload => ({ assetId: randomAssetId((b) => b.set(randomBytes(b.length))), version: 1 });

// ---- cost per frame -------------------------------------------------------------------------------

async function costs(): Promise<Record<string, Timing>> {
  const out: Record<string, Timing> = {};
  const key = newKey();
  for (const [width, height, channels] of [
    [640, 360, 4],
    [640, 360, 3],
    [1280, 720, 4],
    [1280, 720, 3],
    [1920, 1080, 4],
    [1920, 1080, 3],
    [1001, 563, 4],
    [853, 479, 3],
  ] as const) {
    const clip = await syntheticClip({ width, height, seed: 99 });
    const original = channels === 4 ? toRgba(clip.frame(0)) : clip.frame(0);
    const frame = cloneImage(original);
    const layout = `${width}x${height} ${channels === 4 ? 'RGBA' : 'RGB'}`;
    // Reset to the unmarked frame before each run, so every run does the full ISS work.
    const reset = (): void => frame.data.set(original.data);
    // What every video frame gets (FrameMarker): the label, then the watermark; SIMD and the TypeScript twins alternating.
    const payload = newPayload();
    const simd = new FrameMarker({ label: {}, watermark: { key, payload }, media: 'video' });
    const typescript = new FrameMarker({ label: {}, watermark: { key, payload }, media: 'video', simd: false });
    const embedder = new WatermarkEmbedder(key, payload);
    for (let round = 0; round < 2; round++) {
      const tag = round === 0 ? '' : ' (again)';
      out[`mark, video ${layout}${tag}`] = timeRuns(() => simd.mark(frame), { reset });
      out[`  TypeScript only ${layout}${tag}`] = timeRuns(() => typescript.mark(frame), { reset, iterations: 10 });
    }
    out[`  embed alone ${layout}`] = timeRuns(() => embedder.embed(frame), { reset });
    out[`  label alone ${layout}`] = timeRuns(() => void drawLabel(frame), { reset });
    if (width === 1920 && channels === 3) out['measure 1920x1080 RGB'] = timeRuns(() => measureFrame(key, frame));
  }
  return out;
}

// ---- attacks on clips -------------------------------------------------------------------------------

interface AttackFigures {
  bitAccuracy1Frame: number;
  bitAccuracy1s: number;
  bitAccuracy2s: number;
  worst1sWindow: number;
  /** Every window's hard bits are the payload as they are. */
  every1sWindowDecodes: boolean;
  every2sWindowDecodes: boolean;
  /** Every window decodes with the soft decoding the detector uses on a clip this long. */
  every1sWindowDecodesSoft: boolean;
  every2sWindowDecodesSoft: boolean;
  detected: boolean;
}

function windowSum(perFrame: readonly Float32Array[], first: number, count: number): Float32Array {
  const sum = new Float32Array(64);
  for (let f = first; f < first + count; f++) for (let b = 0; b < 64; b++) sum[b] += perFrame[f][b];
  return sum;
}

function matches(sum: Float32Array, bits: Uint8Array): number {
  let ok = 0;
  for (let b = 0; b < 64; b++) if ((sum[b] > 0 ? 1 : 0) === bits[b]) ok++;
  return ok / 64;
}

/** How many windows the detector tries on a clip of `frames` frames (all of them, as on an unmarked clip). */
function clipWindows(frames: number): number {
  return decideWatermark(
    Array.from({ length: frames }, () => new Float32Array(64)),
    { fps: FPS },
  ).decisions;
}

function windows(n: number, size: number): number[] {
  const starts: number[] = [];
  for (let s = 0; s + size <= n; s += Math.max(1, size >> 1)) starts.push(s);
  if (starts.length === 0 || starts[starts.length - 1] + size < n) starts.push(Math.max(0, n - size));
  return starts;
}

function figures(perFrame: readonly Float32Array[], payload: WatermarkPayload): AttackFigures {
  const bits = encodePayload(payload);
  const n = perFrame.length;
  const detection = decideWatermark(perFrame, { fps: FPS });
  const over = (size: number): { mean: number; worst: number; allDecode: boolean; allDecodeSoft: boolean } => {
    const starts = windows(n, Math.min(size, n));
    let sum = 0;
    let worst = 1;
    let allDecode = true;
    let allDecodeSoft = true;
    for (const s of starts) {
      const window = windowSum(perFrame, s, Math.min(size, n));
      const accuracy = matches(window, bits);
      sum += accuracy;
      worst = Math.min(worst, accuracy);
      if (decodeWindow(window, 0)?.payload.assetId !== payload.assetId) allDecode = false;
      if (decodeWindow(window, detection.flipsAllowed)?.payload.assetId !== payload.assetId) allDecodeSoft = false;
    }
    return { mean: sum / starts.length, worst, allDecode, allDecodeSoft };
  };
  const one = over(1);
  const second = over(FPS);
  const two = over(2 * FPS);
  return {
    bitAccuracy1Frame: one.mean,
    bitAccuracy1s: second.mean,
    bitAccuracy2s: two.mean,
    worst1sWindow: second.worst,
    every1sWindowDecodes: second.allDecode,
    every2sWindowDecodes: two.allDecode,
    every1sWindowDecodesSoft: second.allDecodeSoft,
    every2sWindowDecodesSoft: two.allDecodeSoft,
    detected: detection.found && detection.payload?.assetId === payload.assetId,
  };
}

interface ClipResult {
  seed: number;
  psnrClip: number;
  psnrWorstFrame: number;
  attacks: Record<string, AttackFigures>;
}

async function markedClip(seed: number): Promise<ClipResult> {
  const clip = await syntheticClip({ width: 1920, height: 1080, seed });
  const key = newKey();
  const payload = newPayload();
  const embedder = new WatermarkEmbedder(key, payload);
  let squaredSum = 0;
  let worst = Infinity;
  const result: ClipResult = { seed, psnrClip: 0, psnrWorstFrame: 0, attacks: {} };
  for (const [name, attack] of Object.entries(ATTACKS) as Array<[string, Attack]>) {
    const first = Object.keys(result.attacks).length === 0;
    const perFrame: Float32Array[] = [];
    await roundTrip({
      width: 1920,
      height: 1080,
      fps: FPS,
      frames: FRAMES,
      attack,
      source: (i) => {
        const frame = clip.frame(i);
        const original = first ? cloneImage(frame) : undefined;
        embedder.embed(frame);
        if (original) {
          const psnr = psnrLuma(original, frame);
          worst = Math.min(worst, psnr);
          squaredSum += 10 ** (-psnr / 10); // mean MSE over the clip
        }
        return frame;
      },
      onDecoded: (image) => perFrame.push(measureFrame(key, image)),
    });
    result.attacks[name] = figures(perFrame, payload);
  }
  result.psnrClip = -10 * Math.log10(squaredSum / FRAMES);
  result.psnrWorstFrame = worst;
  return result;
}

// ---- false positives ----------------------------------------------------------------------------------

async function falsePositives(clips: number): Promise<{ pairs: number; decisions: number; candidates: number; detections: number; maxMatchingBits: number }> {
  let pairs = 0;
  let decisions = 0;
  let candidates = 0;
  let detections = 0;
  let maxMatching = 0;
  for (let c = 0; c < clips; c++) {
    const clip = await syntheticClip({ width: 640, height: 360, seed: 1000 + c });
    const coefficients: Float32Array[] = [];
    await roundTrip({
      width: 640,
      height: 360,
      fps: FPS,
      frames: FRAMES,
      attack: ATTACKS.brightness,
      source: (i) => clip.frame(i),
      onDecoded: (image) => coefficients.push(frameCoefficients(image)),
    });
    for (let k = 0; k < FP_KEYS_PER_CLIP; k++) {
      const key = newKey();
      const perFrame = coefficients.map((co) => correlateCoefficients(key, co));
      const detection = decideWatermark(perFrame, { fps: FPS });
      pairs++;
      decisions += detection.decisions;
      candidates += detection.decisions * 2 ** detection.flipsAllowed;
      if (detection.found) detections++;
      // How close chance comes: matching bits against a random payload for this key.
      const bits = encodePayload(newPayload());
      maxMatching = Math.max(maxMatching, Math.round(matches(windowSum(perFrame, 0, perFrame.length), bits) * 64));
    }
  }
  return { pairs, decisions, candidates, detections, maxMatchingBits: maxMatching };
}

// ---- stills -------------------------------------------------------------------------------------------

async function stills(keys: number): Promise<{ strength: number; trials: number; recovered: number; minSignedSoft: number; psnrWorst: number; psnrMean: number }> {
  let trials = 0;
  let recovered = 0;
  let minSigned = Infinity;
  let worst = Infinity;
  let psnrSum = 0;
  let photos = 0;
  for (let k = 0; k < keys; k++) {
    const key = newKey();
    const payload = newPayload();
    const bits = encodePayload(payload);
    for (const name of PHOTOS) {
      const photo = await loadFixture(name);
      const marked = cloneImage(photo);
      new WatermarkEmbedder(key, payload, { media: 'still' }).embed(marked);
      const psnr = psnrLuma(photo, marked);
      worst = Math.min(worst, psnr);
      psnrSum += psnr;
      photos++;
      const raw = (): Sharp =>
        sharp(Buffer.from(marked.data.buffer, marked.data.byteOffset, marked.data.length), { raw: { width: marked.width, height: marked.height, channels: 3 } });
      const half = { width: Math.round(marked.width / 2), height: Math.round(marked.height / 2) };
      const attacked = [
        await sharp(await raw().jpeg({ quality: 75 }).toBuffer())
          .resize(half.width, half.height)
          .png()
          .toBuffer(),
        await raw().resize(half.width, half.height).jpeg({ quality: 75 }).toBuffer(),
      ];
      for (const file of attacked) {
        const soft = measureFrame(key, await decodeRgb(file));
        trials++;
        if (decideWatermark([soft]).payload?.assetId === payload.assetId) recovered++;
        for (let b = 0; b < 64; b++) minSigned = Math.min(minSigned, soft[b] * (bits[b] ? 1 : -1));
      }
    }
  }
  return { strength: DEFAULT_STILL_STRENGTH, trials, recovered, minSignedSoft: minSigned, psnrWorst: worst, psnrMean: psnrSum / photos };
}

// ---- main -----------------------------------------------------------------------------------------------

const started = performance.now();
const cost = args.includes('--skip-cost') ? {} : await costs();
const upsamplePath = watermarkKernels() ? 'WebAssembly SIMD' : 'TypeScript (no WebAssembly SIMD here)';
log(`cost per frame (ms, median / min; mark = label + watermark as a video frame gets it; kernels: ${upsamplePath}; load ${loadavg()[0].toFixed(2)} before):`);
for (const [name, t] of Object.entries(cost)) log(`  ${name.padEnd(40)} ${t.median.toFixed(2).padStart(7)} / ${t.min.toFixed(2)}`);
log(
  `load average after the costs: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}`,
);
if (args.includes('--cost-only')) process.exit(0);

const clipResults: ClipResult[] = [];
for (let c = 0; c < CLIPS; c++) {
  const result = await markedClip(c + 1);
  clipResults.push(result);
  const mark = (plain: boolean, soft: boolean): string => (plain ? '✓' : soft ? '✓(soft)' : '✗');
  const cells = Object.entries(result.attacks).map(
    ([name, a]) => `${name} ${(a.bitAccuracy1Frame * 100).toFixed(1)}/${(a.worst1sWindow * 100).toFixed(1)}${mark(a.every1sWindowDecodes, a.every1sWindowDecodesSoft)}`,
  );
  log(`clip ${c + 1}: PSNR-Y ${result.psnrClip.toFixed(2)} dB (worst frame ${result.psnrWorstFrame.toFixed(2)}); 1-frame/worst-1s: ${cells.join('  ')}`);
}

const attackSummary: Record<string, Record<string, number | boolean>> = {};
for (const name of Object.keys(ATTACKS)) {
  const rows = clipResults.map((r) => r.attacks[name]);
  const mean = (f: (a: AttackFigures) => number): number => rows.reduce((s, a) => s + f(a), 0) / rows.length;
  const min = (f: (a: AttackFigures) => number): number => Math.min(...rows.map(f));
  attackSummary[name] = {
    bitAccuracy1FrameMean: mean((a) => a.bitAccuracy1Frame),
    bitAccuracy1FrameWorstClip: min((a) => a.bitAccuracy1Frame),
    bitAccuracy1sMean: mean((a) => a.bitAccuracy1s),
    bitAccuracy1sWorstWindow: min((a) => a.worst1sWindow),
    bitAccuracy2sMean: mean((a) => a.bitAccuracy2s),
    every1sWindowDecodesAllClips: rows.every((a) => a.every1sWindowDecodes),
    clipsWhereEvery1sWindowDecodes: rows.filter((a) => a.every1sWindowDecodes).length,
    every2sWindowDecodesAllClips: rows.every((a) => a.every2sWindowDecodes),
    clipsWhereEvery2sWindowDecodes: rows.filter((a) => a.every2sWindowDecodes).length,
    clipsWhereEvery1sWindowDecodesSoft: rows.filter((a) => a.every1sWindowDecodesSoft).length,
    clipsWhereEvery2sWindowDecodesSoft: rows.filter((a) => a.every2sWindowDecodesSoft).length,
    detectedAllClips: rows.every((a) => a.detected),
  };
}
const psnr = {
  worstClip: Math.min(...clipResults.map((r) => r.psnrClip)),
  meanClip: clipResults.reduce((s, r) => s + r.psnrClip, 0) / Math.max(1, clipResults.length),
  worstFrame: Math.min(...clipResults.map((r) => r.psnrWorstFrame)),
};
log(`\nPSNR-Y: worst clip ${psnr.worstClip.toFixed(2)} dB, mean ${psnr.meanClip.toFixed(2)}, worst frame ${psnr.worstFrame.toFixed(2)}`);
log(
  `attack                        1 frame   1 s (worst window)   2 s    every 1-s window: hard bits / soft (${flipsFor(clipWindows(FRAMES))} flips)   every 2-s window: hard / soft`,
);
for (const [name, a] of Object.entries(attackSummary)) {
  const pct = (v: number | boolean): string => `${((v as number) * 100).toFixed(1)}%`;
  log(
    `  ${ATTACKS[name as keyof typeof ATTACKS].name.padEnd(38)} ${pct(a.bitAccuracy1FrameMean).padStart(6)}  ${pct(a.bitAccuracy1sMean)} (${pct(a.bitAccuracy1sWorstWindow)})  ${pct(a.bitAccuracy2sMean)}  ${a.clipsWhereEvery1sWindowDecodes}/${CLIPS} / ${a.clipsWhereEvery1sWindowDecodesSoft}/${CLIPS} clips  ${a.clipsWhereEvery2sWindowDecodes}/${CLIPS} / ${a.clipsWhereEvery2sWindowDecodesSoft}/${CLIPS} clips`,
  );
}

const still = args.includes('--skip-stills') ? undefined : await stills(8);
if (still)
  log(
    `\nstills (JPEG q75 + 0.5× resize, both orders, ${PHOTOS.length} fixture photos × 8 keys): strength ${still.strength}, recovered ${still.recovered}/${still.trials}, min signed soft ${still.minSignedSoft.toFixed(2)}, PSNR-Y worst ${still.psnrWorst.toFixed(2)} dB, mean ${still.psnrMean.toFixed(2)}`,
  );

const fp = args.includes('--skip-fp') ? undefined : await falsePositives(Math.max(5, CLIPS));
if (fp)
  log(
    `false positives: ${fp.detections} detections in ${fp.pairs} unmarked clip/key pairs (${fp.decisions} windows, ${fp.candidates} candidate payloads with soft decoding; most matching bits vs a random payload ${fp.maxMatchingBits}/64)`,
  );
log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);

if (json) {
  console.log(
    JSON.stringify(
      {
        videoStrength: DEFAULT_VIDEO_STRENGTH,
        upsamplePath,
        clips: CLIPS,
        seconds: SECONDS,
        fps: FPS,
        costMs: cost,
        psnr,
        attacks: attackSummary,
        perClip: clipResults,
        stills: still,
        falsePositives: fp,
      },
      null,
      2,
    ),
  );
}

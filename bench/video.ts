/**
 * Video swap benchmark (issue: video): `swapVideo` end to end on a 10 s 1280×720 30 fps clip with
 * one face through the built-in (mesh) engine. Reports frames per second, where the time goes
 * (decode wait, encode wait, detect, track, paint, mark, and "other": the plumbing between them) and the
 * share of decode + encode + plumbing. The marks run on their own thread beside the next frame's swap
 * (as in every video swap on a machine with more than one core; `--no-marks-thread` marks in turn on
 * the main thread instead, as before): their time is then listed but not part of the main thread's.
 * Then, with `--long`, 3000 frames (the clip looped) with
 * process RSS sampled from the progress callback, to check that memory stays flat.
 * Beside it, the floor: one ffmpeg decoding the same clip to RGB and encoding it again with the
 * swap's encoder settings (x264 veryfast, CRF 18, the audio copied), and the swap's fps over it.
 * The RSS run is opt-in: at today's speed it takes about four minutes on a 2-core machine.
 * Targets (issue: video): ≥ 45 fps on 2 cores, decode + encode + plumbing ≤ 25 % of the time, peak RSS within 5 %.
 * Run: npm run bench:video [-- --long] [-- --json] [-- --no-marks] [-- --no-marks-thread]   (--json prints one JSON object)
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ONE_EURO } from '../src/core/one-euro.js';
import { makeBenchFrame } from '../src/node/eval/bench-runner.js';
import { fileUrlArg, lastLines, runFfmpeg } from '../src/node/media/ffmpeg-binary.js';
import { CRF } from '../src/node/media/ffmpeg-formats.js';
import { writeImage } from '../src/node/media/image-io.js';
import { createNodeSwapper, type NodeSwapper } from '../src/node/jobs/swapper.js';
import { swapVideo, type VideoSwapSummary } from '../src/node/jobs/video-swap.js';
import { resolveSwapOptions } from '../src/pipeline/options.js';
import type { PreparedSource } from '../src/pipeline/still.js';
import { DEFAULT_VIDEO_FACE_OPTIONS } from '../src/pipeline/video.js';
import { loadFixture } from '../test/helpers/fixtures.js';
import { makeClip } from '../test/helpers/clips.js';
import { childrenCpuSeconds } from './proc-cpu.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const long = args.includes('--long');
/** Frames are marked (label and watermark) as every output is; `--no-marks` measures the swap alone, as before marks were a stage. */
const marks = !args.includes('--no-marks');
/** `--no-marks-thread`: the marks in turn on the main thread (the single-thread path), for a side-by-side figure. */
const marksThread = !args.includes('--no-marks-thread');

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const FRAMES = 300;
/** The RSS run: the clip played this many times in a row (3000 frames). */
const LOOPS = 10;
/** Frames of the RSS run counted as warm-up (model and buffer set-up, heap growth to its working size). */
const WARM_UP_SHARE = 0.1;
const TARGETS = { fps: 45, plumbingShare: 0.25, rssGrowth: 0.05 } as const;

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;
const mib = (bytes: number): number => round(bytes / 2 ** 20);

/** Per-stage milliseconds and shares of the total; "other" is what no stage accounts for (probe, pipes, the loop). */
function breakdown(summary: VideoSwapSummary, cpu: NodeJS.CpuUsage, loadBefore: number) {
  const t = summary.timings;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  // Marks on their own thread overlap the main thread's stages: they are listed, but not taken from its time.
  const mainMark = summary.marksThread ? 0 : t.mark;
  const other = Math.max(0, t.total - t.decodeWait - t.encodeWait - t.detect - t.track - t.embed - t.paint - mainMark);
  const stages = { decodeWait: t.decodeWait, encodeWait: t.encodeWait, detect: t.detect, track: t.track, embed: t.embed, paint: t.paint, mark: t.mark, other: round(other) };
  const plumbing = t.decodeWait + t.encodeWait + other;
  return {
    frames: summary.frames,
    /** The machine's 1-minute load average when the run started (the machine may be shared). */
    loadBefore: round(loadBefore, 2),
    marksThread: summary.marksThread,
    fps: round(summary.frames / (t.total / 1000), 2),
    totalMs: t.total,
    stagesMs: stages,
    stagesShare: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, round(v / t.total, 4)])) as Record<keyof typeof stages, number>,
    perFrameMs: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, round(v / summary.frames, 2)])) as Record<keyof typeof stages, number>,
    plumbingShare: round(plumbing / t.total, 4),
    /** CPU time of this process (all its threads, not ffmpeg's) over wall time: about 1 when the swap loop is the bottleneck. */
    nodeCpuPerWall: round(cpuMs / t.total, 3),
    detections: summary.detections,
    framesWithFaces: summary.framesWithFaces,
    framesSwapped: summary.framesSwapped,
    facesSwapped: summary.facesSwapped,
  };
}

interface RssSample {
  frame: number;
  rss: number;
}

/**
 * Peak RSS in the warm-up (first 10 % of frames) and after it, and the growth of the peak from the
 * first to the last third of the frames after warm-up: a leak shows as steady growth there.
 */
function rssReport(samples: readonly RssSample[], frames: number) {
  const warmUpEnd = Math.round(frames * WARM_UP_SHARE);
  const third = (frames - warmUpEnd) / 3;
  const peak = (from: number, to: number): number => Math.max(0, ...samples.filter((s) => s.frame >= from && s.frame < to).map((s) => s.rss));
  const firstThird = peak(warmUpEnd, warmUpEnd + third);
  const lastThird = peak(frames - third, frames + 1);
  return {
    samples: samples.length,
    warmUpFrames: warmUpEnd,
    peakWarmUpMb: mib(peak(0, warmUpEnd)),
    peakAfterWarmUpMb: mib(peak(warmUpEnd, frames + 1)),
    peakFirstThirdMb: mib(firstThird),
    peakLastThirdMb: mib(lastThird),
    growth: firstThird > 0 ? round((lastThird - firstThird) / firstThird, 4) : 0,
    maxRssMb: round(process.resourceUsage().maxRSS / 1024),
  };
}

/**
 * The floor: the clip decoded to RGB (as the swap reads it) and encoded again with the swap's
 * settings (x264 veryfast at its default CRF, yuv420p, the audio copied), in one ffmpeg.
 */
async function floor(clip: string, output: string) {
  const load = loadavg()[0]!;
  const cpu = childrenCpuSeconds();
  const started = performance.now();
  const args = ['-loglevel', 'error', '-y', '-i', fileUrlArg(clip), '-vf', 'format=rgb24', '-c:v', 'libx264', '-preset', 'veryfast'];
  const made = await runFfmpeg([...args, '-crf', String(CRF.libx264.default), '-pix_fmt', 'yuv420p', '-c:a', 'copy', fileUrlArg(output)]);
  if (made.code !== 0) throw new Error(`bench:video: ffmpeg could not re-encode the clip: ${lastLines(made.stderr, 6)}`);
  const wall = (performance.now() - started) / 1000;
  const after = childrenCpuSeconds();
  return {
    loadBefore: round(load, 2),
    fps: round(FRAMES / wall, 1),
    wallMs: round(wall * 1000),
    cpuPerWall: cpu !== undefined && after !== undefined ? round((after - cpu) / wall, 2) : null,
  };
}

async function run(swapper: NodeSwapper, source: PreparedSource, input: string, output: string, samples?: RssSample[]): Promise<ReturnType<typeof breakdown>> {
  const load = loadavg()[0]!;
  const cpu = process.cpuUsage();
  const summary = await swapVideo(swapper, {
    input,
    output,
    identities: [source],
    swap: resolveSwapOptions({ engine: 'mesh' }),
    faces: { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection: { kind: 'primary' } },
    ...(marks ? {} : { marks: false as const }),
    marksThread,
    ...(samples ? { progressEveryMs: 100, onProgress: ({ frame }) => samples.push({ frame, rss: process.memoryUsage().rss }) } : {}),
  });
  return breakdown(summary, process.cpuUsage(cpu), load);
}

const work = await mkdtemp(join(tmpdir(), 'liveswap-bench-video-'));
try {
  // The still bench's frame (a portrait at 85 % of the height, right of centre), slowly zoomed and
  // panned, so the face is whole, about 300 px tall and moving, as in a talking-head video.
  const photos = fileURLToPath(new URL('../test/fixtures/faces/', import.meta.url));
  const scene = join(work, 'scene.png');
  await writeImage(scene, await makeBenchFrame(photos, WIDTH, HEIGHT));
  let t = performance.now();
  const clip = await makeClip({ photo: scene, motion: 'zoom', width: WIDTH, height: HEIGHT, fps: FPS, frames: FRAMES, audioHz: 440, dir: work, name: 'clip' });
  const clipMs = performance.now() - t;

  const swapper = await createNodeSwapper({ engine: 'mesh' });
  const source = await swapper.prepareSource(await loadFixture('astronaut.png'), resolveSwapOptions({ engine: 'mesh' }));
  const main = await run(swapper, source, clip, join(work, 'out.mp4'));
  const floorRun = await floor(clip, join(work, 'floor.mp4'));

  let rss: (ReturnType<typeof rssReport> & { run: ReturnType<typeof breakdown>; loopMs: number }) | undefined;
  if (long) {
    // The 10 s clip played ten times in a row, streams copied: seconds to make, not minutes.
    t = performance.now();
    const looped = join(work, 'looped.mp4');
    const made = await runFfmpeg(['-loglevel', 'error', '-y', '-stream_loop', String(LOOPS - 1), '-i', fileUrlArg(clip), '-c', 'copy', fileUrlArg(looped)]);
    if (made.code !== 0) throw new Error(`bench:video: ffmpeg could not loop the clip: ${lastLines(made.stderr, 6)}`);
    const loopMs = performance.now() - t;
    const samples: RssSample[] = [{ frame: 0, rss: process.memoryUsage().rss }];
    const longRun = await run(swapper, source, looped, join(work, 'out-long.mp4'), samples);
    rss = { run: longRun, loopMs: round(loopMs), ...rssReport(samples, longRun.frames) };
  }
  await swapper.close();

  const result = {
    bench: 'video',
    engine: swapper.engine,
    clip: { width: WIDTH, height: HEIGHT, fps: FPS, frames: FRAMES, motion: 'zoom', audio: true, makeMs: round(clipMs) },
    run: main,
    floor: { ...floorRun, swapOverFloor: round(main.fps / floorRun.fps, 3) },
    rss: rss ?? null,
    targets: { fps: TARGETS.fps, plumbingShareMax: TARGETS.plumbingShare, rssGrowthMax: TARGETS.rssGrowth },
    met: {
      fps: main.fps >= TARGETS.fps,
      plumbingShare: main.plumbingShare <= TARGETS.plumbingShare,
      rss: rss ? Math.abs(rss.growth) <= TARGETS.rssGrowth : null,
    },
  };

  if (json) console.log(JSON.stringify(result));
  else {
    const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;
    const yes = (ok: boolean | null): string => (ok === null ? 'not run (--long)' : ok ? 'met' : 'MISSED');
    const print = (title: string, r: ReturnType<typeof breakdown>): void => {
      console.log(title);
      console.log(`  ${'stage'.padEnd(12)}${'ms'.padStart(10)}${'share'.padStart(10)}${'ms/frame'.padStart(10)}`);
      for (const [k, v] of Object.entries(r.stagesMs)) {
        const key = k as keyof typeof r.stagesMs;
        console.log(`  ${k.padEnd(12)}${v.toFixed(1).padStart(10)}${pct(r.stagesShare[key]).padStart(10)}${r.perFrameMs[key].toFixed(2).padStart(10)}`);
      }
      console.log(`  ${'total'.padEnd(12)}${r.totalMs.toFixed(1).padStart(10)}${pct(1).padStart(10)}${(r.totalMs / r.frames).toFixed(2).padStart(10)}`);
      console.log(`  ${r.frames} frames at ${r.fps.toFixed(1)} fps end to end; decode + encode + plumbing ${pct(r.plumbingShare)}; node CPU ${r.nodeCpuPerWall.toFixed(2)}× wall`);
      console.log(`  marks ${r.marksThread ? 'on their own thread (listed, not counted in the total)' : 'in turn on the main thread'}; load ${r.loadBefore} when it started`);
      console.log(`  detections ${r.detections}, frames with faces ${r.framesWithFaces}, frames swapped ${r.framesSwapped}`);
    };
    print(`video swap, ${WIDTH}×${HEIGHT} ${FPS} fps, ${FRAMES} frames, one face, ${result.engine} engine (clip made in ${(clipMs / 1000).toFixed(1)} s):`, main);
    const f = result.floor;
    console.log(
      `floor (one ffmpeg: decode to RGB, x264 veryfast CRF ${CRF.libx264.default}, audio copied): ${f.fps.toFixed(1)} fps, ${f.cpuPerWall ?? '?'}× CPU/wall, ` +
        `load ${f.loadBefore}; the swap runs at ${(f.swapOverFloor * 100).toFixed(1)} % of it`,
    );
    if (rss) {
      print(`\nRSS run, ${rss.run.frames} frames (the clip looped ${LOOPS}×):`, rss.run);
      console.log(`  peak RSS: warm-up (first ${rss.warmUpFrames} frames) ${rss.peakWarmUpMb} MiB, after ${rss.peakAfterWarmUpMb} MiB`);
      console.log(`  peak RSS after warm-up: first third ${rss.peakFirstThirdMb} MiB, last third ${rss.peakLastThirdMb} MiB, growth ${pct(rss.growth)} (${rss.samples} samples)`);
    }
    console.log(
      `\ntargets: ≥ ${TARGETS.fps} fps ${yes(result.met.fps)}; plumbing ≤ ${pct(TARGETS.plumbingShare)} ${yes(result.met.plumbingShare)}; RSS growth ≤ ${pct(TARGETS.rssGrowth)} ${yes(result.met.rss)}`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

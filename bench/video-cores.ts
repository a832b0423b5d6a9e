/**
 * How many cores a video swap uses: `swapVideo` on a given clip (or the synthetic 720p clip of
 * bench:video) through the mesh engine, marks on, timed end to end, with the CPU time of this
 * process (all its threads) and of its ffmpeg children over the wall time. A swap whose stages run
 * one after another shows about 1.0× however many cores there are; one whose decode, swap and
 * encode overlap shows more. Best of `--runs` (the machine may be shared: the load is printed).
 * The main thread's own CPU time per frame is printed too: the swap's critical path, which hardly
 * moves with the load.
 *   --input FILE      the clip (default: a 10 s 1280×720 clip made from the bench frame)
 *   --height H        scale the clip to this height first (the width keeps the aspect ratio)
 *   --frames N        only the first N frames (default all)
 *   --read-ahead N    frames decoded ahead and queued for the encoder (0: the pipes on the main thread)
 *   --marks-thread on|off|both   the marks on their own thread (on, the default with 2+ cores), in
 *                     turn on the main thread (off), or both, alternating off and on run by run so
 *                     that the two are measured side by side under the same load (best of each)
 *   --runs N          runs (default 3; with both, runs of each); --json prints one JSON object
 * Run: npm run bench:video-cores -- --input clip.mp4 --height 720 --runs 3 --marks-thread both
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ONE_EURO } from '../src/core/one-euro.js';
import { makeBenchFrame } from '../src/node/eval/bench-runner.js';
import { fileUrlArg, lastLines, runFfmpeg } from '../src/node/media/ffmpeg-binary.js';
import { readFrames } from '../src/node/media/ffmpeg-read.js';
import { writeImage } from '../src/node/media/image-io.js';
import { createNodeSwapper } from '../src/node/jobs/swapper.js';
import { swapVideo, type VideoSwapRequest } from '../src/node/jobs/video-swap.js';
import { resolveSwapOptions } from '../src/pipeline/options.js';
import { DEFAULT_VIDEO_FACE_OPTIONS } from '../src/pipeline/video.js';
import { loadFixture } from '../test/helpers/fixtures.js';
import { makeClip } from '../test/helpers/clips.js';
import { childrenCpuSeconds, mainThreadCpuSeconds } from './proc-cpu.js';
import { option as flag } from './flags.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const input = flag('--input');
const height = flag('--height') !== undefined ? Number(flag('--height')) : undefined;
const maxFrames = flag('--frames') !== undefined ? Number(flag('--frames')) : undefined;
const readAhead = flag('--read-ahead') !== undefined ? Number(flag('--read-ahead')) : undefined;
const runs = Number(flag('--runs') ?? 3);
const marksThreadFlag = flag('--marks-thread') ?? 'default';
if (!['on', 'off', 'both', 'default'].includes(marksThreadFlag)) throw new Error(`bench:video-cores: --marks-thread is on, off or both, not ${marksThreadFlag}`);
/** The marks-thread setting of each run, in order. */
const plan: (boolean | undefined)[] = [];
for (let run = 0; run < runs; run++) {
  if (marksThreadFlag === 'both') plan.push(false, true);
  else plan.push(marksThreadFlag === 'default' ? undefined : marksThreadFlag === 'on');
}

const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits;

async function prepare(work: string): Promise<string> {
  let clip = input;
  if (clip === undefined) {
    const scene = join(work, 'scene.png');
    await writeImage(scene, await makeBenchFrame(fileURLToPath(new URL('../test/fixtures/faces/', import.meta.url)), 1280, 720));
    clip = await makeClip({ photo: scene, motion: 'zoom', width: 1280, height: 720, fps: 30, frames: 300, audioHz: 440, dir: work, name: 'clip' });
  }
  if (height === undefined && maxFrames === undefined) return clip;
  const scaled = join(work, 'input.mp4');
  const filters = height !== undefined ? ['-vf', `scale=-2:${height}:flags=lanczos`] : [];
  const frames = maxFrames !== undefined ? ['-frames:v', String(maxFrames)] : [];
  const made = await runFfmpeg([
    '-loglevel',
    'error',
    '-y',
    '-i',
    fileUrlArg(clip),
    ...filters,
    ...frames,
    '-c:v',
    'libx264',
    '-crf',
    '16',
    '-preset',
    'fast',
    '-c:a',
    'copy',
    fileUrlArg(scaled),
  ]);
  if (made.code !== 0) throw new Error(`bench:video-cores: ffmpeg could not prepare the clip: ${lastLines(made.stderr, 6)}`);
  return scaled;
}

/** One run's figures. */
interface RunResult {
  run: number;
  marksThread: boolean;
  loadBefore: number;
  frames: number;
  wallSeconds: number;
  fps: number;
  nodeCpuPerWall: number;
  ffmpegCpuPerWall: number | null;
  totalCpuPerWall: number | null;
  decodeWaitMs: number;
  encodeWaitMs: number;
  framesSwapped: number;
  markMsPerFrame: number;
  /** CPU ms per frame of the main thread alone, and of the whole process (every thread). */
  mainThreadCpuMsPerFrame: number | null;
  nodeCpuMsPerFrame: number;
}

const work = await mkdtemp(join(tmpdir(), 'liveswap-bench-cores-'));
try {
  const clip = await prepare(work);
  const swapper = await createNodeSwapper({ engine: 'mesh' });
  const options = resolveSwapOptions({ engine: 'mesh' });
  const source = await swapper.prepareSource(await loadFixture('astronaut.png'), options);
  // One frame read first: what starts once per process (the pipe thread, which from the TypeScript
  // sources loads tsx in it, seconds) is not counted against the first run.
  for await (const _ of readFrames(clip, { maxFrames: 1 })) break;
  const results: RunResult[] = [];
  for (const [run, marksThread] of plan.entries()) {
    const load = loadavg()[0]!;
    const cpu = process.cpuUsage();
    const children = childrenCpuSeconds();
    const mainBefore = mainThreadCpuSeconds();
    const started = performance.now();
    const request: VideoSwapRequest & { readAhead?: number } = {
      input: clip,
      output: join(work, `out-${run}.mp4`),
      identities: [source],
      swap: options,
      faces: { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection: { kind: 'primary' } },
      ...(readAhead !== undefined ? { readAhead } : {}),
      ...(marksThread !== undefined ? { marksThread } : {}),
    };
    const summary = await swapVideo(swapper, request);
    const wall = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const node = (used.user + used.system) / 1e6;
    const after = childrenCpuSeconds();
    const mainAfter = mainThreadCpuSeconds();
    const ffmpeg = children !== undefined && after !== undefined ? after - children : undefined;
    results.push({
      run,
      marksThread: summary.marksThread,
      loadBefore: round(load),
      frames: summary.frames,
      wallSeconds: round(wall, 3),
      fps: round(summary.frames / wall),
      nodeCpuPerWall: round(node / wall),
      ffmpegCpuPerWall: ffmpeg !== undefined ? round(ffmpeg / wall) : null,
      totalCpuPerWall: ffmpeg !== undefined ? round((node + ffmpeg) / wall) : null,
      decodeWaitMs: summary.timings.decodeWait,
      encodeWaitMs: summary.timings.encodeWait,
      framesSwapped: summary.framesSwapped,
      markMsPerFrame: round(summary.timings.mark / summary.frames),
      mainThreadCpuMsPerFrame: mainBefore !== undefined && mainAfter !== undefined ? round(((mainAfter - mainBefore) * 1000) / summary.frames) : null,
      nodeCpuMsPerFrame: round((node * 1000) / summary.frames),
    });
  }
  await swapper.close();
  const bestOf = (list: RunResult[]): RunResult | undefined => (list.length ? list.reduce((a, b) => (b.fps > a.fps ? b : a)) : undefined);
  const best = bestOf(results)!;
  const bestOff = bestOf(results.filter((r) => !r.marksThread));
  const bestOn = bestOf(results.filter((r) => r.marksThread));
  const info = {
    bench: 'video-cores',
    input: input ?? 'synthetic 1280x720',
    height: height ?? null,
    readAhead: readAhead ?? 'default',
    marksThread: marksThreadFlag,
    runs: results,
    best,
    ...(bestOff && bestOn ? { side: { off: bestOff, on: bestOn, speedup: round(bestOn.fps / bestOff.fps, 3) } } : {}),
  };
  if (json) console.log(JSON.stringify(info));
  else {
    console.log(`video swap, mesh engine, ${info.input}${height ? ` scaled to ${height}p` : ''}, read-ahead ${info.readAhead}:`);
    for (const r of results) {
      console.log(
        `  run ${r.run} (marks ${r.marksThread ? 'on their thread' : 'in turn'}): ${r.frames} frames in ${r.wallSeconds.toFixed(2)} s = ${r.fps.toFixed(1)} fps; ` +
          `CPU/wall node ${r.nodeCpuPerWall.toFixed(2)}×, ffmpeg ${r.ffmpegCpuPerWall ?? '?'}×, total ${r.totalCpuPerWall ?? '?'}×; ` +
          `waits decode ${r.decodeWaitMs} ms, encode ${r.encodeWaitMs} ms; marks ${r.markMsPerFrame} ms/frame; ` +
          `CPU ms/frame main thread ${r.mainThreadCpuMsPerFrame ?? '?'}, process ${r.nodeCpuMsPerFrame}; load ${r.loadBefore}`,
      );
    }
    console.log(`  best: ${best.fps.toFixed(1)} fps, ${best.totalCpuPerWall ?? '?'}× CPU/wall (node ${best.nodeCpuPerWall}×)`);
    if (info.side) {
      const { off, on, speedup } = info.side;
      console.log(
        `  side by side, best of each: marks in turn ${off.fps.toFixed(1)} fps (${off.totalCpuPerWall ?? '?'}× CPU/wall, load ${off.loadBefore}), ` +
          `on their thread ${on.fps.toFixed(1)} fps (${on.totalCpuPerWall ?? '?'}× CPU/wall, load ${on.loadBefore}): ${speedup}×`,
      );
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

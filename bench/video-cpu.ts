/**
 * CPU per frame of a video swap, by component (issue: video). Frames per second move with the
 * machine's load; CPU time hardly does, and on a 2-core machine the sum of every component's CPU
 * per frame sets the best frame rate there is (2000 / ms per frame). Measured from Linux's /proc
 * (`schedstat`, nanoseconds on the CPU, for this process's threads; `stat`, 10 ms ticks, for each
 * ffmpeg, all its threads):
 *   - the main thread in all, and its stages: detect (BlazeFace + FaceMesh on a detection frame),
 *     track (FaceMesh following a face), paint (warp, colour and blend, split by their wall times),
 *     and the rest (reading the decoder's frames, copying frames to the encoder and the marks
 *     thread, the planner's own work, the loop);
 *   - every other thread of this process (the marks thread, the ffmpeg pipe thread, V8's helpers),
 *     sampled while they live;
 *   - the ffmpeg decoder and encoder, sampled from /proc while they run, and the other ffmpeg runs
 *     (probe, frame-time scan) as the rest of the children's time.
 * Beside each swap, the floors, same clip and settings: one ffmpeg decoding to RGB and encoding
 * again (bench:video's floor), and the swap's own decoder and encoder through its pipes with
 * nothing between them (what the swap cannot go under; its buffers are not given back, as the swap's are).
 *   --input FILE       the clip (default: bench:video's 10 s 1280×720 clip with one face)
 *   --decode accurate|bilinear|both   the decoder's YUV→RGB conversion (both: alternating, run by run)
 *   --runs N           swaps of each setting (default 2); --no-floor leaves the floors out; --json
 * Run: node --import tsx bench/video-cpu.ts --decode both --runs 2
 */

import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ONE_EURO } from '../src/core/one-euro.js';
import { makeBenchFrame } from '../src/node/eval/bench-runner.js';
import { fileUrlArg, lastLines, resolveFfmpeg, runFfmpeg } from '../src/node/media/ffmpeg-binary.js';
import { CRF } from '../src/node/media/ffmpeg-formats.js';
import { probeVideo } from '../src/node/media/ffmpeg-probe.js';
import { createVideoSink } from '../src/node/media/ffmpeg-sink.js';
import { openVideoSource } from '../src/node/media/ffmpeg-source.js';
import { writeImage } from '../src/node/media/image-io.js';
import { createNodeSwapper, type NodeSwapper } from '../src/node/jobs/swapper.js';
import { swapVideo, type VideoSwapRequest } from '../src/node/jobs/video-swap.js';
import { resolveSwapOptions } from '../src/pipeline/options.js';
import type { PaintTimings } from '../src/pipeline/still.js';
import { DEFAULT_VIDEO_FACE_OPTIONS } from '../src/pipeline/video.js';
import { loadFixture } from '../test/helpers/fixtures.js';
import { makeClip } from '../test/helpers/clips.js';
import { option as flag } from './flags.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const input = flag('--input');
const runs = Number(flag('--runs') ?? 2);
const decodeFlag = flag('--decode') ?? 'both';
if (!['accurate', 'bilinear', 'both'].includes(decodeFlag)) throw new Error(`bench:video-cpu: --decode is accurate, bilinear or both, not ${decodeFlag}`);
const floors = !args.includes('--no-floor');
type Conversion = 'accurate' | 'bilinear';
const plan: Conversion[] = [];
for (let run = 0; run < runs; run++) plan.push(...(decodeFlag === 'both' ? (['accurate', 'bilinear'] as const) : [decodeFlag as Conversion]));

const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits;
const load = (): number => round(loadavg()[0]!);

/** Nanoseconds on the CPU of a task (`/proc/<pid>/schedstat` or `/proc/<pid>/task/<tid>/schedstat`), undefined once it is gone. */
function cpuNs(path: string): number | undefined {
  try {
    return Number(readFileSync(`${path}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

/** Nanoseconds on the CPU of a whole process, every thread (utime + stime of `/proc/<pid>/stat`, in 10 ms ticks). */
function processNs(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 1e7;
  } catch {
    return undefined;
  }
}

/** The main thread's CPU nanoseconds. */
const mainNs = (): number => cpuNs(`/proc/self/task/${process.pid}`)!;

/** Children's CPU seconds once waited for (cutime + cstime): exact for every ffmpeg that has exited. */
function childrenSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/**
 * Samples, every `everyMs`, the CPU time of this process's threads and of its children (the last
 * value each showed before it ended), with the children's command lines, so a thread or an ffmpeg
 * that ends before the run does is still counted.
 */
class CpuSampler {
  readonly threads = new Map<string, { first: number; last: number; pipes: boolean }>();
  readonly children = new Map<string, { role: string; last: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(everyMs = 25) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample(): void {
    let tids: string[];
    try {
      tids = readdirSync('/proc/self/task');
    } catch {
      return;
    }
    for (const tid of tids) {
      const ns = cpuNs(`/proc/self/task/${tid}`);
      if (ns === undefined) continue;
      let seen = this.threads.get(tid);
      if (seen) seen.last = ns;
      else this.threads.set(tid, (seen = { first: ns, last: ns, pipes: false }));
      let kids: string[] = [];
      try {
        kids = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch {
        // gone
      }
      for (const pid of kids) {
        const cpu = processNs(pid);
        if (cpu === undefined) continue;
        const child = this.children.get(pid) ?? { role: 'scan', last: 0 };
        this.children.set(pid, child);
        child.last = cpu;
        // Until it has exec'd ffmpeg, a child's command line is node's: asked again until it says.
        if (child.role === 'scan') child.role = this.role(pid);
        if (child.role !== 'scan') seen.pipes = true;
      }
    }
  }

  /** decoder (raw frames out on stdout), encoder (raw frames in on stdin) or scan. */
  private role(pid: string): string {
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      return 'scan';
    }
    if (cmd.includes('-f rawvideo pipe:1')) return 'decoder';
    if (cmd.includes('-i pipe:0')) return 'encoder';
    return 'scan';
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

async function prepare(work: string): Promise<string> {
  if (input !== undefined) return input;
  const scene = join(work, 'scene.png');
  await writeImage(scene, await makeBenchFrame(fileURLToPath(new URL('../test/fixtures/faces/', import.meta.url)), 1280, 720));
  return makeClip({ photo: scene, motion: 'zoom', width: 1280, height: 720, fps: 30, frames: 300, audioHz: 440, dir: work, name: 'clip' });
}

/** Stage CPU of the main thread, accumulated by the engine wrapper (nanoseconds), and the paint's wall split. */
interface StageCpu {
  detect: number;
  track: number;
  paint: number;
  paintWall: PaintTimings;
}

/** The swapper with its per-frame calls timed in main-thread CPU (they run on the main thread, one at a time). */
function timedSwapper(swapper: NodeSwapper, stages: StageCpu): NodeSwapper {
  const timed =
    <A extends unknown[], R>(key: 'detect' | 'track' | 'paint', fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const t = mainNs();
      try {
        return await fn(...a);
      } finally {
        stages[key] += mainNs() - t;
      }
    };
  const track = swapper.track;
  return {
    ...swapper,
    engine: swapper.engine,
    analyze: timed('detect', (image) => swapper.analyze(image)),
    track: track ? timed('track', track) : undefined,
    paintFaces: timed('paint', async (frame, jobs, options, timings) => {
      const own: PaintTimings = { warp: 0, colour: 0, blend: 0 };
      await swapper.paintFaces(frame, jobs, options, own);
      for (const key of ['warp', 'colour', 'blend'] as const) {
        stages.paintWall[key] += own[key];
        if (timings) timings[key] += own[key];
      }
    }),
  };
}

/** CPU ms per frame of one measured run, by component. */
interface Breakdown {
  label: string;
  loadBefore: number;
  loadAfter: number;
  frames: number;
  wallSeconds: number;
  fps: number;
  /** ms of CPU per frame. */
  cpu: Record<string, number>;
  total: number;
  /** 2000 / total: the frame rate 2 cores could reach if every component overlapped perfectly. */
  twoCoreFps: number;
}

function breakdown(
  label: string,
  loadBefore: number,
  frames: number,
  wall: number,
  sampler: CpuSampler,
  childrenDelta: number,
  nodeMain: number,
  extra: Record<string, number> = {},
): Breakdown {
  const per = (ns: number): number => round(ns / 1e6 / frames);
  const cpu: Record<string, number> = { ...extra };
  const mainTid = String(process.pid);
  // Node names no thread: the pipe thread is the one whose children are the decoder and encoder.
  let pipes = 0;
  let others = 0;
  let busiest = 0;
  for (const [tid, t] of sampler.threads) {
    if (tid === mainTid) continue;
    if (t.pipes) pipes += t.last - t.first;
    else {
      others += t.last - t.first;
      busiest = Math.max(busiest, t.last - t.first);
    }
  }
  cpu.mainThread = per(nodeMain);
  cpu['pipe thread'] = per(pipes);
  cpu['other threads'] = per(others);
  cpu['  of them the busiest (the marks thread)'] = per(busiest);
  const roles = new Map<string, number>();
  for (const child of sampler.children.values()) {
    roles.set(child.role, (roles.get(child.role) ?? 0) + child.last);
  }
  for (const role of ['decoder', 'encoder']) cpu[`ffmpeg ${role}`] = per(roles.get(role) ?? 0);
  // What the samples missed (the last 25 ms of each child, and the short scans) is in the exact total.
  cpu['ffmpeg other'] = per(Math.max(0, childrenDelta * 1e9 - (roles.get('decoder') ?? 0) - (roles.get('encoder') ?? 0)));
  const total = round(
    Object.entries(cpu)
      .filter(([k]) => !k.startsWith('  '))
      .reduce((s, [, v]) => s + v, 0),
  );
  return { label, loadBefore, loadAfter: load(), frames, wallSeconds: round(wall, 3), fps: round(frames / wall), cpu, total, twoCoreFps: round(2000 / total, 1) };
}

async function swapRun(swapper: NodeSwapper, clip: string, output: string, conversion: Conversion, source: Awaited<ReturnType<NodeSwapper['prepareSource']>>): Promise<Breakdown> {
  const stages: StageCpu = { detect: 0, track: 0, paint: 0, paintWall: { warp: 0, colour: 0, blend: 0 } };
  const loadBefore = load();
  const sampler = new CpuSampler();
  const children = childrenSeconds();
  const main = mainNs();
  const started = performance.now();
  const request: VideoSwapRequest = {
    input: clip,
    output,
    identities: [source],
    swap: resolveSwapOptions({ engine: 'mesh' }),
    faces: { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection: { kind: 'primary' } },
    decodeConversion: conversion,
  };
  const summary = await swapVideo(timedSwapper(swapper, stages), request);
  const wall = (performance.now() - started) / 1000;
  const nodeMain = mainNs() - main;
  sampler.stop();
  const frames = summary.frames;
  const per = (ns: number): number => round(ns / 1e6 / frames);
  const w = stages.paintWall;
  const paintWall = w.warp + w.colour + w.blend || 1;
  const rest = nodeMain - stages.detect - stages.track - stages.paint;
  const extra = {
    '  detect': per(stages.detect),
    '  track': per(stages.track),
    '  paint warp': per((stages.paint * w.warp) / paintWall),
    '  paint colour': per((stages.paint * w.colour) / paintWall),
    '  paint blend': per((stages.paint * w.blend) / paintWall),
    '  rest (pipes, copies, planner, loop)': per(rest),
  };
  const result = breakdown(`swap, decode ${conversion}`, loadBefore, frames, wall, sampler, childrenSeconds() - children, nodeMain, extra);
  return { ...result, label: `${result.label} (detections ${summary.detections}, frames swapped ${summary.framesSwapped})` };
}

/** The swap's decoder and encoder through its pipes, nothing between them. */
async function pipeFloor(clip: string, output: string, conversion: Conversion): Promise<Breakdown> {
  const ffmpeg = resolveFfmpeg({});
  const info = await probeVideo(clip, ffmpeg);
  const loadBefore = load();
  const sampler = new CpuSampler();
  const children = childrenSeconds();
  const main = mainNs();
  const started = performance.now();
  const sink = await createVideoSink(output, {
    ...ffmpeg,
    width: info.width,
    height: info.height,
    fps: info.fps,
    preset: 'veryfast',
    color: { matrix: info.colorMatrix, range: info.colorRange },
  });
  const source = await openVideoSource(clip, { ...ffmpeg, probed: info, colorConversion: conversion });
  let frames = 0;
  for await (const { image, tSeconds } of source) {
    await sink.write(image, tSeconds);
    frames++;
  }
  await sink.close();
  const wall = (performance.now() - started) / 1000;
  const nodeMain = mainNs() - main;
  sampler.stop();
  return breakdown(`floor: the swap's pipes, no swap, decode ${conversion}`, loadBefore, frames, wall, sampler, childrenSeconds() - children, nodeMain);
}

/** bench:video's floor: one ffmpeg, decode to RGB, x264 veryfast at the default CRF, audio copied. */
async function plainFloor(clip: string, output: string, frames: number): Promise<Breakdown> {
  const loadBefore = load();
  const sampler = new CpuSampler();
  const children = childrenSeconds();
  const started = performance.now();
  const made = await runFfmpeg([
    ...['-loglevel', 'error', '-y', '-i', fileUrlArg(clip), '-vf', 'format=rgb24', '-c:v', 'libx264', '-preset', 'veryfast'],
    ...['-crf', String(CRF.libx264.default), '-pix_fmt', 'yuv420p', '-c:a', 'copy', fileUrlArg(output)],
  ]);
  if (made.code !== 0) throw new Error(`bench:video-cpu: ffmpeg could not re-encode the clip: ${lastLines(made.stderr, 6)}`);
  const wall = (performance.now() - started) / 1000;
  sampler.stop();
  const delta = childrenSeconds() - children;
  const result = breakdown('floor: one ffmpeg (bench:video)', loadBefore, frames, wall, sampler, delta, 0);
  delete result.cpu.mainThread;
  for (const k of Object.keys(result.cpu)) if (k.startsWith('thread')) delete result.cpu[k];
  result.cpu = { ffmpeg: round((delta * 1000) / frames) };
  result.total = result.cpu.ffmpeg!;
  result.twoCoreFps = round(2000 / result.total, 1);
  return result;
}

const work = await mkdtemp(join(tmpdir(), 'liveswap-bench-cpu-'));
try {
  const clip = await prepare(work);
  const swapper = await createNodeSwapper({ engine: 'mesh' });
  const source = await swapper.prepareSource(await loadFixture('astronaut.png'), resolveSwapOptions({ engine: 'mesh' }));
  // One short run first: the pipe thread and the models' first calls are not counted.
  await swapVideo(swapper, {
    input: clip,
    output: join(work, 'warm.mp4'),
    identities: [source],
    swap: resolveSwapOptions({ engine: 'mesh' }),
    faces: { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection: { kind: 'primary' } },
    encoding: { trimEnd: { frame: 10 } },
  });
  const results: Breakdown[] = [];
  for (const [run, conversion] of plan.entries()) {
    results.push(await swapRun(swapper, clip, join(work, `out-${run}.mp4`), conversion, source));
    if (floors && run < (decodeFlag === 'both' ? 2 : 1)) results.push(await pipeFloor(clip, join(work, `floor-${run}.mp4`), conversion));
  }
  if (floors) results.push(await plainFloor(clip, join(work, 'plain.mp4'), results[0]!.frames));
  await swapper.close();
  if (json) console.log(JSON.stringify({ bench: 'video-cpu', input: input ?? 'synthetic 1280x720', results }));
  else {
    console.log(`CPU ms per frame, ${input ?? 'synthetic 1280×720 30 fps clip, one face'}, mesh engine, marks on:`);
    for (const r of results) {
      console.log(`${r.label}: ${r.frames} frames, ${r.fps} fps wall (load ${r.loadBefore} → ${r.loadAfter})`);
      for (const [k, v] of Object.entries(r.cpu)) console.log(`  ${k.padEnd(40)}${v.toFixed(2).padStart(8)}`);
      console.log(`  ${'total'.padEnd(40)}${r.total.toFixed(2).padStart(8)}   → at most ${r.twoCoreFps} fps on 2 cores`);
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

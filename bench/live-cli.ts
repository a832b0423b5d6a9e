/**
 * `liveswap live` benchmark: a video file (looped, at its own pace) → `liveswap live` (the real
 * command, mesh engine by default) → a real nginx-rtmp on loopback → a second ffmpeg pulling the
 * swapped stream. Reports the sustained frame rate (frames processed per second after a warm-up,
 * median and minimum of the per-second status, and the frames the puller received), frames ever
 * queued beyond one (the freshest-frame rule keeps it at 0), the dropped frames, the latency from
 * a frame's arrival to its handing to the encoders, and the A/V drift of what the puller received:
 * the input carries a white square and a 1 kHz beep at the same moments every two seconds, and the
 * drift is the time from each beep to its square in the pulled stream.
 * It also prints where the time went over the measured seconds: the main thread's time per frame
 * by stage (from the status lines) and the CPU each process and thread used (from /proc: the
 * liveswap process by thread, its ffmpeg decoder and encoder, nginx and the puller).
 * Needs nginx with libnginx-mod-rtmp (test/helpers/rtmp-server.ts) and ffmpeg.
 * Run: npm run bench:live-cli [-- --seconds 60] [-- --size 1280x720] [-- --input clip.mp4] [-- --engine mesh] [-- --output-delay MS] [-- --json]
 *   --live "FLAGS"   more flags for `liveswap live` (for example "--video-preset superfast")
 *   --cli DIR        run `liveswap live` from another checkout (its src/cli/main.ts), to compare versions
 */

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ffmpegPath, fileUrlArg, runFfmpeg } from '../src/node/media/ffmpeg-binary.js';
import { FIXTURES, TEST_HOME } from '../test/helpers/fixtures.js';
import { MAIN_PATH, REPO_ROOT, TSX_URL } from '../test/cli/run-cli.js';
import { rtmpUnavailable, startRtmp } from '../test/helpers/rtmp-server.js';
import { avDrift, writeMarkedClip, type AvMarks } from '../test/helpers/av-marks.js';
import { option } from './flags.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const seconds = Number(option('--seconds', '60'));
const size = option('--size', '1280x720');
const [width, height] = size.split('x').map(Number) as [number, number];
const engine = option('--engine', 'mesh');
const inputFile = option('--input', '');
const outputDelay = option('--output-delay', '0');
const liveFlags = option('--live', '').split(' ').filter(Boolean);
const cliDir = option('--cli', '');
const mainPath = cliDir ? join(resolve(cliDir), 'src/cli/main.ts') : MAIN_PATH;
const FPS = 30;
/** The marks: a square and a beep together every two seconds, lasting 0.1 s. */
const MARKS: AvMarks = { every: 2, length: 0.1 };
const WARM_UP = 8;

/**
 * The input: the given clip (or a face photo held still, swaying slightly) with a white square in
 * the top-left corner and a 1 kHz beep at the same moments every two seconds.
 */
async function makeInput(dir: string): Promise<string> {
  const out = join(dir, 'input.mp4');
  const picture = inputFile
    ? ['-stream_loop', '-1', '-i', fileUrlArg(resolve(inputFile))]
    : ['-loop', '1', '-framerate', String(FPS), '-i', fileUrlArg(join(FIXTURES, 'grace_hopper.jpg'))];
  const motion = inputFile ? '' : `,crop=iw*0.9:ih*0.9:iw*0.05+iw*0.04*sin(t):ih*0.05`;
  await writeMarkedClip(out, MARKS, { picture, motion, width, height, fps: FPS, seconds: 20 });
  return out;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : Number.NaN;
}

/** CPU ticks (1/100 s) of a process or thread, and its name, from its stat file. */
function readStat(path: string): { name: string; ppid: number; ticks: number } | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { name, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** CPU ticks so far of every thread of `pid` and of every process whose parent is `pid` or nginx, by a readable name. */
function cpuSnapshot(pid: number, others: readonly number[]): Map<string, number> {
  const snapshot = new Map<string, number>();
  const add = (key: string, ticks: number): void => void snapshot.set(key, (snapshot.get(key) ?? 0) + ticks);
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readStat(`/proc/${pid}/task/${tid}/stat`);
    if (stat) add(`liveswap: ${tid === String(pid) ? 'main thread' : stat.name}`, stat.ticks);
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(`/proc/${entry}/stat`);
    if (!stat) continue;
    if (stat.ppid === pid) {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      add(`ffmpeg ${args.includes('pipe:0') ? 'encoder' : 'decoder'}`, stat.ticks);
    } else if (stat.name === 'nginx' || others.includes(Number(entry))) add(stat.name === 'nginx' ? 'nginx' : 'puller (ffmpeg)', stat.ticks);
  }
  return snapshot;
}

/** CPU per wall second of each entry between two snapshots, largest first. */
function cpuShares(before: Map<string, number>, after: Map<string, number>, wallSeconds: number): Record<string, number> {
  const shares = [...after].map(([key, ticks]) => [key, Math.round(((ticks - (before.get(key) ?? 0)) / 100 / wallSeconds) * 100) / 100] as const);
  return Object.fromEntries(shares.filter(([, share]) => share > 0.004).sort((a, b) => b[1] - a[1]));
}

interface Status {
  event: string;
  seconds: number;
  fps: number;
  frames: number;
  dropped: number;
  latencyMs: number;
  outputs: { state: string }[];
  stages?: Record<string, number>;
  maxWaiting?: number;
  latency?: unknown;
}

async function main(): Promise<void> {
  const unavailable = rtmpUnavailable();
  if (unavailable) {
    console.log(`bench:live-cli needs an RTMP server: ${unavailable}`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'liveswap-bench-live-'));
  const server = await startRtmp();
  try {
    const input = await makeInput(dir);
    const load = loadavg()[0]!.toFixed(2);
    const out = `${server.url}/bench`;
    const child = spawn(
      process.execPath,
      [
        '--import',
        TSX_URL,
        mainPath,
        'live',
        '-s',
        join(FIXTURES, 'astronaut.png'),
        '-i',
        input,
        '--loop',
        '-o',
        out,
        '--engine',
        engine,
        '--output-delay',
        outputDelay,
        '--json-status',
        ...liveFlags,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LIVESWAP_HOME: process.env.LIVESWAP_HOME ?? TEST_HOME } },
    );
    let text = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const events = (): Status[] =>
      text
        .split('\n')
        .slice(0, -1)
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Status);
    const exited = new Promise<number | null>((done) => child.once('close', done));
    while (!events().some((e) => e.event === 'status' && e.outputs[0]?.state === 'live')) {
      if (child.exitCode !== null) throw new Error(`liveswap live ended:\n${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Warm up, then pull what the server sends for the measured seconds.
    await new Promise((r) => setTimeout(r, WARM_UP * 1000));
    const startedAt = events().at(-1)!;
    const cpuBefore = cpuSnapshot(child.pid!, []);
    const cpuStart = performance.now();
    const pulled = join(dir, 'pulled.mkv');
    const puller = spawn(
      ffmpegPath(),
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', out, '-t', String(seconds), '-map', '0:v:0', '-map', '0:a:0', '-c', 'copy', '-y', fileUrlArg(pulled)],
      {
        stdio: 'ignore',
      },
    );
    const pullerCpu = { before: new Map<string, number>(), last: new Map<string, number>() };
    const watchPuller = setInterval(() => (pullerCpu.last = cpuSnapshot(child.pid!, [puller.pid!])), 1000);
    await new Promise((done) => puller.once('close', done));
    clearInterval(watchPuller);
    const cpu = cpuShares(cpuBefore, pullerCpu.last, (performance.now() - cpuStart) / 1000);
    const endedAt = events().at(-1)!;
    child.kill('SIGINT');
    await exited;
    const done = events().find((e) => e.event === 'done') as (Status & { maxWaiting: number; latencyMs: { median: number; p95: number } }) | undefined;
    const measured = events().filter((e) => e.event === 'status' && e.seconds > startedAt.seconds && e.seconds <= endedAt.seconds);
    const count = await runFfmpeg(['-loglevel', 'error', '-nostats', '-i', fileUrlArg(pulled), '-map', '0:v:0', '-progress', 'pipe:1', '-f', 'null', '-']);
    const pulledFrames = Number([...count.stdout.matchAll(/^frame=\s*(\d+)/gm)].at(-1)?.[1] ?? 0);
    const drift = await avDrift(pulled, dir, FPS, MARKS);
    const stages: Record<string, number> = {};
    const weight = measured.reduce((sum, e) => sum + e.fps, 0);
    for (const e of measured) for (const [key, ms] of Object.entries(e.stages ?? {})) stages[key] = (stages[key] ?? 0) + (ms * e.fps) / Math.max(1e-9, weight);
    for (const key of Object.keys(stages)) stages[key] = Math.round(stages[key]! * 10) / 10;
    const processedFps = (endedAt.frames - startedAt.frames) / Math.max(1e-3, endedAt.seconds - startedAt.seconds);
    const result = {
      size,
      engine,
      seconds,
      loadBefore: Number(load),
      loadAfter: Number(loadavg()[0]!.toFixed(2)),
      processedFps: Math.round(processedFps * 10) / 10,
      statusFps: { median: Math.round(median(measured.map((e) => e.fps)) * 10) / 10, min: Math.round(Math.min(...measured.map((e) => e.fps)) * 10) / 10 },
      pulledFrames,
      pulledFps: Math.round((pulledFrames / seconds) * 10) / 10,
      droppedPerSecond: Math.round(((endedAt.dropped - startedAt.dropped) / Math.max(1e-3, endedAt.seconds - startedAt.seconds)) * 10) / 10,
      queuedBeyondOne: done ? Math.max(0, done.maxWaiting - 1) : undefined,
      latencyMs: done ? { median: Math.round(done.latencyMs.median), p95: Math.round(done.latencyMs.p95) } : undefined,
      stagesMs: stages,
      cpuPerWallSecond: cpu,
      liveFlags: liveFlags.join(' '),
      avDriftMs: drift.length ? { marks: drift.length, median: Math.round(median(drift) * 1000), maxAbs: Math.round(Math.max(...drift.map(Math.abs)) * 1000) } : { marks: 0 },
    };
    if (json) console.log(JSON.stringify(result));
    else {
      console.log(
        `liveswap live${cliDir ? ` (${cliDir})` : ''} → RTMP, ${size}, ${engine} engine, --output-delay ${outputDelay}${liveFlags.length ? ` ${liveFlags.join(' ')}` : ''}, ${seconds} s measured after ${WARM_UP} s warm-up (load ${result.loadBefore} → ${result.loadAfter})`,
      );
      console.log(`  processed      ${result.processedFps} fps (per-second status: median ${result.statusFps.median}, min ${result.statusFps.min})`);
      console.log(`  pulled         ${pulledFrames} frames = ${result.pulledFps} fps (the output keeps the input's ${FPS} fps; dropped slots repeat the frame before)`);
      console.log(`  dropped        ${result.droppedPerSecond}/s for fresher frames; queued beyond one: ${result.queuedBeyondOne}`);
      console.log(`  latency        ${result.latencyMs?.median} ms median, ${result.latencyMs?.p95} ms p95 (frame arrival → encoders)`);
      console.log(`  A/V drift      ${JSON.stringify(result.avDriftMs)} (square after beep, ms)`);
      console.log(
        `  main thread    ${Object.entries(stages)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} ms per frame`,
      );
      console.log(
        `  CPU / wall s   ${Object.entries(cpu)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    }
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

/**
 * Talking-portrait benchmark: for each face (the bundled photos, plus any `--face FILE`, photo or
 * video), a scripted ~10 s speech from flite is rendered with `liveswap talk`'s job, then the
 * output is measured as a viewer gets it: FaceMesh's mouth opening per decoded frame against the
 * speech envelope (Pearson at offset 0, and the best over ±200 ms with its offset), the render
 * time against the speech's duration, and the decoded audio and video durations. Goals (issue
 * 22): correlation ≥ 0.6 with the best offset within ±40 ms, render faster than real time on 2
 * cores, durations within one frame. Needs flite and ffmpeg.
 * A clip with cuts is measured shot by shot: `--cuts 20,82,211` (frame numbers where a shot
 * starts) splits each `--face` video there into shots (re-encoded losslessly enough: x264 crf 10),
 * each talked and measured on its own (a shot shorter than the speech loops); `--only-videos`
 * skips the bundled photos, `--photos a.png,b.jpg` measures only those of them. `--trace DIR`
 * writes, per face, a CSV of each frame's planned opening, the opening FaceMesh measured in the
 * output and the speech envelope, to see where the two part.
 * `--scale F` scales the bundled photos by F first (small faces whose painted lip gap is known: the
 * check that a reading reads the painted gap, the `vs painted` figures, rather than inflating it).
 * `--ab N` measures speed only (no lip-sync reading): per face, N rounds of the marks on the main
 * thread (A, as before the marks thread) and on their own thread (B), alternating A B then B A so
 * that both meet the same load, each line with the machine's load (`uptime`), the time per frame
 * by part and the process's CPU per frame (its threads, and the ffmpeg children apart), then the
 * median of each.
 * Run: npm run bench:talk [-- --face photo.jpg] [-- --cuts 20,82,211] [-- --voice slt] [-- --text "…"] [-- --trace DIR] [-- --json]
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { measureTalk, type TalkMeasure } from '../src/node/eval/talk-measure.js';
import { ffmpegPath } from '../src/node/media/ffmpeg-binary.js';
import { createNodeSwapper } from '../src/node/jobs/swapper.js';
import { planTalkJob, runTalkJob, type TalkJobResult } from '../src/node/jobs/talk-job.js';
import { pearson, type LipSync } from '../src/pipeline/talk-sync.js';
import { FIXTURES, TEST_HOME } from '../test/helpers/fixtures.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const options = (name: string): string[] => args.flatMap((a, i) => (a === name && args[i + 1] ? [args[i + 1]!] : []));
const voice = options('--voice')[0] ?? 'slt';
const text =
  options('--text')[0] ?? 'Hello, and welcome. My name is Ada, and I will be your guide today. We will look at how a computer reads a photo, finds a face, and paints a new one.';
const CORRELATION_GOAL = 0.6;
const OFFSET_GOAL = 0.04;
const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits;

const onlyPhotos = options('--photos')[0]?.split(',');
const bundled = args.includes('--only-videos')
  ? []
  : (await readdir(FIXTURES)).filter((f) => /\.(jpe?g|png)$/i.test(f) && (!onlyPhotos || onlyPhotos.includes(f))).map((f) => join(FIXTURES, f));
const scale = Number.parseFloat(options('--scale')[0] ?? '1');
const cuts = (options('--cuts')[0] ?? '')
  .split(',')
  .filter(Boolean)
  .map((v) => Number.parseInt(v, 10));
const traceDir = options('--trace')[0];
const dir = await mkdtemp(join(tmpdir(), 'liveswap-bench-talk-'));

/** A video split at `cuts` (first frames of shots) into one file per shot, named with its frames. */
function shotsOf(video: string): string[] {
  if (cuts.length === 0 || /\.(jpe?g|png|webp)$/i.test(video)) return [video];
  mkdirSync(join(dir, 'shots'), { recursive: true });
  const starts = [0, ...cuts];
  return starts.map((start, k) => {
    const end = starts[k + 1];
    const shot = join(dir, 'shots', `${basename(video).replace(/\.[^.]+$/, '')}-frames-${start}-${end !== undefined ? end - 1 : 'end'}.mp4`);
    const select = end !== undefined ? `between(n\\,${start}\\,${end - 1})` : `gte(n\\,${start})`;
    execFileSync(ffmpegPath(), ['-v', 'error', '-i', video, '-vf', `select=${select},setpts=N/FRAME_RATE/TB`, '-an', '-c:v', 'libx264', '-crf', '10', '-y', shot]);
    return shot;
  });
}
/**
 * One line per frame: its number, the planned opening, the lip gap painted (over the mouth's width),
 * the two measured readings (empty where no face was found) and the envelope.
 */
function writeTrace(name: string, result: TalkJobResult, measured: TalkMeasure): void {
  mkdirSync(traceDir!, { recursive: true });
  const lines = ['frame,planned,painted,measured,visible,envelope'];
  const value = (v: number | undefined): string => (v !== undefined && Number.isFinite(v) ? v.toFixed(4) : '');
  for (let f = 0; f < measured.mouth.length; f++) {
    lines.push([f, value(result.mouth[f]), value(result.painted[f]), value(measured.mouth[f]), value(measured.visible.mouth[f]), measured.envelope[f]!.toFixed(5)].join(','));
  }
  writeFileSync(join(traceDir!, name), `${lines.join('\n')}\n`);
}

/**
 * How a reading of the output agrees with the lip gap painted (the known truth): Pearson r over the
 * frames both have, and the median of reading / painted over frames painted at least 0.05 open
 * (1: reads the painted gap, below 1: under-reads it, above: inflates it).
 */
function againstPainted(painted: Float32Array, reading: Float32Array): { r: number; ratio: number } {
  const both: number[] = [];
  for (let f = 0; f < Math.min(painted.length, reading.length); f++) if (Number.isFinite(painted[f]) && Number.isFinite(reading[f])) both.push(f);
  const ratios = both.filter((f) => painted[f]! >= 0.05).map((f) => reading[f]! / painted[f]!);
  ratios.sort((a, b) => a - b);
  return {
    r: pearson(
      both.map((f) => painted[f]!),
      both.map((f) => reading[f]!),
    ),
    ratio: ratios.length > 0 ? ratios[ratios.length >> 1]! : Number.NaN,
  };
}
/** The photo scaled by `--scale` (a small face with the same painted truth), or as it is. */
function scaled(photo: string): string {
  if (scale === 1) return photo;
  const small = join(dir, `${basename(photo).replace(/\.[^.]+$/, '')}-x${scale}.png`);
  execFileSync(ffmpegPath(), ['-v', 'error', '-i', photo, '-vf', `scale=trunc(iw*${scale}/2)*2:-2:flags=area`, '-y', small]);
  return small;
}
const faces = [...bundled.map(scaled), ...options('--face').flatMap(shotsOf)];
const swapper = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
/** One reading of the output's mouth against the speech, and against the lip gap painted. */
interface Reading {
  correlation: number;
  bestCorrelation: number;
  bestOffsetMs: number;
  /** Against the painted lip gap: Pearson r and the median reading / painted (1: reads it as painted). */
  paintedR: number;
  paintedRatio: number;
}
interface Row {
  face: string;
  seconds: number;
  frames: number;
  renderSeconds: number;
  realTime: number;
  perFrameMs: { render: number; mark: number; encodeWait: number };
  /** FaceMesh's lip gap on the whole frame, and the visible reading (see talk-measure.ts) with the frames it read in a crop. */
  mesh: Reading;
  visible: Reading & { croppedFrames: number };
  videoSeconds: number;
  audioSeconds: number;
  facesFound: string;
  load1: number;
  pass: { syncMesh: boolean; syncVisible: boolean; speed: boolean; durations: boolean };
}
/** The row's figures of one reading. */
function reading(sync: LipSync, painted: Float32Array, mouth: Float32Array): Reading {
  const truth = againstPainted(painted, mouth);
  return {
    correlation: round(sync.correlation),
    bestCorrelation: round(sync.bestCorrelation),
    bestOffsetMs: Math.round(sync.bestOffset * 1000),
    paintedR: round(truth.r),
    paintedRatio: round(truth.ratio),
  };
}
const syncPasses = (r: Reading): boolean => r.bestCorrelation >= CORRELATION_GOAL && Math.abs(r.bestOffsetMs) <= OFFSET_GOAL * 1000;
const describe = (r: Reading): string => `r ${r.correlation} / best ${r.bestCorrelation} at ${r.bestOffsetMs} ms (vs painted r ${r.paintedR}, ×${r.paintedRatio})`;
/** CPU seconds of this process (all its threads) and of its children that have exited (the ffmpegs), from /proc (Linux). */
function cpuSeconds(): { self: number; children: number } {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ": field 3 is index 0, so utime/stime (14, 15) and cutime/cstime (16, 17) are at 11–14; in clock ticks (100 a second).
  const tick = (i: number): number => Number(fields[i]) / 100;
  return { self: tick(11) + tick(12), children: tick(13) + tick(14) };
}
/** Speed only, A (marks in turn) against B (the marks thread), alternating; see the file's comment. */
async function abRuns(rounds: number): Promise<void> {
  for (const face of faces) {
    const runs: { thread: boolean; seconds: number; talk: number; perFrame: number[]; cpu: number[] }[] = [];
    for (let k = 0; k < rounds; k++) {
      const order = k % 2 === 0 ? [false, true] : [true, false];
      for (const thread of order) {
        const output = join(dir, `ab-${k}-${thread ? 'b' : 'a'}.mp4`);
        const plan = await planTalkJob({ face, text, voice, output, marks: { label: true }, home: join(dir, 'home'), marksThread: thread });
        const cpu0 = cpuSeconds();
        const result = await runTalkJob(plan, { open: (runtime) => createNodeSwapper({ ...runtime, home: TEST_HOME }) });
        const cpu1 = cpuSeconds();
        await rm(output, { force: true });
        const n = result.frames;
        const t = result.timings;
        const perFrame = [t.render, t.swap, t.mark, t.encodeWait].map((v) => round(v / n, 1));
        const cpu = [round(((cpu1.self - cpu0.self) * 1000) / n, 1), round(((cpu1.children - cpu0.children) * 1000) / n, 1)];
        const seconds = round(t.total / 1000, 2);
        runs.push({ thread, seconds, talk: result.durationSeconds, perFrame, cpu });
        const uptime = execFileSync('uptime', { encoding: 'utf8' }).trim();
        console.log(
          `${basename(face).padEnd(28)} ${thread ? 'B thread' : 'A inline'} ${result.durationSeconds} s talk in ${seconds} s (speech ${round(t.speech / 1000, 2)} s; per frame ms: ` +
            `render ${perFrame[0]} swap ${perFrame[1]} mark ${perFrame[2]} encode wait ${perFrame[3]}; CPU ms per frame: node ${cpu[0]} ffmpeg ${cpu[1]})  ${uptime}`,
        );
      }
    }
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
    for (const thread of [false, true]) {
      const mine = runs.filter((r) => r.thread === thread);
      console.log(
        `${basename(face).padEnd(28)} ${thread ? 'B thread' : 'A inline'} median of ${mine.length}: ${median(mine.map((r) => r.seconds))} s for ${mine[0]!.talk} s; ` +
          `CPU per frame node ${median(mine.map((r) => r.cpu[0]!))} ms, ffmpeg ${median(mine.map((r) => r.cpu[1]!))} ms`,
      );
    }
  }
}
const abRounds = Number.parseInt(options('--ab')[0] ?? '0', 10);
const rows: (Row | { face: string; error: string })[] = [];
try {
  if (abRounds > 0) await abRuns(abRounds);
  for (const face of abRounds > 0 ? [] : faces) {
    const output = join(dir, `${basename(face).replace(/\.[^.]+$/, '')}.mp4`);
    const load = loadavg()[0]!;
    let row: Row | { face: string; error: string };
    try {
      const plan = await planTalkJob({ face, text, voice, output, marks: { label: true }, home: join(dir, 'home') });
      const result = await runTalkJob(plan, { open: (runtime) => createNodeSwapper({ ...runtime, home: TEST_HOME }) });
      const measured = await measureTalk(output, swapper);
      if (traceDir) {
        writeTrace(basename(output).replace(/\.mp4$/, '.csv'), result, measured);
        await copyFile(output, join(traceDir, basename(output)));
      }
      const renderSeconds = result.timings.total / 1000;
      row = {
        face: basename(face),
        seconds: round(result.durationSeconds),
        frames: result.frames,
        renderSeconds: round(renderSeconds, 1),
        realTime: round(result.durationSeconds / renderSeconds),
        perFrameMs: {
          render: round(result.timings.render / result.frames, 1),
          mark: round(result.timings.mark / result.frames, 1),
          encodeWait: round(result.timings.encodeWait / result.frames, 1),
        },
        mesh: reading(measured.sync, result.painted, measured.mouth),
        visible: {
          ...reading(measured.visible.sync, result.painted, measured.visible.mouth),
          croppedFrames: measured.visible.cropped,
        },
        videoSeconds: round(measured.videoSeconds, 3),
        audioSeconds: round(measured.audioSeconds, 3),
        facesFound: `${measured.facesFound}/${measured.frames}`,
        load1: round(load, 1),
        pass: {
          syncMesh: false,
          syncVisible: false,
          speed: renderSeconds < result.durationSeconds,
          durations: Math.abs(measured.audioSeconds - measured.videoSeconds) <= 1 / result.fps,
        },
      };
      row.pass.syncMesh = syncPasses(row.mesh);
      row.pass.syncVisible = syncPasses(row.visible);
    } catch (error) {
      row = { face: basename(face), error: (error as Error).message };
    }
    rows.push(row);
    if (json) console.log(JSON.stringify(row));
    else if ('error' in row) console.log(`${row.face.padEnd(28)} failed: ${row.error}`);
    else {
      const { pass: p, perFrameMs: ms } = row;
      const ok = (pass: boolean): string => (pass ? 'ok' : 'MISSED');
      console.log(
        `${row.face.padEnd(28)} ${String(row.seconds).padStart(5)} s in ${String(row.renderSeconds).padStart(5)} s (×${row.realTime} real time; per frame render ${ms.render}, mark ${ms.mark}, encode wait ${ms.encodeWait} ms)` +
          `  audio ${row.audioSeconds} s video ${row.videoSeconds} s  faces ${row.facesFound}  load ${row.load1}\n` +
          `    mesh:    ${describe(row.mesh)}  [sync ${ok(p.syncMesh)}]\n` +
          `    visible: ${describe(row.visible)}, ${row.visible.croppedFrames} read in a crop  [sync ${ok(p.syncVisible)}]\n` +
          `    [speed ${ok(p.speed)}, durations ${ok(p.durations)}]`,
      );
    }
  }
} finally {
  await swapper.close();
  await rm(dir, { recursive: true, force: true });
}
if (!json) console.log(`mesh: FaceMesh's lip gap on the whole frame; visible: the visible lip gap, small faces read in an upscaled crop (see talk-measure.ts)`);
if (!json)
  console.log(`voice ${voice}; goals: r ≥ ${CORRELATION_GOAL} with the best offset within ±${OFFSET_GOAL * 1000} ms, faster than real time, audio and video within one frame.`);

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
 * Run: npm run bench:talk [-- --face photo.jpg] [-- --cuts 20,82,211] [-- --voice slt] [-- --text "…"] [-- --trace DIR] [-- --json]
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { measureTalk } from '../src/node/eval/talk-measure.js';
import { ffmpegPath } from '../src/node/media/ffmpeg-binary.js';
import { createNodeSwapper } from '../src/node/jobs/swapper.js';
import { planTalkJob, runTalkJob } from '../src/node/jobs/talk-job.js';
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
/** One line per frame: its number, the planned opening, the measured one (empty where no face was found) and the envelope. */
function writeTrace(name: string, planned: Float32Array, measured: Float32Array, envelope: Float32Array): void {
  mkdirSync(traceDir!, { recursive: true });
  const lines = ['frame,planned,measured,envelope'];
  for (let f = 0; f < measured.length; f++) {
    const m = measured[f]!;
    lines.push(`${f},${(planned[f] ?? Number.NaN).toFixed(4)},${Number.isFinite(m) ? m.toFixed(4) : ''},${envelope[f]!.toFixed(5)}`);
  }
  writeFileSync(join(traceDir!, name), `${lines.join('\n')}\n`);
}
const faces = [...bundled, ...options('--face').flatMap(shotsOf)];
const swapper = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
interface Row {
  face: string;
  seconds: number;
  frames: number;
  renderSeconds: number;
  realTime: number;
  perFrameMs: { render: number; mark: number; encodeWait: number };
  correlation: number;
  bestCorrelation: number;
  bestOffsetMs: number;
  videoSeconds: number;
  audioSeconds: number;
  facesFound: string;
  load1: number;
  pass: { sync: boolean; speed: boolean; durations: boolean };
}
const rows: (Row | { face: string; error: string })[] = [];
try {
  for (const face of faces) {
    const output = join(dir, `${basename(face).replace(/\.[^.]+$/, '')}.mp4`);
    const load = loadavg()[0]!;
    let row: Row | { face: string; error: string };
    try {
      const plan = await planTalkJob({ face, text, voice, output, marks: { label: true }, home: join(dir, 'home') });
      const result = await runTalkJob(plan, { open: (runtime) => createNodeSwapper({ ...runtime, home: TEST_HOME }) });
      const measured = await measureTalk(output, swapper);
      if (traceDir) writeTrace(basename(output).replace(/\.mp4$/, '.csv'), result.mouth, measured.mouth, measured.envelope);
      const renderSeconds = result.timings.total / 1000;
      const sync = measured.sync;
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
        correlation: round(sync.correlation),
        bestCorrelation: round(sync.bestCorrelation),
        bestOffsetMs: Math.round(sync.bestOffset * 1000),
        videoSeconds: round(measured.videoSeconds, 3),
        audioSeconds: round(measured.audioSeconds, 3),
        facesFound: `${measured.facesFound}/${measured.frames}`,
        load1: round(load, 1),
        pass: {
          sync: sync.bestCorrelation >= CORRELATION_GOAL && Math.abs(sync.bestOffset) <= OFFSET_GOAL,
          speed: renderSeconds < result.durationSeconds,
          durations: Math.abs(measured.audioSeconds - measured.videoSeconds) <= 1 / result.fps,
        },
      };
    } catch (error) {
      row = { face: basename(face), error: (error as Error).message };
    }
    rows.push(row);
    if (json) console.log(JSON.stringify(row));
    else if ('error' in row) console.log(`${row.face.padEnd(28)} failed: ${row.error}`);
    else {
      const { pass: p, perFrameMs: ms } = row;
      console.log(
        `${row.face.padEnd(28)} ${String(row.seconds).padStart(5)} s in ${String(row.renderSeconds).padStart(5)} s (×${row.realTime} real time; per frame render ${ms.render}, mark ${ms.mark}, encode wait ${ms.encodeWait} ms)` +
          `  r ${row.correlation} / best ${row.bestCorrelation} at ${row.bestOffsetMs} ms  audio ${row.audioSeconds} s video ${row.videoSeconds} s  faces ${row.facesFound}  load ${row.load1}` +
          `  [sync ${p.sync ? 'ok' : 'MISSED'}, speed ${p.speed ? 'ok' : 'MISSED'}, durations ${p.durations ? 'ok' : 'MISSED'}]`,
      );
    }
  }
} finally {
  await swapper.close();
  await rm(dir, { recursive: true, force: true });
}
if (!json)
  console.log(`voice ${voice}; goals: r ≥ ${CORRELATION_GOAL} with the best offset within ±${OFFSET_GOAL * 1000} ms, faster than real time, audio and video within one frame.`);

/**
 * The jobs layer the CLI and the API share: planning checks everything cheap and opens no model;
 * running swaps, marks and publishes (output, credentials or their notice, audit entry) and, when
 * cancelled, leaves nothing behind.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { planImageJob, runImageJob, type OpenSwapper } from '../../src/node/jobs/image-job.js';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';
import { planVideoJob, runVideoJob, type VideoJobSpec } from '../../src/node/jobs/video-job.js';
import { loadWatermarkKey, readAudit } from '../../src/node/provenance/output-provenance.js';
import { verifyFile } from '../../src/node/provenance/verify.js';
import { resolveSwapOptions, resolveTrackingOptions, VIDEO_DEFAULTS } from '../../src/pipeline/options.js';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES, TEST_HOME } from '../helpers/fixtures.js';

let dir: string;
let home: string;
let opened = 0;
const open: OpenSwapper = async (runtime) => {
  opened++;
  return createNodeSwapper({ ...runtime, home: TEST_HOME });
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-jobs-'));
  home = join(dir, 'home');
});
after(() => rm(dir, { recursive: true, force: true }));

const imageSpec = (output: string) => ({
  sources: [`${FIXTURES}grace_hopper.jpg`],
  target: `${FIXTURES}astronaut.png`,
  output,
  paint: resolveSwapOptions(),
  marks: { label: true },
  home,
});

describe('image job', () => {
  test('planning checks inputs and output without opening a model', async () => {
    const before = opened;
    await assert.rejects(
      planImageJob({ ...imageSpec(join(dir, 'x.jpg')), sources: [join(dir, 'missing.jpg')] }),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'input-missing',
    );
    await assert.rejects(planImageJob(imageSpec(join(dir, 'x.gif'))), (e: unknown) => e instanceof LiveswapError && e.kind === 'usage');
    await assert.rejects(planImageJob({ ...imageSpec(join(dir, 'x.jpg')), sources: [] }), /At least one source/);
    assert.equal(opened, before);
  });

  test('runs: the output is marked, published and logged; the result says how', async () => {
    const output = join(dir, 'swapped.jpg');
    const result = await runImageJob(await planImageJob(imageSpec(output)), { open });
    assert.equal(result.engine, 'mesh');
    assert.deepEqual(result.report.swappedFaces, [0]);
    assert.equal(result.published.label.shown, true);
    const report = await verifyFile(output, { key: await loadWatermarkKey(home) });
    assert.equal(report.watermark.watermarkId, result.published.watermarkId);
    const audit = await readAudit(home);
    assert.equal(audit.entries.at(-1)?.watermarkId, result.published.watermarkId);
    assert.ok(['decode', 'load', 'mark', 'encode', 'total'].every((k) => typeof result.timings[k] === 'number'));
  });

  test('cancelled before it runs: nothing opened, nothing written', async () => {
    const output = join(dir, 'cancelled.jpg');
    const plan = await planImageJob(imageSpec(output));
    const stop = new AbortController();
    stop.abort();
    const before = opened;
    await assert.rejects(runImageJob(plan, { open, signal: stop.signal }), (e: unknown) => e instanceof LiveswapError && e.kind === 'interrupted');
    assert.equal(opened, before);
    assert.ok(!(await readdir(dir)).some((f) => f.startsWith('cancelled')));
  });
});

describe('video job', () => {
  let clip: string;
  const videoSpec = (output: string, over: Partial<VideoJobSpec> = {}): VideoJobSpec => ({
    sources: [`${FIXTURES}astronaut.png`],
    target: clip,
    output,
    paint: resolveSwapOptions(),
    tracking: resolveTrackingOptions({}, VIDEO_DEFAULTS.tracking),
    encoding: { audio: true },
    marks: { label: true },
    home,
    ...over,
  });
  before(async () => {
    clip = await makeClip({ frames: 20, fps: 20, audioHz: 440, dir, name: 'job-clip' });
  });

  test('planning: bad choices are refused, and what will be left out is said before the run', async () => {
    const before = opened;
    await assert.rejects(planVideoJob(videoSpec(join(dir, 'v.jpg'))), /the output must be one too/);
    await assert.rejects(planVideoJob(videoSpec(join(dir, 'v.mp4'), { similarFaceDistance: 0.3 })), /needs --reference-face/);
    await assert.rejects(planVideoJob(videoSpec(join(dir, 'v.mp4'), { paint: resolveSwapOptions({ faceIndex: 1 }) })), /--face-index picks a face of an image/);
    await assert.rejects(planVideoJob(videoSpec(join(dir, 'v.mp4'), { ffmpegPath: join(dir, 'no-ffmpeg') })), (e: unknown) => e instanceof LiveswapError && e.kind === 'usage');
    const envBefore = process.env.LIVESWAP_FFMPEG;
    const plan = await planVideoJob(videoSpec(join(dir, 'v.mp4'), { encoding: { audio: false, trimStart: { frame: 5 } } }));
    assert.equal(process.env.LIVESWAP_FFMPEG, envBefore, 'the ffmpeg choice travels as a parameter, not through the environment');
    assert.ok(plan.ffmpegPath.length > 0);
    assert.ok(plan.notices.some((n) => /audio .* left out/.test(n)));
    assert.ok(plan.notices.some((n) => /frames 5 to 19 of 20/.test(n)));
    assert.equal(opened, before, 'no model was opened while planning');
  });

  test('runs with progress: every frame marked, the output published, audio kept', async () => {
    const output = join(dir, 'job-out.mp4');
    let progress = 0;
    const result = await runVideoJob(await planVideoJob(videoSpec(output)), { open, onProgress: () => progress++ });
    assert.equal(result.frames, 20);
    assert.equal(result.audio, 'copied');
    assert.equal(result.marks.watermark && result.marks.label, true);
    assert.equal(result.marks.watermarkId, result.published.watermarkId);
    assert.ok(progress > 0);
    const report = await verifyFile(output, { key: await loadWatermarkKey(home) });
    assert.equal(report.watermark.watermarkId, result.published.watermarkId);
  });
});

/**
 * A talk's marks on their own thread (TalkJobSpec.marksThread, as a video swap's): with the thread
 * and without it the same talk has the same frames, its label and watermark as `liveswap verify`
 * reads them, its content credentials, the mouth in order with the speech and the durations within
 * a frame; a thread that dies mid-run ends the talk with a clear error and leaves nothing at the
 * output. With the real flite and ffmpeg; skipped, with the reason, only where flite is missing
 * outside CI.
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { measureTalk } from '../../src/node/eval/talk-measure.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { planTalkJob, runTalkJob, type TalkJobResult } from '../../src/node/jobs/talk-job.js';
import { markThreadWorkers } from '../../src/node/provenance/mark-thread.js';
import { loadWatermarkKey } from '../../src/node/provenance/output-provenance.js';
import { verifyFile } from '../../src/node/provenance/verify.js';
import { pearson } from '../../src/pipeline/talk-sync.js';
import { FIXTURES, TEST_HOME } from '../helpers/fixtures.js';
import { closeTalkWorkspace, openTalkWorkspace, skipWithoutFlite } from '../helpers/talk-fixtures.js';

const skip = skipWithoutFlite('the talk marks-thread tests');
const TEXT = 'Hello, I am Bob. Papa made a map.';

describe("a talk's marks on their own thread", { skip }, () => {
  let dir: string;
  let swapper: NodeSwapper;
  before(async () => ({ dir, swapper } = await openTalkWorkspace('liveswap-talk-marks-')));
  after(() => closeTalkWorkspace({ dir, swapper }));

  /** Renders the test talk to `name` with or without the thread; `onProgress` may interfere. */
  async function talk(name: string, marksThread: boolean, onProgress?: () => void): Promise<TalkJobResult> {
    const plan = await planTalkJob({
      face: join(FIXTURES, 'grace_hopper.jpg'),
      text: TEXT,
      voice: 'kal16',
      output: join(dir, name),
      marks: { label: true },
      home: join(dir, 'home'),
      marksThread,
    });
    return runTalkJob(plan, { open: (runtime) => createNodeSwapper({ ...runtime, home: TEST_HOME }), ...(onProgress ? { onProgress } : {}) });
  }

  it('gives the same frames, marks, credentials, mouth and durations as marking in turn', async () => {
    const inline = await talk('inline.mp4', false);
    const threaded = await talk('threaded.mp4', true);
    assert.equal(inline.marksThread, false);
    assert.equal(threaded.marksThread, true);
    assert.equal(threaded.frames, inline.frames);
    assert.equal(threaded.framesWithFace, threaded.frames);
    assert.ok(threaded.timings.mark > 0, 'the thread time on the marks is counted');
    assert.equal(markThreadWorkers().length, 0, 'the thread is gone');

    const key = await loadWatermarkKey(join(dir, 'home'));
    for (const [name, result] of [
      ['inline.mp4', inline],
      ['threaded.mp4', threaded],
    ] as const) {
      const report = await verifyFile(join(dir, name), { key });
      assert.equal(report.verdict, 'marked', `${name}: ${report.summary}`);
      assert.equal(report.watermark.watermarkId, result.published.watermarkId, `${name}: the watermark in every frame`);
      assert.equal(report.label.found, true, `${name}: the label`);
      assert.equal(report.agree, true, `${name}: the credentials name the watermark found`);

      const measured = await measureTalk(join(dir, name), swapper);
      assert.equal(measured.frames, result.frames, `${name}: every frame written once`);
      assert.ok(Math.abs(measured.audioSeconds - measured.videoSeconds) <= 1 / result.fps, `${name}: audio ${measured.audioSeconds} s, video ${measured.videoSeconds} s`);
      // In order: the mouth read back follows the one planned, frame by frame.
      const planned = pearson(measured.mouth, result.mouth);
      assert.ok(planned > 0.8, `${name}: measured vs planned opening: r = ${planned}`);
    }
  });

  it('a thread that dies mid-run ends the talk with a clear error, and nothing is left at the output', async () => {
    const before = new Set(await readdir(dir));
    let stopped = false;
    await assert.rejects(
      talk('crashed.mp4', true, () => {
        if (stopped) return;
        stopped = true;
        const workers = markThreadWorkers();
        assert.equal(workers.length, 1, 'one marks thread runs');
        void workers[0]!.terminate();
      }),
      (error: Error) => {
        assert.match(error.message, /thread drawing the marks stopped/);
        return true;
      },
    );
    assert.ok(stopped);
    assert.equal(existsSync(join(dir, 'crashed.mp4')), false, 'no output file');
    assert.deepEqual(new Set(await readdir(dir)), before, 'no temporary file left');
    assert.equal(markThreadWorkers().length, 0, 'the thread is gone');
  });
});

/**
 * A talk that fails leaves no speech files behind: the job's temporary folder goes when the engine
 * fails to start and when no face is found, and the service's talk folder (the speech made at
 * submission) goes when the job fails for good or is cancelled, but stays for an attempt the queue
 * runs again. Real ffmpeg; the speech is a tone from the caller (no flite needed).
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { createImage } from '../../src/core/image.js';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';
import { planTalkJob, runTalkJob } from '../../src/node/jobs/talk-job.js';
import { SPEECH_RATE, writeWav } from '../../src/node/jobs/talk-speech.js';
import { writeImage } from '../../src/node/media/image-io.js';
import { readAudit } from '../../src/node/provenance/output-provenance.js';
import { runTalkJobRequest } from '../../src/node/service/talk-runner.js';
import type { VideoJobRequest } from '../../src/node/service/types.js';
import { TEST_HOME } from '../helpers/fixtures.js';

/** This process's talk temporaries in the system's temporary folder. */
async function talkTemporaries(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith(`liveswap-${process.pid}-talk-`));
}

describe('a failed talk leaves no speech files', () => {
  let dir: string;
  let blank: string;
  let audio: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-talk-cleanup-'));
    // A grey picture: no face in it.
    const image = createImage(96, 96, 3);
    image.data.fill(128);
    blank = join(dir, 'blank.png');
    await writeImage(blank, image);
    const samples = new Float32Array(SPEECH_RATE * 0.4);
    for (let i = 0; i < samples.length; i++) samples[i] = 0.3 * Math.sin((2 * Math.PI * 200 * i) / SPEECH_RATE);
    audio = join(dir, 'tone.wav');
    await writeWav(audio, samples, SPEECH_RATE);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('removes the job’s temporary folder when the engine fails to start and when no face is found', async () => {
    const plan = await planTalkJob({ face: blank, audio, output: join(dir, 'a.mp4'), marks: { label: true }, home: join(dir, 'home') });
    const before = await talkTemporaries();
    await assert.rejects(
      runTalkJob(plan, {
        open: () => Promise.reject(new LiveswapError('model', 'no engine here')),
      }),
      /no engine here/,
    );
    assert.deepEqual(await talkTemporaries(), before);
    await assert.rejects(runTalkJob(plan, { open: (runtime) => createNodeSwapper({ ...runtime, home: TEST_HOME }) }), (error: LiveswapError) => error.kind === 'no-face');
    assert.deepEqual(await talkTemporaries(), before);
    assert.equal(existsSync(join(dir, 'a.mp4')), false);
  });

  it('removes the service’s talk folder when the job fails for good or is cancelled, keeps it for a retry', async () => {
    const home = join(dir, 'service-home');
    const request = async (name: string): Promise<VideoJobRequest> => {
      const folder = join(home, 'service', 'talks', name);
      await mkdir(folder, { recursive: true });
      const speech = join(folder, 'speech.wav');
      await writeWav(speech, new Float32Array(SPEECH_RATE * 0.3).fill(0.1), SPEECH_RATE);
      return {
        tokenId: 't',
        tokenName: 'test',
        identityId: '',
        consentId: 'c',
        input: blank,
        sources: [],
        paint: {},
        encoding: {},
        videoSeconds: 1,
        reservedAt: new Date().toISOString(),
        requestId: name,
        ip: '127.0.0.1',
        userAgent: 'test',
        talk: { audio: speech, fps: 25, speech: 'audio', folder },
      };
    };
    const open = (runtime: Parameters<typeof createNodeSwapper>[0]) => createNodeSwapper({ ...runtime, home: TEST_HOME });

    const failed = await request('failed');
    await assert.rejects(runTalkJobRequest('failed', failed, { home, attempt: 1, workerId: 'w', open }), (error: LiveswapError) => error.kind === 'no-face');
    assert.equal(existsSync(failed.talk!.folder), false, 'a job failed for good keeps no speech');

    const retried = await request('retried');
    await assert.rejects(runTalkJobRequest('retried', retried, { home, attempt: 1, workerId: 'w', open, willRetry: () => true }));
    assert.equal(existsSync(retried.talk!.folder), true, 'the next attempt needs the speech');
    await assert.rejects(runTalkJobRequest('retried', retried, { home, attempt: 2, workerId: 'w', open, willRetry: () => false }));
    assert.equal(existsSync(retried.talk!.folder), false, 'the last attempt removes it');

    const cancelled = await request('cancelled');
    const controller = new AbortController();
    controller.abort(new Error('cancelled by the caller'));
    await assert.rejects(
      runTalkJobRequest('cancelled', cancelled, { home, attempt: 1, workerId: 'w', open, signal: controller.signal, willRetry: () => true }),
      (error: LiveswapError) => error.kind === 'interrupted',
    );
    assert.equal(existsSync(cancelled.talk!.folder), false, 'a cancelled job keeps no speech');

    // Each attempt that ended without a result has its audit line, named as a talk.
    const { entries } = await readAudit(home);
    const lines = entries.filter((e) => e.kind === 'job');
    assert.equal(lines.length, 4);
    for (const line of lines) {
      assert.equal(line.service?.route, '/v1/talks');
      assert.equal(line.options.talk, true);
    }
    assert.deepEqual(
      lines.map((l) => l.service?.outcome),
      ['failed', 'failed', 'failed', 'cancelled'],
    );
  });
});

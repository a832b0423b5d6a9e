/**
 * Talking portraits end to end, with the real flite and ffmpeg: flite's phones parse with times
 * that end with its audio, every phone it speaks has a viseme, a short talk renders with its
 * mouth (FaceMesh on the output) moving with the speech, the sound in the file and the durations
 * within a frame, and the audit log gets its line. Skipped, with the reason, only where flite is
 * not installed outside CI.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { measureTalk } from '../../src/node/eval/talk-measure.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { planTalkJob, runTalkJob } from '../../src/node/jobs/talk-job.js';
import { speakWithFlite, SPEECH_RATE, writeWav } from '../../src/node/jobs/talk-speech.js';
import { pearson } from '../../src/pipeline/talk-sync.js';
import { shapeOf } from '../../src/pipeline/talk-visemes.js';
import { FIXTURES, TEST_HOME } from '../helpers/fixtures.js';
import { closeTalkWorkspace, openTalkWorkspace, skipWithoutFlite } from '../helpers/talk-fixtures.js';

const skip = skipWithoutFlite('the talk tests');

describe('talking portraits', { skip }, () => {
  let dir: string;
  let swapper: NodeSwapper;
  before(async () => ({ dir, swapper } = await openTalkWorkspace('liveswap-talk-')));
  after(() => closeTalkWorkspace({ dir, swapper }));

  it("reads flite's phones: every one has a viseme, and the times end with the audio", async () => {
    const text = 'Pack my box with five dozen liquor jugs. The quick brown fox jumps over the lazy dog! Why, then, is the azure vision usually measured?';
    for (const voice of ['slt', 'kal16']) {
      const speech = await speakWithFlite(text, dir, { voice });
      const phones = speech.phones!;
      const seconds = speech.samples.length / speech.sampleRate;
      assert.ok(phones.length > 60, `${voice}: ${phones.length} phones`);
      for (const p of phones) assert.ok(shapeOf(p.phone), `${voice}: flite's phone "${p.phone}" has no viseme`);
      for (let i = 1; i < phones.length; i++) assert.ok(phones[i]!.start === phones[i - 1]!.end && phones[i]!.end >= phones[i]!.start, `${voice}: phone ${i} out of order`);
      // Three sentences: flite times each from its own start; the track runs on across them to the audio's end.
      assert.ok(Math.abs(phones.at(-1)!.end - seconds) < 0.05, `${voice}: phones end at ${phones.at(-1)!.end} s, audio lasts ${seconds} s`);
      assert.equal(phones.filter((p) => p.phone === 'pau').length >= 4, true);
    }
  });

  it('renders a short talk whose mouth opens and closes with the speech, with its sound, durations within a frame, audited', async () => {
    const home = join(dir, 'home');
    const output = join(dir, 'talk.mp4');
    const plan = await planTalkJob({ face: join(FIXTURES, 'grace_hopper.jpg'), text: 'Hello, I am Bob. Papa made a map.', voice: 'kal16', output, marks: { label: true }, home });
    const result = await runTalkJob(plan, { open: (runtime) => createNodeSwapper({ ...runtime, home: TEST_HOME }) });
    assert.equal(result.drivenBy, 'flite');
    assert.equal(result.framesWithFace, result.frames);
    assert.ok(result.durationSeconds > 1 && result.durationSeconds < 3.5, `${result.durationSeconds} s`);

    const measured = await measureTalk(output, swapper);
    assert.equal(measured.frames, result.frames);
    assert.equal(measured.facesFound, measured.frames);
    assert.ok(measured.audioSeconds > 1, 'the file has its sound');
    assert.ok(Math.abs(measured.audioSeconds - measured.videoSeconds) <= 1 / result.fps, `audio ${measured.audioSeconds} s, video ${measured.videoSeconds} s`);
    // Up and down: closed in the pauses, open on the vowels, following the plan and the sound.
    const mouth = Array.from(measured.mouth);
    assert.ok(Math.min(...mouth) < 0.05 && Math.max(...mouth) > 0.15, `mouth opening from ${Math.min(...mouth)} to ${Math.max(...mouth)}`);
    const planned = pearson(measured.mouth, result.mouth);
    assert.ok(planned > 0.8, `measured vs planned opening: r = ${planned}`);
    assert.ok(measured.sync.bestCorrelation > 0.5, `mouth vs speech envelope: r = ${measured.sync.bestCorrelation}`);
    assert.ok(Math.abs(measured.sync.bestOffset) <= 0.08, `best offset ${measured.sync.bestOffset} s`);

    const audit = readFileSync(join(home, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { options: { talk?: boolean }; watermarkId: string });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.options.talk, true);
    assert.equal(audit[0]!.watermarkId, result.published.watermarkId);
  });

  it('moves the mouth with the loudness of bare audio', async () => {
    // One second of "syllables": a voiced tone switched on and off four times.
    const samples = new Float32Array(SPEECH_RATE * 1.2);
    for (let i = 0; i < samples.length; i++) {
      const t = i / SPEECH_RATE;
      const on = t > 0.1 && t < 1.1 && Math.sin(2 * Math.PI * 4 * (t - 0.1)) > 0;
      samples[i] = on ? 0.4 * Math.sin(2 * Math.PI * 180 * t) + 0.2 * Math.sin(2 * Math.PI * 360 * t) : 0;
    }
    const audio = join(dir, 'bursts.wav');
    await writeWav(audio, samples, SPEECH_RATE);
    const output = join(dir, 'bursts.mp4');
    const plan = await planTalkJob({ face: join(FIXTURES, 'grace_hopper.jpg'), audio, output, marks: { label: true }, home: join(dir, 'home2') });
    const result = await runTalkJob(plan, { open: (runtime) => createNodeSwapper({ ...runtime, home: TEST_HOME }) });
    assert.equal(result.drivenBy, 'audio envelope');
    assert.equal(result.frames, 30);
    const measured = await measureTalk(output, swapper);
    assert.ok(measured.sync.bestCorrelation > 0.6, `r = ${measured.sync.bestCorrelation}`);
    assert.ok(Math.abs(measured.audioSeconds - measured.videoSeconds) <= 1 / result.fps);
  });
});

/**
 * `liveswap live --output whep`: WebRTC playback in headless Chromium, end to end. Chromium
 * gathers no ICE candidates on a loopback-only host, so the run and the browser go into a fresh
 * network namespace with a veth pair (root and `unshare`/`ip` needed; skipped with the reason
 * otherwise); test/helpers/whep-viewer.ts does the work there and reports what it saw.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../cli/run-cli.js';
import { browserSkipReason } from '../helpers/browser.js';
import { makeClip } from '../helpers/clips.js';
import { homeWithModels, warmModels } from '../helpers/video-jobs.js';
import { namespaceSkipReason, runInNamespace } from '../helpers/netns.js';

const skip = browserSkipReason() ?? namespaceSkipReason();

describe('liveswap live --output whep', { skip }, () => {
  let dir: string;
  let home: string;
  let clip: string;

  before(async () => {
    await warmModels();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-whep-'));
    home = await homeWithModels(join(dir, 'home'));
    // 12 s, so that the sound measured comes before the loop's seam (where ffmpeg can hold a looped
    // file's sound back; what comes that late is dropped, see webrtc-audio.ts).
    clip = await makeClip({ dir, width: 320, height: 240, fps: 25, frames: 300, motion: 'zoom', audioHz: 440 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('plays the swapped, labelled stream in Chromium over WebRTC, and refuses what it should', () => {
    const viewer = join(REPO_ROOT, 'test', 'helpers', 'whep-viewer.ts');
    const run = runInNamespace(viewer, [home, clip], 150_000);
    assert.equal(run.status, 0, `${run.error?.message ?? ''} ${run.signal ?? ''} ${run.stderr} ${run.stdout}`);
    const seen = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.equal(seen.error, undefined, JSON.stringify(seen));
    assert.match(String(seen.url), /^http:\/\/127\.0\.0\.1:\d+\/whep$/);
    assert.equal(seen.notSdp, 415);
    assert.equal(seen.foreign, 403, 'a page of another origin cannot watch');
    assert.equal(seen.badOffer, 400);
    assert.equal(seen.patch, 405, 'no trickle ICE');
    assert.equal(seen.deleteUnknown, 404);
    assert.deepEqual(seen.size, [320, 240]);
    assert.equal(seen.label, true, 'the played picture carries the label');
    assert.ok(Number(seen.framesIn2s) >= 5, `frames shown in 2 s: ${String(seen.framesIn2s)}`);
    // The clip's sound came with the pictures: packets, decoded samples with energy (a tone, not silence).
    const audio = seen.audio as { packets: number; samples: number; energy: number; concealed: number; jbd: number; emitted: number } | null;
    assert.ok(audio, 'the player received an audio track');
    assert.ok(audio.packets >= 50, `audio packets: ${audio.packets}`);
    assert.ok(audio.samples > 48_000, `samples decoded: ${audio.samples}`);
    // Energy accrues while the sound plays (here the 1.5 s after the click): a tone at an eighth of
    // full scale gives about 0.008 a second, silence 0.
    assert.ok(audio.energy > 0.003, `energy of the sound received: ${JSON.stringify(seen)}`);
    assert.match(String(seen.sound), /^(on|muted)$/, 'the player turned the sound on, or offers a click to');
    // Over the last seconds nearly every sample played was received, not concealed.
    const before = seen.audioBefore as typeof audio;
    assert.ok(before);
    const played = audio.samples - before.samples;
    assert.ok(audio.concealed - before.concealed <= 0.1 * played, `concealed ${audio.concealed - before.concealed} of ${played} samples`);
    // And the player holds little of it: sound sent in a burst (once, all that was held while the
    // first frames came) stays in its jitter buffer as delay (1.1 s, before that was let go).
    const buffered = (audio.jbd - before.jbd) / (audio.emitted - before.emitted);
    assert.ok(buffered < 0.3, `the player buffered ${buffered.toFixed(3)} s of sound`);
    assert.deepEqual(seen.quiet, { audio: null, sound: 'none' }, 'a player that asks for pictures only (?audio=0) gets no sound');
    const output = seen.output as { state: string; frames: number };
    assert.equal(output.state, 'finished');
    assert.ok(output.frames >= 30, `frames sent: ${output.frames}`);
  });
});

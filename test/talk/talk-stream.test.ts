/**
 * The live talking face (node/jobs/talk-stream.ts) without a server: frames are never sent more
 * than the lead ahead of the stream's clock (measured against the run's own start, so a busy
 * machine can only make them later), every frame's time gets its audio (silence while idle, the
 * speech where it was placed), speech queued while speech plays starts where it ends, the mouth
 * opens only while there is speech, a talk ended with nothing queued closes at once, and the
 * caller's PCM and flite's WAV are brought to 48 kHz.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';
import { pcmToSpeechRate, STREAM_LEAD_SECONDS, TalkStream } from '../../src/node/jobs/talk-stream.js';
import { readPcmWav, SPEECH_RATE, writeWav } from '../../src/node/jobs/talk-speech.js';
import { FrameMarker } from '../../src/provenance/marks.js';
import { decodeRgb, FIXTURES, TEST_HOME } from '../helpers/fixtures.js';
import { join } from 'node:path';
import type { Image } from '../../src/core/image.js';

const KEY = new Uint8Array(32).fill(7);

/** A voiced tone of `seconds`, at 48 kHz. */
function tone(seconds: number): Float32Array {
  const samples = new Float32Array(Math.round(seconds * SPEECH_RATE));
  for (let i = 0; i < samples.length; i++) samples[i] = 0.4 * Math.sin((2 * Math.PI * 170 * i) / SPEECH_RATE);
  return samples;
}

describe('the live talking face', () => {
  let face: Image;
  before(async () => {
    face = await decodeRgb(join(FIXTURES, 'grace_hopper.jpg'));
  });
  const streams: TalkStream[] = [];
  after(async () => {
    for (const stream of streams) await stream.close();
  });
  const open = async (): Promise<TalkStream> => {
    const stream = await TalkStream.open({
      face,
      fps: 20,
      size: 200,
      marker: new FrameMarker({ label: {}, watermark: { key: KEY, payload: { assetId: 1, version: 1 } }, media: 'video' }),
      open: (runtime) => createNodeSwapper({ ...runtime, home: TEST_HOME }),
    });
    streams.push(stream);
    return stream;
  };

  it('paces frames to the clock, gives every frame its audio, and places speech after speech', async () => {
    const stream = await open();
    assert.ok(stream.width <= 200 && stream.height <= 200 && stream.width % 2 === 0 && stream.height % 2 === 0, `${stream.width}x${stream.height}`);
    const sent: { t: number; at: number }[] = [];
    const audio: { t: number; pcm: Buffer }[] = [];
    const running = (async () => {
      // Speech arrives while the face is idle, then more while it still speaks.
      await new Promise((r) => setTimeout(r, 300));
      const first = stream.addSpeech(tone(0.5), [{ phone: 'aa', start: 0, end: 0.5 }]);
      const second = stream.addSpeech(tone(0.3));
      stream.end();
      return { first, second };
    })();
    const started = performance.now();
    const summary = await stream.run({
      audio: (t, pcm) => void audio.push({ t, pcm }),
      video: (t) => void sent.push({ t, at: performance.now() }),
    });
    const { first, second } = await running;
    assert.ok(first.startFrame >= 1, 'speech starts at a frame not yet shown');
    assert.equal(second.startFrame, first.startFrame + first.frames, 'the second chunk starts where the first ends');
    assert.equal(summary.seconds, (second.startFrame + second.frames + 1) / 20, 'the stream ends one frame after the speech');
    // Never more than the lead ahead of the clock (the run starts its clock just after `started`).
    for (const frame of sent) assert.ok((frame.at - started) / 1000 >= frame.t - STREAM_LEAD_SECONDS - 0.005, `frame ${frame.t} sent at ${(frame.at - started) / 1000} s`);
    // One frame's audio for every frame's time, sent or skipped.
    assert.equal(audio.length, Math.round(summary.seconds * 20));
    const samples = audio.reduce((n, a) => n + a.pcm.length / 2, 0);
    assert.equal(samples, Math.round(summary.seconds * SPEECH_RATE));
    const loud = (a: { pcm: Buffer }): boolean => {
      let peak = 0;
      for (let i = 0; i < a.pcm.length; i += 2) peak = Math.max(peak, Math.abs(a.pcm.readInt16LE(i)));
      return peak > 1000;
    };
    audio.forEach((a, f) => {
      const speaking = f >= first.startFrame && f < second.startFrame + second.frames;
      assert.equal(loud(a), speaking, `frame ${f}: ${speaking ? 'speech' : 'silence'} expected`);
    });
    assert.equal(summary.frames + summary.skipped, audio.length);
    assert.ok(
      first.mouth.open.some((v) => v > 0.3),
      'the mouth opens on "aa"',
    );
  });

  it('ends at once when nothing is queued, and brings PCM to 48 kHz', async () => {
    const stream = await open();
    stream.end();
    const summary = await stream.run({ audio: () => undefined, video: () => undefined });
    assert.equal(summary.frames + summary.skipped, 1);
    const pcm = new Uint8Array(2 * 16000);
    const view = new DataView(pcm.buffer);
    for (let i = 0; i < 16000; i++) view.setInt16(2 * i, Math.round(10000 * Math.sin((2 * Math.PI * 100 * i) / 16000)), true);
    const up = pcmToSpeechRate(pcm, 16000);
    assert.equal(up.length, 48000);
    assert.ok(Math.abs(up[3 * 40]! - view.getInt16(80, true) / 32768) < 1e-6);
    // flite's WAV read without ffmpeg: the same samples at 48 kHz; anything but 16-bit mono PCM is left to ffmpeg.
    const dir = await mkdtemp(join(tmpdir(), 'liveswap-talk-stream-'));
    try {
      const wav = join(dir, 'x.wav');
      await writeWav(
        wav,
        Float32Array.from({ length: 1600 }, (_, i) => 0.5 * Math.sin(i / 5)),
        16000,
      );
      const read = readPcmWav(await readFile(wav))!;
      assert.equal(read.length, 4800);
      assert.ok(Math.abs(read[300]! - 0.5 * Math.sin(100 / 5)) < 1e-3);
      assert.equal(readPcmWav(Buffer.from('RIFF....WAVEfmt ')), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.throws(() => pcmToSpeechRate(pcm, 8000), /sampleRate must be one of/);
    assert.throws(() => pcmToSpeechRate(pcm.subarray(1), 16000), /odd byte count/);
  });
});

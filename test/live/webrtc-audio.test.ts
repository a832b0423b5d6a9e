import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUDIO_FRAME_SAMPLES, AudioPacer, LATE_MS, MAX_DRIFT, MAX_HELD_MS, SETTLE_FRAMES, SLACK_MS } from '../../src/node/live/webrtc-audio.js';

const RATE = 48_000;
/** The value the left channel of sample `n` holds in {@link counting} sound (never 0, which is silence). */
const value = (n: number): number => (n % 32767) + 1;
/** The values of the frames starting at these times (s) of the run's sound. */
const at = (...seconds: number[]): number[] => seconds.map((t) => value(Math.round(t * RATE)));
/** `ms` of stereo sound from sample `from` on, each left sample saying its number. */
function counting(from: number, ms: number): Buffer {
  const samples = (ms * RATE) / 1000;
  const pcm = Buffer.alloc(samples * 4);
  for (let i = 0; i < samples; i++) pcm.writeInt16LE(value(from + i), i * 4);
  return pcm;
}

/** Shows SETTLE_FRAMES frames from `slot` on, each `lag` ms after its moment with moment 0 at `zero`; the last at the returned time. */
function settle(p: AudioPacer, zero: number, lag = 0, slot = 0): number {
  let now = 0;
  for (let i = 0; i < SETTLE_FRAMES; i++) p.shown(slot + i, (now = zero + (slot + i) * 40 + lag));
  return now;
}

function pacer(delayMs = 0): { pacer: AudioPacer; sent: number[] } {
  const sent: number[] = [];
  return { pacer: new AudioPacer({ fps: 25, delayMs, send: (samples) => sent.push(samples[0]!) }), sent };
}

describe('AudioPacer (the sound of WebRTC viewers)', () => {
  it('sends nothing until the first frames have set its clock, then one frame for each 10 ms, at its moment plus the slack', () => {
    const { pacer: p, sent } = pacer();
    p.push(counting(0, 2000), 0);
    p.shown(0, 1000);
    p.tick(10_000);
    assert.deepEqual(sent, [], 'one frame does not set the clock');
    // Moment 0 reaches the viewers at 1000 ms; the 25th frame (slot 24, 0.96 s) at 1960 ms sets the
    // clock. The sound held for the moments before then is let go, not sent at once.
    settle(p, 1000, 0, 1);
    p.tick(1960 + SLACK_MS);
    assert.deepEqual(sent, at(0.96), 'the frame due now, at its moment');
    p.tick(1960 + SLACK_MS + 45);
    assert.deepEqual(sent, at(0.96, 0.97, 0.98, 0.99, 1.0), 'then each frame once its moment has come');
    assert.equal(AUDIO_FRAME_SAMPLES, 480);
    assert.equal(p.stats.sent, 5);
  });

  it('sets its clock by the median of the first frames, not by the slow ones while the models warm up', () => {
    const { pacer: p, sent } = pacer();
    // Three frames 700 ms late, the rest 200 ms: moment 0 is taken to reach viewers at 200 ms.
    for (let i = 0; i < SETTLE_FRAMES; i++) p.shown(i, i * 40 + (i < 3 ? 700 : 200));
    p.push(counting(0, 100), 0);
    p.tick(200 + SLACK_MS - 1);
    assert.deepEqual(sent, [0], 'the 10 ms before the sound: silence');
    p.tick(200 + SLACK_MS);
    assert.deepEqual(sent, [0, ...at(0)]);
  });

  it('moves its clock by at most 1 % of the time passed when the pictures come later', () => {
    const { pacer: p, sent } = pacer();
    settle(p, 0);
    // From frame 25 on every picture comes 300 ms later than before, for 10.3 s (the last frame of
    // the settling was shown at 960 ms, the last of these at 11 260 ms).
    for (let i = SETTLE_FRAMES; i < SETTLE_FRAMES + 250; i++) p.shown(i, i * 40 + 300);
    const moved = MAX_DRIFT * (11_260 - 960);
    assert.ok(Math.abs(moved - 103) < 1e-9);
    p.push(counting(12_000 * 48, 20), 12_000 * 48);
    const due = 12_000 + moved + SLACK_MS;
    p.tick(due - 15);
    p.tick(due - 0.5);
    assert.deepEqual(
      sent.filter((v) => v !== 0),
      [],
      'the clock moved by at most 103 ms over the 10.3 s, not the 300 ms the frames moved',
    );
    p.tick(due + 0.5);
    assert.deepEqual(
      sent.filter((v) => v !== 0),
      at(12),
    );
  });

  it('places the sound later by the run audio delay', () => {
    const { pacer: p, sent } = pacer(100);
    settle(p, 500);
    p.push(counting(0, 100), 0);
    p.tick(500 + 100 + SLACK_MS - 1);
    assert.deepEqual(sent, [0]);
    p.tick(500 + 100 + SLACK_MS);
    assert.deepEqual(sent, [0, ...at(0)]);
  });

  it('fills a gap in the sound with silence, skips what it has had, and keeps the rest in step', () => {
    const { pacer: p, sent } = pacer();
    settle(p, 0);
    p.push(counting(0, 20), 0);
    p.push(counting(480, 20), 480); // overlaps the first by 10 ms
    p.push(counting(2400, 20), 2400); // 20 ms after the last ends: a gap
    p.tick(SLACK_MS);
    p.tick(SLACK_MS + 60);
    assert.deepEqual(sent, [...at(0, 0.01, 0.02), 0, 0, ...at(0.05, 0.06)]);
  });

  it('sends every sample as it came, whole frames cut across chunks of any size', () => {
    const frames: Int16Array[] = [];
    const p = new AudioPacer({ fps: 25, delayMs: 0, send: (samples) => frames.push(samples) });
    settle(p, 0);
    // Chunks of 7 ms (336 samples), which never line up with the 10-ms frames, and the right channel marked too.
    for (let from = 0; from < 4800; from += 336) {
      const pcm = counting(from, 7);
      for (let i = 0; i < 336; i++) pcm.writeInt16LE(-value(from + i), i * 4 + 2);
      p.push(pcm, from);
    }
    p.tick(SLACK_MS);
    p.tick(SLACK_MS + 95);
    assert.equal(frames.length, 10);
    frames.forEach((frame, f) => {
      assert.equal(frame.length, 2 * AUDIO_FRAME_SAMPLES);
      for (let i = 0; i < AUDIO_FRAME_SAMPLES; i++) {
        const n = f * AUDIO_FRAME_SAMPLES + i;
        assert.ok(frame[2 * i] === value(n) && frame[2 * i + 1] === -value(n), `frame ${f}, sample ${i}: ${frame[2 * i]}, ${frame[2 * i + 1]}`);
      }
    });
    assert.equal(p.stats.sent, 10);
  });

  it('sends silence for sound that has not come by its moment, and lets it go when it comes late', () => {
    const { pacer: p, sent } = pacer();
    settle(p, 0);
    p.push(counting(0, 10), 0);
    p.tick(SLACK_MS);
    p.tick(SLACK_MS + 40);
    assert.deepEqual(sent, [...at(0), 0, 0, 0, 0], 'the frames from 10 ms on had no sound yet: silence, on time');
    // Their sound comes now, late; the cadence goes on from 50 ms.
    p.push(counting(480, 50), 480);
    p.tick(SLACK_MS + 50);
    assert.deepEqual(sent, [...at(0), 0, 0, 0, 0, ...at(0.05)]);
    assert.equal(p.stats.late, 4, 'four frames of sound let go');
    assert.equal(p.stats.silent, 4);
  });

  it('sends what it owes after a short stall, and starts again from now after a long one', () => {
    const { pacer: p, sent } = pacer();
    settle(p, 0);
    p.push(counting(0, 1000), 0);
    p.tick(SLACK_MS);
    p.tick(SLACK_MS + LATE_MS - 50);
    assert.equal(sent.length, 1 + (LATE_MS - 50) / 10, 'a stall shorter than LATE_MS: every frame owed goes');
    p.tick(SLACK_MS + LATE_MS - 50 + LATE_MS + 100);
    assert.deepEqual(sent.slice(-1), at((2 * LATE_MS + 50) / 1000), 'a longer one: only the frame due now');
  });

  it('holds at most a few seconds before its clock is set, and drains after the end', () => {
    const { pacer: p, sent } = pacer();
    for (let ms = 0; ms < MAX_HELD_MS + 2000; ms += 100) p.push(counting((ms * RATE) / 1000, 100), (ms * RATE) / 1000);
    p.end();
    // The oldest two seconds were let go while held (the sound kept starts 2 s in), then what was
    // due before the clock was set (frames 50–74, the last shown at 3960 ms: moments to 2.96 s).
    settle(p, 1000, 0, 50);
    p.tick(3960 + SLACK_MS);
    assert.deepEqual(sent, at(2.96));
    assert.equal(p.drained, false);
    p.tick(1000 + SLACK_MS + MAX_HELD_MS + 2000);
    assert.equal(p.drained, true);
    const last = sent.length;
    p.tick(100_000);
    assert.equal(sent.length, last, 'nothing after the end, not even silence');
  });
});

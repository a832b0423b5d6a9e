import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUDIO_FRAME_SAMPLES, AudioPacer, LATE_MS, MAX_DRIFT, MAX_HELD_MS, SETTLE_FRAMES } from '../../src/node/live/webrtc-audio.js';

const RATE = 48_000;
/** `ms` of stereo sound whose left samples count up from `from` (so each frame says where it began). */
function counting(from: number, ms: number): Buffer {
  const samples = (ms * RATE) / 1000;
  const pcm = Buffer.alloc(samples * 4);
  for (let i = 0; i < samples; i++) pcm.writeInt16LE((from + i) % 32768, i * 4);
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
  it('sends nothing until the first frames have set its clock, then each 10 ms at the moment its picture is shown', () => {
    const { pacer: p, sent } = pacer();
    p.push(counting(0, 2000), 0);
    p.shown(0, 1000);
    p.tick(10_000);
    assert.deepEqual(sent, [], 'one frame does not set the clock');
    // Moment 0 reaches the viewers at 1000 ms; the 25th frame (slot 24, 0.96 s) at 1960 ms sets the
    // clock. The sound held for the moments before then is let go, not sent at once.
    settle(p, 1000, 0, 1);
    p.tick(1960);
    const first = (0.96 * RATE) % 32768;
    assert.deepEqual(sent, [first], 'the first 10 ms still to come, at its moment');
    p.tick(2005);
    assert.deepEqual(
      sent,
      [0, 480, 960, 1440, 1920].map((s) => first + s),
      'then each frame once its moment has come',
    );
    assert.equal(AUDIO_FRAME_SAMPLES, 480);
  });

  it('sets its clock by the median of the first frames, not by the slow ones while the models warm up', () => {
    const { pacer: p, sent } = pacer();
    // Three frames 700 ms late, the rest 200 ms: moment 0 is taken to reach viewers at 200 ms.
    for (let i = 0; i < SETTLE_FRAMES; i++) p.shown(i, i * 40 + (i < 3 ? 700 : 200));
    p.push(counting(0, 100), 0);
    p.tick(199);
    assert.deepEqual(sent, []);
    p.tick(200);
    assert.deepEqual(sent, [0]);
  });

  it('moves its clock by at most 1 % of the time passed when the pictures come later', () => {
    const { pacer: p, sent } = pacer();
    settle(p, 0);
    // From frame 25 on every picture comes 300 ms later than before, for 10.3 s (the last frame of
    // the settling was shown at 960 ms, the last of these at 11 260 ms).
    for (let i = SETTLE_FRAMES; i < SETTLE_FRAMES + 250; i++) p.shown(i, i * 40 + 300);
    const moved = MAX_DRIFT * (11_260 - 960);
    assert.ok(Math.abs(moved - 103) < 1e-9);
    p.push(counting(0, 20), 12_000 * 48);
    p.tick(12_000 + moved - 0.5);
    assert.deepEqual(sent, [], 'the clock moved by at most 103 ms over the 10.3 s, not the 300 ms the frames moved');
    p.tick(12_000 + moved + 0.5);
    assert.equal(sent.length, 1);
  });

  it('places the sound later by the run audio delay', () => {
    const { pacer: p, sent } = pacer(100);
    settle(p, 500);
    p.push(counting(0, 100), 0);
    p.tick(599);
    assert.deepEqual(sent, []);
    p.tick(600);
    assert.deepEqual(sent, [0]);
  });

  it('skips what it has had, fills a gap with silence and keeps the rest in step', () => {
    const { pacer: p, sent } = pacer();
    settle(p, 0);
    p.push(counting(0, 20), 0);
    p.push(counting(480, 20), 480); // overlaps the first by 10 ms
    p.push(counting(2400, 20), 2400); // 20 ms after the last ends: a gap
    p.tick(100);
    assert.deepEqual(sent, [0, 480, 960, 0, 0, 2400, 2880]);
  });

  it('sends a late burst (a looped file) but drops sound later than it can still play', () => {
    const { pacer: p, sent } = pacer();
    settle(p, 0);
    p.push(counting(0, 40), 0);
    p.tick(LATE_MS - 100);
    assert.equal(sent.length, 4, 'up to LATE_MS behind, still sent');
    p.push(counting(1920, 20), 1920);
    p.tick(10_000);
    assert.equal(sent.length, 4, 'far too late: dropped');
    assert.equal(p.stats.late, 2);
  });

  it('holds at most a few seconds before its clock is set, and drains after the end', () => {
    const { pacer: p, sent } = pacer();
    for (let ms = 0; ms < MAX_HELD_MS + 2000; ms += 100) p.push(counting((ms * RATE) / 1000, 100), (ms * RATE) / 1000);
    p.end();
    // The oldest two seconds were let go while held (the sound kept starts 2 s in), then what
    // was due before the clock was set (frames 50–74, the last shown at 3960 ms: moments to 2.96 s).
    settle(p, 1000, 0, 50);
    p.tick(3960);
    assert.deepEqual(sent, [(2.96 * RATE) % 32768]);
    assert.equal(p.drained, false);
    p.tick(1000 + MAX_HELD_MS + 2000);
    assert.equal(p.drained, true);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUDIO_FRAME_SAMPLES, AudioPacer, LATE_MS, MAX_HELD_MS } from '../../src/node/live/webrtc-audio.js';

const RATE = 48_000;
/** `ms` of stereo sound whose left samples count up from `from` (so each frame says where it began). */
function counting(from: number, ms: number): Buffer {
  const samples = (ms * RATE) / 1000;
  const pcm = Buffer.alloc(samples * 4);
  for (let i = 0; i < samples; i++) pcm.writeInt16LE((from + i) % 32768, i * 4);
  return pcm;
}

function pacer(delayMs = 0): { pacer: AudioPacer; sent: number[] } {
  const sent: number[] = [];
  return { pacer: new AudioPacer({ fps: 25, delayMs, send: (samples) => sent.push(samples[0]!) }), sent };
}

describe('AudioPacer (the sound of WebRTC viewers)', () => {
  it('sends nothing before the first picture, then each 10 ms at the moment its picture is shown', () => {
    const { pacer: p, sent } = pacer();
    p.push(counting(0, 200), 0);
    p.tick(10_000);
    assert.deepEqual(sent, [], 'no picture shown yet: the sound waits');
    // Slot 5 (0.2 s) is shown at t = 1200 ms: the timeline's moment 0 reaches viewers at 1000 ms.
    p.shown(5, 1200);
    p.tick(1000);
    assert.deepEqual(sent, [0], 'the first 10 ms at its moment');
    p.tick(1045);
    assert.deepEqual(sent, [0, 480, 960, 1440, 1920], 'then each frame once its moment has come');
    assert.equal(AUDIO_FRAME_SAMPLES, 480);
  });

  it('places the sound later by the run audio delay', () => {
    const { pacer: p, sent } = pacer(100);
    p.push(counting(0, 100), 0);
    p.shown(0, 500);
    p.tick(599);
    assert.deepEqual(sent, []);
    p.tick(600);
    assert.deepEqual(sent, [0]);
  });

  it('skips what it has had, fills a gap with silence and keeps the rest in step', () => {
    const { pacer: p, sent } = pacer();
    p.shown(0, 0);
    p.push(counting(0, 20), 0);
    p.push(counting(480, 20), 480); // overlaps the first by 10 ms
    p.push(counting(2400, 20), 2400); // 20 ms after the last ends: a gap
    p.tick(100);
    assert.deepEqual(sent, [0, 480, 960, 0, 0, 2400, 2880]);
  });

  it('sends a late burst (a looped file) but drops sound later than it can still play', () => {
    const { pacer: p, sent } = pacer();
    p.shown(0, 0);
    p.push(counting(0, 40), 0);
    p.tick(LATE_MS - 100);
    assert.equal(sent.length, 4, 'up to LATE_MS behind, still sent');
    p.push(counting(1920, 20), 1920);
    p.tick(10_000);
    assert.equal(sent.length, 4, 'far too late: dropped');
    assert.equal(p.stats.late, 2);
  });

  it('holds at most a few seconds before the first picture, and drains after the end', () => {
    const { pacer: p, sent } = pacer();
    for (let ms = 0; ms < MAX_HELD_MS + 2000; ms += 100) p.push(counting((ms * RATE) / 1000, 100), (ms * RATE) / 1000);
    p.end();
    // The oldest two seconds were let go: the held sound starts 2 s in.
    p.shown(50, 3000); // moment 0 at 1000 ms
    p.tick(3000 + 5);
    assert.equal(sent[0], (2 * RATE) % 32768);
    assert.equal(p.drained, false);
    p.tick(1000 + MAX_HELD_MS + 2000);
    assert.equal(p.drained, true);
  });
});

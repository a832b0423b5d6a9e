/**
 * The viseme timeline: known phones give the expected mouth openings over time (closed at p/b/m
 * and in pauses, open at vowels, rounded and spread where the vowel asks), ramps without jumps;
 * phone tracks parse with clear errors; the speech envelope drives the mouth for bare audio.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { idleMotion, mouthFromEnvelope, mouthFromPhones, speechEnvelope } from '../../src/pipeline/talk-timeline.js';
import { parseFlitePhones, parsePhoneTrack, shapeOf, type TimedPhone } from '../../src/pipeline/talk-visemes.js';

/** "(pause) m-aa-p-iy (pause)": silence, a closure, an open vowel, a closure, a spread vowel, silence. */
const PHONES: TimedPhone[] = parseFlitePhones('pau:0.300 m:0.380 aa:0.600 p:0.680 iy:0.900 uw:1.100 pau:1.500');

const at = (values: Float32Array, fps: number, t: number): number => values[Math.round(t * fps)]!;

describe('mouthFromPhones', () => {
  const fps = 100;
  const track = mouthFromPhones(PHONES, fps, 150);

  it('keeps the lips closed in pauses and at p/b/m, open at vowels', () => {
    for (let t = 0; t <= 0.22; t += 0.01) assert.ok(at(track.open, fps, t) < 0.01, `open ${at(track.open, fps, t)} at ${t} s in the first pause`);
    for (let t = 1.2; t < 1.5; t += 0.01) assert.ok(at(track.open, fps, t) < 0.01, `open ${at(track.open, fps, t)} at ${t} s in the last pause`);
    assert.ok(at(track.open, fps, 0.33) < 0.02, `m: ${at(track.open, fps, 0.33)}`);
    assert.ok(at(track.open, fps, 0.63) < 0.02, `p: ${at(track.open, fps, 0.63)}`);
    assert.ok(at(track.open, fps, 0.49) > 0.75, `aa: ${at(track.open, fps, 0.49)}`);
    assert.ok(at(track.open, fps, 0.78) > 0.2 && at(track.open, fps, 0.78) < 0.45, `iy: ${at(track.open, fps, 0.78)}`);
  });

  it('spreads the lips for iy and rounds them for uw', () => {
    assert.ok(at(track.wide, fps, 0.78) > 0.5, `iy wide ${at(track.wide, fps, 0.78)}`);
    assert.ok(at(track.round, fps, 0.98) > 0.7, `uw round ${at(track.round, fps, 0.98)}`);
    assert.ok(at(track.round, fps, 0.49) < 0.1);
  });

  it('ramps between shapes over tens of milliseconds, never jumps', () => {
    let steepest = 0;
    for (let i = 1; i < track.open.length; i++) steepest = Math.max(steepest, Math.abs(track.open[i]! - track.open[i - 1]!));
    assert.ok(steepest < 0.2, `steepest step per 10 ms: ${steepest}`);
    // The opening into aa takes several frames: partly open 30 ms before the vowel's middle is reached.
    const rising = [0.4, 0.42, 0.44, 0.46].map((t) => at(track.open, fps, t));
    for (let i = 1; i < rising.length; i++) assert.ok(rising[i]! >= rising[i - 1]!, `rising into aa: ${rising.join(', ')}`);
    assert.ok(rising[0]! < rising[3]! && rising[0]! > 0.05, `ramp: ${rising.join(', ')}`);
    const at25 = mouthFromPhones(PHONES, 25, 38);
    for (let i = 1; i < at25.open.length; i++) assert.ok(Math.abs(at25.open[i]! - at25.open[i - 1]!) < 0.6, `step at 25 fps frame ${i}`);
  });

  it('moves the mouth slightly ahead of the sound (anticipation)', () => {
    const early = mouthFromPhones(PHONES, fps, 150, { lead: 0.04 });
    const none = mouthFromPhones(PHONES, fps, 150, { lead: 0 });
    assert.ok(at(early.open, fps, 0.36) > at(none.open, fps, 0.36));
  });
});

describe('phone tracks', () => {
  it('reads flite output, text lines and JSON, stress digits and viseme names', () => {
    assert.deepEqual(
      parseFlitePhones('pau:0.220 hh:0.295 ax:0.342\n').map((p) => [p.phone, p.start, p.end]),
      [
        ['pau', 0, 0.22],
        ['hh', 0.22, 0.295],
        ['ax', 0.295, 0.342],
      ],
    );
    const text = parsePhoneTrack('# a comment\npau 0.2\nHH 0.25\nAA1 0.5 # open\nPP 0.6\n', 'track.txt');
    assert.deepEqual(
      text.map((p) => p.phone),
      ['pau', 'HH', 'AA1', 'PP'],
    );
    assert.equal(text[2]!.start, 0.25);
    assert.equal(shapeOf('AA1')!.viseme, 'aa');
    assert.equal(shapeOf('PP')!.viseme, 'PP');
    const json = parsePhoneTrack('[{"phone":"m","end":0.1},{"phone":"ow","end":"0.4"}]', 'track.json');
    assert.deepEqual(
      json.map((p) => [p.phone, p.end]),
      [
        ['m', 0.1],
        ['ow', 0.4],
      ],
    );
    assert.equal(parsePhoneTrack('{"phones":[{"phone":"sil","end":1}]}', 't.json').length, 1);
  });

  it('says which line is wrong and why', () => {
    const fails = (text: string, pattern: RegExp) =>
      assert.throws(
        () => parsePhoneTrack(text, 'track.txt'),
        (e: unknown) => e instanceof LiveswapError && e.kind === 'usage' && pattern.test(e.message),
      );
    fails('pau 0.2\nqq 0.3\n', /line 2: "qq" is neither an ARPAbet phone/);
    fails('pau 0.2\naa 0.1\n', /line 2: the end time 0.1 s of "aa" is before/);
    fails('pau\n', /line 1: expected "phone end_seconds"/);
    fails('aa -1\n', /end time of "aa" must be seconds/);
    fails('\n# only a comment\n', /holds no phones/);
    fails('[{"phone": "aa", "end": 0.1}, 3]', /item 2 is not an object/);
    fails('[{"phone": "aa"', /not valid JSON/);
  });
});

describe('bare audio and idle motion', () => {
  it('follows the envelope: open in bursts of sound, closed in silence', () => {
    const rate = 16000;
    const samples = new Float32Array(rate); // 1 s: sound in [0.2, 0.5), silence elsewhere
    for (let i = 0.2 * rate; i < 0.5 * rate; i++) samples[i] = 0.5 * Math.sin((2 * Math.PI * 220 * i) / rate);
    const envelope = speechEnvelope(samples, rate, 25, 25);
    const mouth = mouthFromEnvelope(envelope, 25);
    assert.ok(mouth.open[9]! > 0.6, `in the sound: ${mouth.open[9]}`);
    assert.ok(mouth.open[2]! < 0.01 && mouth.open[20]! < 0.01, `in silence: ${mouth.open[2]}, ${mouth.open[20]}`);
  });

  it('sways gently and blinks every few seconds', () => {
    let blinks = 0;
    let maxAngle = 0;
    let was = 0;
    for (let f = 0; f < 250; f++) {
      const m = idleMotion(f / 25);
      maxAngle = Math.max(maxAngle, Math.abs(m.angle));
      if (m.blink > 0.5 && was <= 0.5) blinks++;
      was = m.blink;
    }
    assert.ok(blinks >= 2 && blinks <= 5, `${blinks} blinks in 10 s`);
    assert.ok(maxAngle > 0.005 && maxAngle < (2 * Math.PI) / 180, `sway up to ${maxAngle} rad`);
  });
});

/**
 * Frames on their way to the server (src/browser/in-flight.ts): answered in the order sent, a frame
 * answered settling those before it, timers stopped as frames leave, outcomes handed over in order
 * even when they are ready out of order; and how many frames to keep on their way.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InFlightFrames, PipelineDepth } from '../../src/browser/in-flight.js';

describe('frames on their way', () => {
  it('answers a frame, reports those sent before it skipped, and stops the timers of the frames that left', async () => {
    const reported: string[] = [];
    const frames = new InFlightFrames<string>({ skipped: () => reported.push('skipped'), failed: (why) => reported.push(why) });
    frames.add(7, 'a', 20);
    frames.add(8, 'b', 20);
    frames.add(9, 'c', 20);
    assert.equal(frames.oldest(), 7);
    assert.equal(frames.answer(8), 'b');
    assert.equal(frames.answer(8), undefined, 'a repeat of an answer already taken answers nothing');
    assert.equal(frames.size, 1);
    assert.equal(frames.has(8), false);
    frames.add(9, 'c again');
    assert.equal(frames.answer(9), 'c again', 'a frame under a number still on its way replaces it');
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.deepEqual(reported, ['skipped'], 'frame 7 skipped; no timer of a frame that left fired');
  });

  it('fails a frame that gets no answer in time, with those sent before it, and every frame when the connection ends', async () => {
    const reported: string[] = [];
    const frames = new InFlightFrames<string>({ skipped: () => reported.push('skipped'), failed: (why) => reported.push(why) });
    frames.add(1, 'a');
    frames.add(2, 'b', 10);
    frames.add(3, 'c');
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(reported, ['No swapped frame came back within 0.01 s.', 'No swapped frame came back within 0.01 s.']);
    frames.add(4, 'd');
    frames.fail(undefined, 'The server ended the session.');
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(reported.slice(2), ['The server ended the session.', 'The server ended the session.'], 'frames 3 and 4');
    assert.equal(frames.size, 0);
    frames.add(5, 'e', 10);
    frames.clear();
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(reported.length, 4, 'a cleared book reports nothing');
  });

  it('hands outcomes over in the order given, whenever each is ready', async () => {
    const frames = new InFlightFrames<string>({ skipped: () => undefined, failed: () => undefined });
    const order: string[] = [];
    frames.deliver(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      order.push('first, slow');
    });
    frames.deliver(() => {
      throw new Error('a failed outcome does not stop the rest');
    });
    frames.deliver(() => void order.push('second, at once'));
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(order, ['first, slow', 'second, at once']);
  });

  it('keeps enough frames on their way to cover the round trip at the rate the server takes them, within its bounds', () => {
    const depth = (min: number, max: number, roundTrip: number, work: number): number => new PipelineDepth(min, max).after(roundTrip, work);
    assert.equal(depth(1, 3, 20, 10), 1, 'a round trip under a camera frame: one at a time');
    assert.equal(depth(1, 3, 50, 10), 2, '50 ms at 30 fps');
    assert.equal(depth(1, 4, 140, 25), 4, '140 ms of video legs and a quick server: as many as allowed');
    assert.equal(depth(2, 4, 150, 80), 2, 'a slow server sets the rate');
    assert.equal(depth(2, 4, 10, 5), 2, 'never under its least');
    const running = new PipelineDepth(1, 4);
    for (const roundTrip of [40, 40, 40, 400]) running.after(roundTrip, 10);
    assert.equal(running.after(40, 10), 2, 'from the median of the latest frames: one slow frame does not move it');
  });
});

/**
 * Frames on their way to the server (src/browser/in-flight.ts): answered in the order sent, a frame
 * answered settling those before it, timers stopped as frames leave, outcomes handed over in order
 * even when they are ready out of order; and how many frames to keep on their way.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InFlightFrames, PipelineDepth } from '../../src/browser/in-flight.js';

describe('frames on their way', () => {
  it('takes frames up to the one answered, oldest first, and stops their timers', async () => {
    const frames = new InFlightFrames<{ name: string; timer?: ReturnType<typeof setTimeout> }>();
    const fired: string[] = [];
    for (const [key, name] of [
      [7, 'a'],
      [8, 'b'],
      [9, 'c'],
    ] as const) {
      frames.add(key, { name, timer: setTimeout(() => fired.push(name), 20) });
    }
    assert.equal(frames.oldest(), 7);
    assert.deepEqual(
      frames.takeUpTo(8).map((f) => f.name),
      ['a', 'b'],
    );
    assert.equal(frames.size, 1);
    assert.equal(frames.has(8), false);
    frames.add(9, { name: 'c again' });
    assert.deepEqual(
      frames.takeUpTo(undefined).map((f) => f.name),
      ['c again'],
      'a frame under a number still on its way replaces it',
    );
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.deepEqual(fired, [], 'no timer of a frame that left fired');
  });

  it('hands outcomes over in the order given, whenever each is ready', async () => {
    const frames = new InFlightFrames<object>();
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

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createImage } from '../../src/core/image.js';
import { recyclingSink, type FrameSink } from '../../src/pipeline/frame-io.js';

describe('recyclingSink', () => {
  it("hands a frame's buffer back only once the sink has taken the frame, and passes close and abort on", async () => {
    const events: string[] = [];
    let release: () => void = () => undefined;
    const sink: FrameSink = {
      write: (_image, t) => {
        events.push(`write ${t}`);
        return new Promise((resolve) => (release = resolve));
      },
      close: async () => void events.push('close'),
      abort: async () => void events.push('abort'),
    };
    const given: Uint8ClampedArray[] = [];
    const recycling = recyclingSink(sink, (data) => given.push(data));
    const image = createImage(4, 2, 3);
    const written = recycling.write(image, 0.04);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(given, [], 'the encoder has not taken its copy yet');
    release();
    await written;
    assert.equal(given[0], image.data);
    await recycling.close();
    await recycling.abort();
    assert.deepEqual(events, ['write 0.04', 'close', 'abort']);
  });

  it('keeps the buffer when the sink refuses the frame', async () => {
    const sink: FrameSink = { write: () => Promise.reject(new Error('disk full')), close: async () => undefined, abort: async () => undefined };
    const given: Uint8ClampedArray[] = [];
    await assert.rejects(recyclingSink(sink, (data) => given.push(data)).write(createImage(2, 2, 3), 0), /disk full/);
    assert.deepEqual(given, []);
  });
});

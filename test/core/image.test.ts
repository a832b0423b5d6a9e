import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFloatImage, createImage, toFloatImage, writeFloatImage } from '../../src/core/image.js';

describe('float image helpers', () => {
  it('toFloatImage copies a rectangle and reuses a matching `out`', () => {
    const img = createImage(4, 3, 3);
    for (let i = 0; i < img.data.length; i++) img.data[i] = i;
    const f = toFloatImage(img, { x0: 1, y0: 1, x1: 3, y1: 3 });
    assert.deepEqual(Array.from(f.data), [15, 16, 17, 18, 19, 20, 27, 28, 29, 30, 31, 32]);
    const out = createFloatImage(2, 2, 3);
    assert.equal(toFloatImage(img, { x0: 0, y0: 0, x1: 2, y1: 2 }, out), out);
    assert.equal(toFloatImage(img).data.length, 36);
  });

  it('writeFloatImage rounds half to even (saturate_cast) or truncates (astype), clamping both', () => {
    const src = { width: 6, height: 1, channels: 1, data: Float32Array.from([0.5, 1.5, 2.7, -3, 300, 254.99]) };
    const a = createImage(8, 2, 1);
    writeFloatImage(a, src, 1, 1, 'round');
    assert.deepEqual(Array.from(a.data.subarray(9, 15)), [0, 2, 3, 0, 255, 255]);
    const b = createImage(6, 1, 1);
    writeFloatImage(b, src, 0, 0, 'truncate');
    assert.deepEqual(Array.from(b.data), [0, 1, 2, 0, 255, 254]);
    assert.throws(() => writeFloatImage(createImage(6, 1, 3), src, 0, 0), RangeError);
  });
});

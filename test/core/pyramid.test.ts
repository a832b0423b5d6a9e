import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pyrDown, pyrUp } from '../../src/core/pyramid.js';

// A 7×5 single-channel float image: (7x² + 13y + 5xy) mod 50.
const SRC = Float32Array.from({ length: 35 }, (_, i) => (7 * (i % 7) ** 2 + 13 * Math.floor(i / 7) + 5 * (i % 7) * Math.floor(i / 7)) % 50);

describe('pyrDown / pyrUp', () => {
  it('pyrDown equals cv2.pyrDown (opencv-python 4.6.0), odd sizes included', () => {
    const down = pyrDown(SRC, 7, 5, 1);
    assert.deepEqual(Array.from(down), [15.65625, 19.828125, 25, 22.3125, 25.265625, 26.8984375, 26.2109375, 24.890625, 23.9375, 30.0625, 29.765625, 29.03125]);
  });

  it('pyrUp equals cv2.pyrUp to an even size and to an odd size', () => {
    const down = pyrDown(SRC, 7, 5, 1);
    const even = [
      18.94287109375, 19.8271484375, 21.616943359375, 23.44921875, 24.546142578125, 24.1298828125, 23.250244140625, 22.95703125, 21.1865234375, 21.912109375, 23.28076171875,
      24.484375, 25.07470703125, 24.603515625, 23.85205078125, 23.6015625, 24.5263671875, 25.154296875, 26.10791015625, 26.45703125, 26.31494140625, 25.794921875, 25.26318359375,
      25.0859375, 25.5712890625, 26.541015625, 27.93408203125, 28.234375, 27.92138671875, 27.474609375, 27.08935546875, 26.9609375, 25.494384765625, 26.88525390625,
      28.9283447265625, 29.494140625, 29.2635498046875, 28.91748046875, 28.6146240234375, 28.513671875, 25.46875, 27, 29.259765625, 29.9140625, 29.7109375, 29.3984375,
      29.123046875, 29.03125,
    ];
    const up = pyrUp(down, 4, 3, 1, 8, 6);
    even.forEach((v, i) => assert.ok(Math.abs(up[i] - v) < 1e-4, `8×6 [${i}] ${up[i]} vs ${v}`));
    // cv2.pyrUp(down, dstsize=(7, 5)) is the 8×6 result cut to 7×5 (it does not re-mirror at the new edge).
    const odd = pyrUp(down, 4, 3, 1, 7, 5);
    for (let y = 0; y < 5; y++) for (let x = 0; x < 7; x++) assert.ok(Math.abs(odd[y * 7 + x] - even[y * 8 + x]) < 1e-4, `7×5 (${x}, ${y})`);
  });

  it('keeps constants constant through a reduction and an expansion, per channel', () => {
    const flat = new Float32Array(9 * 6 * 3);
    for (let i = 0; i < flat.length; i++) flat[i] = [10, 20, 30][i % 3];
    const down = pyrDown(flat, 9, 6, 3);
    assert.equal(down.length, 5 * 3 * 3);
    const up = pyrUp(down, 5, 3, 3, 9, 6);
    up.forEach((v, i) => assert.ok(Math.abs(v - [10, 20, 30][i % 3]) < 1e-4));
  });
});

/** Detail matching: a sharp patch over a soft target is softened; equal sharpness is left alone. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { boxBlurFast } from '../../src/core/filters.js';
import type { Image } from '../../src/core/image.js';
import { ScratchBuffers } from '../../src/core/scratch.js';
import { detailLevel, matchDetail } from '../../src/compose/detail.js';
import { seededRandom } from '../helpers/random.js';

const W = 96;

function texture(seed: number, blur: number): Image {
  const random = seededRandom(seed);
  const grey = Float32Array.from({ length: W * W }, () => 128 + 60 * (random() - 0.5));
  const soft = blur > 0 ? boxBlurFast(grey, W, W, 1, blur) : grey;
  const data = new Uint8ClampedArray(W * W * 4);
  for (let i = 0; i < W * W; i++) data.set([soft[i], soft[i] * 0.8, soft[i] * 0.7, 255], 4 * i);
  return { width: W, height: W, channels: 4, data };
}

describe('detail matching', () => {
  const mask = new Float32Array(W * W).fill(1);
  const scratch = new ScratchBuffers();

  test('a grainy patch over a soft target is blurred towards it', () => {
    const patch = texture(1, 0);
    const target = texture(2, 1.5);
    const before = detailLevel(patch, mask, scratch) / detailLevel(target, mask, scratch);
    const sigma = matchDetail(patch, target, mask, scratch);
    const after = detailLevel(patch, mask, scratch) / detailLevel(target, mask, scratch);
    assert.ok(sigma > 0, 'blurred');
    assert.ok(after < before * 0.7, `detail ratio ${before.toFixed(2)} → ${after.toFixed(2)}`);
  });

  test('a patch as sharp as the target, or softer, is untouched', () => {
    const patch = texture(3, 1);
    const copy = patch.data.slice();
    assert.equal(matchDetail(patch, texture(4, 1), mask, scratch), 0);
    assert.equal(matchDetail(patch, texture(5, 0), mask, scratch), 0);
    assert.deepEqual(patch.data, copy);
  });
});

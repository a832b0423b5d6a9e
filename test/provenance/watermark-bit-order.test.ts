/**
 * The bit-by-bit correlation (bit-order.ts), which the reader and the embedder share, gives exactly
 * the numbers of the plain slot-order correlation the reader used before (written out below as the
 * reference): the same block weights, per-bit weight sums and soft values, bit for bit, for host
 * coefficients and for host + a change on the low chips.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../helpers/watermark-clips.js';
import { BitCorrelator } from '../../src/provenance/watermark/bit-order.js';
import { blockWeight, BLOCKS, chipPattern, PER_BLOCK, SLOTS, type ChipPattern } from '../../src/provenance/watermark/pattern.js';

/** The reader's earlier correlation's buffers. */
class CorrelationScratch {
  readonly weights = new Float32Array(BLOCKS);
  readonly total = new Float64Array(64);
}

/** The reader's earlier correlation, slot by slot: per-block weights, then every chip scattered into its bit's float32 bin. */
function correlate(pattern: ChipPattern, coeffs: Float32Array, out: Float32Array, scratch: CorrelationScratch): Float32Array {
  const { bitOf, sign } = pattern;
  const { weights, total } = scratch;
  for (let block = 0, i = 0; block < BLOCKS; block++) {
    let power = 0;
    for (const end = i + PER_BLOCK; i < end; i++) power += coeffs[i] * coeffs[i];
    weights[block] = blockWeight(power / PER_BLOCK);
  }
  out.fill(0);
  total.fill(0);
  for (let block = 0, i = 0; block < BLOCKS; block++) {
    const w = weights[block];
    for (const end = i + PER_BLOCK; i < end; i++) {
      out[bitOf[i]] += w * sign[i] * coeffs[i];
      total[bitOf[i]] += w;
    }
  }
  for (let b = 0; b < 64; b++) out[b] /= total[b];
  return out;
}

const LOW = 3;

function sameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${what}[${i}]: ${actual[i]} !== ${expected[i]}`);
  }
}

/** Host coefficients of several kinds: textured, flat, zero, huge, mixed per block. */
function hosts(random: () => number): Float32Array[] {
  const mixed = new Float32Array(SLOTS);
  for (let block = 0; block < BLOCKS; block++) {
    const scale = [0, 0.01, 1, 30, 400][block % 5];
    for (let k = 0; k < PER_BLOCK; k++) mixed[block * PER_BLOCK + k] = (random() - 0.5) * scale;
  }
  return [
    Float32Array.from({ length: SLOTS }, () => (random() - 0.5) * 60),
    Float32Array.from({ length: SLOTS }, () => (random() - 0.5) * 0.5),
    new Float32Array(SLOTS),
    Float32Array.from({ length: SLOTS }, () => (random() - 0.5) * 5000),
    mixed,
  ];
}

test('the bit-by-bit correlation equals the earlier slot-order one on host coefficients', () => {
  const random = seededRandom(11);
  for (let keyIndex = 0; keyIndex < 3; keyIndex++) {
    const pattern = chipPattern(Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256)));
    const chips = new BitCorrelator(pattern);
    for (const coeffs of hosts(random)) {
      const scratch = new CorrelationScratch();
      const expected = correlate(pattern, coeffs, new Float32Array(64), scratch);
      chips.loadHost(coeffs);
      const actual = chips.correlate(new Float32Array(64));
      sameBits(chips.weights, scratch.weights, 'weights');
      sameBits(chips.total, scratch.total, 'total');
      sameBits(actual, expected, 'soft');
    }
  }
});

test('spreading a change and reading host + change equals the slot-order correlation of the changed coefficients', () => {
  const random = seededRandom(12);
  const pattern = chipPattern(Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256)));
  const chips = new BitCorrelator(pattern);
  for (const coeffs of hosts(random)) {
    chips.loadHost(coeffs);
    for (let pass = 0; pass < 3; pass++) {
      const bitScale = Float64Array.from({ length: 64 }, (_, b) => (b % 7 === 0 ? 0 : (random() - 0.5) * 10 ** (pass - 1)));
      const blockScale = Float32Array.from({ length: BLOCKS }, () => random() * 2);
      const delta = new Float32Array(SLOTS);
      const energy = chips.spreadAndWeigh(coeffs, delta, LOW, bitScale, blockScale);
      // The change written the plain way, and the reader on host + change.
      const expectedDelta = new Float32Array(SLOTS);
      let expectedEnergy = 0;
      for (let i = 0; i < SLOTS; i++) {
        if (i % PER_BLOCK >= LOW) continue;
        expectedDelta[i] = bitScale[pattern.bitOf[i]] * pattern.sign[i] * blockScale[Math.floor(i / PER_BLOCK)];
        expectedEnergy += expectedDelta[i] * expectedDelta[i];
      }
      sameBits(delta, expectedDelta, 'delta');
      assert.ok(Object.is(energy, expectedEnergy), `energy ${energy} !== ${expectedEnergy}`);
      const changed = new Float32Array(SLOTS);
      for (let i = 0; i < SLOTS; i++) changed[i] = coeffs[i] + delta[i];
      const scratch = new CorrelationScratch();
      const expected = correlate(pattern, changed, new Float32Array(64), scratch);
      const actual = chips.correlate(new Float32Array(64));
      sameBits(chips.weights, scratch.weights, 'weights');
      sameBits(chips.total, scratch.total, 'total');
      sameBits(actual, expected, 'soft');
    }
  }
});

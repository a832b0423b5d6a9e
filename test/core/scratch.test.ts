/** Scratch buffers: same memory back under the same name, zeroed, grown when asked for more. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScratchBuffers } from '../../src/core/scratch.js';

test('a name gives back the same zeroed memory, and grows when needed', () => {
  const scratch = new ScratchBuffers();
  const a = scratch.floats('a', 10);
  a.fill(3);
  const again = scratch.floats('a', 8);
  assert.equal(again.length, 8);
  assert.equal(again.buffer, a.buffer, 'the memory is reused');
  assert.ok(
    again.every((v) => v === 0),
    'and zeroed',
  );
  const bigger = scratch.floats('a', 20);
  assert.equal(bigger.length, 20);
  assert.notEqual(bigger.buffer, a.buffer);
  const bytes = scratch.bytes('a', 4);
  assert.ok(bytes instanceof Uint8ClampedArray, 'floats and bytes of one name are separate');
  assert.notEqual(bytes.buffer, bigger.buffer);
});

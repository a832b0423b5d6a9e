import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WATERMARK_BITS, WATERMARK_VERSION, crc24, decodePayload, encodePayload, formatWatermarkId, parseWatermarkId, randomAssetId } from '../../src/provenance/payload.js';

test('CRC-24 matches the OpenPGP catalogue check value', () => {
  assert.equal(crc24(new TextEncoder().encode('123456789')), 0x21cf02);
});

test('payload round trip, bit layout and check bits', () => {
  for (const assetId of [0, 1, 0x0a1b2c3d, 0x80000000, 0xffffffff]) {
    const bits = encodePayload({ assetId, version: WATERMARK_VERSION });
    assert.equal(bits.length, WATERMARK_BITS);
    assert.ok(bits.every((b) => b === 0 || b === 1));
    assert.deepEqual(decodePayload(bits), { assetId, version: 1 });
    assert.deepEqual(decodePayload(Array.from(bits)), { assetId, version: 1 });
  }
  const bits = encodePayload({ assetId: 0x80000001, version: 1 });
  assert.equal(bits[0], 1, 'id is written most significant bit first');
  assert.equal(bits[31], 1);
  assert.deepEqual(Array.from(bits.subarray(32, 40)), [0, 0, 0, 0, 0, 0, 0, 1], 'version byte follows the id');
});

test('every single flipped bit is rejected, and so are unknown versions and malformed input', () => {
  const bits = encodePayload({ assetId: 0xdeadbeef, version: 1 });
  for (let i = 0; i < WATERMARK_BITS; i++) {
    const flipped = bits.slice();
    flipped[i] ^= 1;
    assert.equal(decodePayload(flipped), undefined, `bit ${i}`);
  }
  assert.equal(decodePayload(encodePayload({ assetId: 7, version: 2 })), undefined, 'version 2 is not known');
  assert.equal(decodePayload(bits.subarray(0, 63)), undefined);
  assert.equal(decodePayload(Array.from(bits, (b) => b * 2)), undefined, 'bits must be 0/1');
  assert.equal(decodePayload(new Uint8Array(64)), undefined, 'all zeros fail the check (non-zero CRC init)');
});

test('random bits almost never pass (2^-32 per try)', () => {
  let state = 12345;
  let passed = 0;
  for (let n = 0; n < 20000; n++) {
    const bits = new Uint8Array(64);
    for (let i = 0; i < 64; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      bits[i] = state >>> 31;
    }
    if (decodePayload(bits)) passed++;
  }
  assert.equal(passed, 0);
});

test('encodePayload validates its fields', () => {
  assert.throws(() => encodePayload({ assetId: -1, version: 1 }), /assetId must be an integer from 0 to 4294967295, got -1/);
  assert.throws(() => encodePayload({ assetId: 2 ** 32, version: 1 }), RangeError);
  assert.throws(() => encodePayload({ assetId: 1.5, version: 1 }), RangeError);
  assert.throws(() => encodePayload({ assetId: 1, version: 256 }), /version must be an integer from 0 to 255/);
});

test('watermark ids format as 8 lowercase hex digits and parse back', () => {
  assert.equal(formatWatermarkId(0x0a1b2c3d), '0a1b2c3d');
  assert.equal(formatWatermarkId(0), '00000000');
  assert.equal(formatWatermarkId(0xffffffff), 'ffffffff');
  assert.equal(parseWatermarkId('0a1b2c3d'), 0x0a1b2c3d);
  assert.equal(parseWatermarkId('DEADBEEF'), 0xdeadbeef);
  for (const bad of ['', 'abc', '0a1b2c3d0', 'xyz12345', ' 0a1b2c3d', '-0000001', '0x1b2c3d']) assert.equal(parseWatermarkId(bad), undefined, bad);
  assert.throws(() => formatWatermarkId(2 ** 32), RangeError);
});

test('randomAssetId uses the filler and covers the full 32 bits', () => {
  assert.equal(
    randomAssetId((b) => b.fill(0xff)),
    0xffffffff,
  );
  assert.equal(
    randomAssetId((b) => b.set([0x0a, 0x1b, 0x2c, 0x3d])),
    0x0a1b2c3d,
  );
  const id = randomAssetId((b) => crypto.getRandomValues(b));
  assert.ok(Number.isInteger(id) && id >= 0 && id <= 0xffffffff);
});

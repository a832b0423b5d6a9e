/**
 * IEEE 754 half-precision → single-precision conversion, shared by the TFJS weight decoder
 * (float16-quantized weights) and the ONNX reader (FLOAT16 initializers). Every half value is
 * exactly representable as a float32, so the conversion is lossless.
 */

let table: Float32Array | undefined;

/** One float32 per possible 16-bit pattern; built on first use (256 KiB) so lookups are a single index. */
function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) table[bits] = decodeHalf(bits);
  return table;
}

function decodeHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Converts raw half-precision bit patterns to float32 values. */
export function halfBitsToFloat32(bits: Uint16Array | ArrayLike<number>): Float32Array {
  const lookup = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = lookup[bits[i] & 0xffff];
  return out;
}

/**
 * Reads `count` little-endian half values starting at `byteOffset`. Goes through a DataView because
 * the bytes usually sit at an odd offset inside a larger file buffer, where a Uint16Array view is
 * not allowed.
 */
export function readHalfLE(bytes: Uint8Array, byteOffset: number, count: number): Float32Array {
  const lookup = halfTable();
  const view = new DataView(bytes.buffer, bytes.byteOffset + byteOffset, count * 2);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = lookup[view.getUint16(i * 2, true)];
  return out;
}

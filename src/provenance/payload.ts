/**
 * The 64-bit message the invisible watermark carries: a 32-bit asset id, an 8-bit format version
 * and 24 check bits (CRC-24/OpenPGP over the 40 data bits), so a decoder can tell a real payload
 * from noise with a false-acceptance chance of 2^-32 per decision (2^-24 check × 2^-8 version).
 */

export const WATERMARK_BITS = 64;
/** The 8-bit format version written by this code; decodePayload accepts only known versions. */
export const WATERMARK_VERSION = 1;
const KNOWN_VERSIONS: readonly number[] = [1];

const DATA_BITS = 40;
const CRC_BITS = 24;
// CRC-24/OpenPGP (RFC 4880 §6.1): check value 0x21cf02 for "123456789".
const CRC24_POLY = 0x864cfb;
const CRC24_INIT = 0xb704ce;

export interface WatermarkPayload {
  /** uint32 that names the asset in the provenance record. */
  assetId: number;
  /** uint8 format version, {@link WATERMARK_VERSION} for payloads written now. */
  version: number;
}

function checkUint(name: string, value: number, bits: 8 | 32): void {
  const max = bits === 32 ? 0xffffffff : 0xff;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${String(value)}`);
  }
}

/** CRC-24/OpenPGP of a bit string, most significant bit of each byte first (bits are 0/1). */
function crc24Bits(bits: ArrayLike<number>, count: number): number {
  let crc = CRC24_INIT;
  for (let i = 0; i < count; i++) {
    const top = ((crc >>> 23) & 1) ^ bits[i];
    crc = (crc << 1) & 0xffffff;
    if (top) crc ^= CRC24_POLY;
  }
  return crc;
}

/** CRC-24/OpenPGP of whole bytes (exported to test the bitwise implementation against the catalogue). */
export function crc24(bytes: Uint8Array): number {
  const bits = new Uint8Array(bytes.length * 8);
  for (let i = 0; i < bytes.length; i++) for (let b = 0; b < 8; b++) bits[i * 8 + b] = (bytes[i] >>> (7 - b)) & 1;
  return crc24Bits(bits, bits.length);
}

function writeBits(out: Uint8Array, offset: number, value: number, count: number): void {
  for (let b = 0; b < count; b++) out[offset + b] = Math.floor(value / 2 ** (count - 1 - b)) & 1;
}

function readBits(bits: ArrayLike<number>, offset: number, count: number): number {
  let value = 0;
  for (let b = 0; b < count; b++) value = value * 2 + bits[offset + b];
  return value;
}

/** The 64 message bits (0/1): asset id (32, MSB first), version (8), CRC-24 of those 40 bits. */
export function encodePayload(payload: WatermarkPayload): Uint8Array {
  checkUint('assetId', payload.assetId, 32);
  checkUint('version', payload.version, 8);
  const bits = new Uint8Array(WATERMARK_BITS);
  writeBits(bits, 0, payload.assetId, 32);
  writeBits(bits, 32, payload.version, 8);
  writeBits(bits, DATA_BITS, crc24Bits(bits, DATA_BITS), CRC_BITS);
  return bits;
}

/**
 * The payload in 64 hard bits, or undefined unless they are all 0/1, the check bits match and the
 * version is one this code knows.
 */
export function decodePayload(bits: ArrayLike<number>): WatermarkPayload | undefined {
  if (bits.length !== WATERMARK_BITS) return undefined;
  for (let i = 0; i < WATERMARK_BITS; i++) if (bits[i] !== 0 && bits[i] !== 1) return undefined;
  if (readBits(bits, DATA_BITS, CRC_BITS) !== crc24Bits(bits, DATA_BITS)) return undefined;
  const version = readBits(bits, 32, 8);
  if (!KNOWN_VERSIONS.includes(version)) return undefined;
  return { assetId: readBits(bits, 0, 32), version };
}

/** The asset id as 8 lowercase hex digits, e.g. "0a1b2c3d". */
export function formatWatermarkId(assetId: number): string {
  checkUint('assetId', assetId, 32);
  return assetId.toString(16).padStart(8, '0');
}

/** An asset id from exactly 8 hex digits (either case), else undefined. */
export function parseWatermarkId(text: string): number | undefined {
  return /^[0-9a-fA-F]{8}$/.test(text) ? Number.parseInt(text, 16) : undefined;
}

/** A uniformly random uint32 asset id from a crypto.getRandomValues-like filler. */
export function randomAssetId(random: (bytes: Uint8Array) => void): number {
  const bytes = new Uint8Array(4);
  random(bytes);
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

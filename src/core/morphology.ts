/**
 * Erosion and dilation of single-channel masks by a k×k square with cv2's anchor and border rules,
 * in O(1) per pixel whatever k (van Herk / Gil–Werman block minima, rows then columns).
 */

export type MaskArray = Float32Array | Uint8Array | Uint8ClampedArray;

/**
 * cv2.erode(mask, np.ones((k, k))): each output is the minimum over the window of offsets
 * [−⌊k/2⌋, k−1−⌊k/2⌋] in x and y (one more on the negative side for even k); pixels outside the
 * image are ignored. `out` (same length, any of the mask types) may be `src`.
 */
export function erode<T extends MaskArray>(src: T, width: number, height: number, k: number, out?: MaskArray): T {
  return morph(src, width, height, k, out, 1) as T;
}

/** cv2.dilate with a k×k square: the maximum over the same window as {@link erode}. */
export function dilate<T extends MaskArray>(src: T, width: number, height: number, k: number, out?: MaskArray): T {
  return morph(src, width, height, k, out, -1) as T;
}

/** Minimum filter of sign·src (sign −1 turns the maximum into a minimum), written back times sign. */
function morph(src: MaskArray, width: number, height: number, k: number, out: MaskArray | undefined, sign: 1 | -1): MaskArray {
  const n = width * height;
  if (src.length < n) throw new RangeError(`erode/dilate: mask holds ${src.length} values, needs ${n}`);
  const dst = out ?? new (src.constructor as new (length: number) => MaskArray)(n);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`erode/dilate: kernel size must be a positive integer, got ${k}`);
  if (k === 1 || n === 0) {
    if (dst !== src) dst.set(src.subarray(0, n));
    return dst;
  }
  const anchor = k >> 1;
  const tmp = new Float32Array(n);

  // Rows: windows over a line padded with +∞ (ignored border), as min(suffix[x], prefix[x+k−1])
  // where prefix/suffix restart every k samples.
  const len = width + k - 1;
  const line = new Float32Array(len);
  const pre = new Float32Array(len);
  const suf = new Float32Array(len);
  line.fill(Infinity);
  for (let y = 0; y < height; y++) {
    const base = y * width;
    for (let x = 0; x < width; x++) line[x + anchor] = sign * src[base + x];
    for (let start = 0; start < len; start += k) {
      const end = Math.min(start + k, len);
      let m = line[start];
      pre[start] = m;
      for (let j = start + 1; j < end; j++) {
        const v = line[j];
        if (v < m) m = v;
        pre[j] = m;
      }
      m = line[end - 1];
      suf[end - 1] = m;
      for (let j = end - 2; j >= start; j--) {
        const v = line[j];
        if (v < m) m = v;
        suf[j] = m;
      }
    }
    for (let x = 0; x < width; x++) {
      const a = suf[x];
      const b = pre[x + k - 1];
      tmp[base + x] = a < b ? a : b;
    }
  }

  // Columns: the same recurrences with whole rows as the elements, so memory is read in order.
  const rowsLen = height + k - 1;
  const preRows = new Float32Array(rowsLen * width);
  const sufRows = new Float32Array(rowsLen * width);
  for (let j = 0; j < rowsLen; j++) {
    const y = j - anchor;
    const o = j * width;
    const inside = y >= 0 && y < height;
    if (j % k === 0) {
      if (inside) preRows.set(tmp.subarray(y * width, y * width + width), o);
      else preRows.fill(Infinity, o, o + width);
    } else if (inside) {
      const s = y * width;
      for (let x = 0; x < width; x++) {
        const v = tmp[s + x];
        const p = preRows[o - width + x];
        preRows[o + x] = v < p ? v : p;
      }
    } else {
      preRows.copyWithin(o, o - width, o);
    }
  }
  for (let j = rowsLen - 1; j >= 0; j--) {
    const y = j - anchor;
    const o = j * width;
    const inside = y >= 0 && y < height;
    if (j % k === k - 1 || j === rowsLen - 1) {
      if (inside) sufRows.set(tmp.subarray(y * width, y * width + width), o);
      else sufRows.fill(Infinity, o, o + width);
    } else if (inside) {
      const s = y * width;
      for (let x = 0; x < width; x++) {
        const v = tmp[s + x];
        const q = sufRows[o + width + x];
        sufRows[o + x] = v < q ? v : q;
      }
    } else {
      sufRows.copyWithin(o, o + width, o + 2 * width);
    }
  }
  for (let y = 0; y < height; y++) {
    const a = y * width;
    const b = (y + k - 1) * width;
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const u = sufRows[a + x];
      const v = preRows[b + x];
      dst[o + x] = sign * (u < v ? u : v);
    }
  }
  return dst;
}

/**
 * The pixel container shared by every platform: row-major, interleaved, 8 bits per channel.
 * Coordinates are frame pixels with (0,0) at the top-left corner of the top-left pixel.
 */

export type Channels = 1 | 3 | 4;

export interface Image {
  readonly width: number;
  readonly height: number;
  readonly channels: Channels;
  /** width * height * channels bytes, row-major, RGB(A) or grey. */
  readonly data: Uint8ClampedArray;
}

/** A float image, same layout as {@link Image}; values are usually 0..255. */
export interface FloatImage {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Float32Array;
}

/** Integer pixel rectangle: x0/y0 inclusive, x1/y1 exclusive, in frame pixels. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function createImage(width: number, height: number, channels: Channels): Image {
  return { width, height, channels, data: new Uint8ClampedArray(width * height * channels) };
}

export function cloneImage(image: Image): Image {
  return { width: image.width, height: image.height, channels: image.channels, data: image.data.slice() };
}

export function rectWidth(r: Rect): number {
  return r.x1 - r.x0;
}

export function rectHeight(r: Rect): number {
  return r.y1 - r.y0;
}

/** Clamp a rectangle to an image of the given size (may become empty). */
export function clampRect(r: Rect, width: number, height: number): Rect {
  const x0 = Math.max(0, Math.min(width, Math.floor(r.x0)));
  const y0 = Math.max(0, Math.min(height, Math.floor(r.y0)));
  const x1 = Math.max(x0, Math.min(width, Math.ceil(r.x1)));
  const y1 = Math.max(y0, Math.min(height, Math.ceil(r.y1)));
  return { x0, y0, x1, y1 };
}

/** Copy a rectangle out of an image into a new image of the same channel count (its bytes in `into` when given, which must hold them). */
export function cropImage(image: Image, r: Rect, into?: Uint8ClampedArray): Image {
  const w = r.x1 - r.x0;
  const h = r.y1 - r.y0;
  const c = image.channels;
  const out: Image = into ? { width: w, height: h, channels: c, data: into.subarray(0, w * h * c) } : createImage(w, h, c);
  for (let y = 0; y < h; y++) {
    const src = ((r.y0 + y) * image.width + r.x0) * c;
    out.data.set(image.data.subarray(src, src + w * c), y * w * c);
  }
  return out;
}

/** Write `patch` into `image` with its top-left corner at (x0, y0); channel counts must match. */
export function pasteImage(image: Image, patch: Image, x0: number, y0: number): void {
  const c = image.channels;
  if (patch.channels !== c) throw new RangeError(`pasteImage: channel mismatch ${patch.channels} vs ${c}`);
  for (let y = 0; y < patch.height; y++) {
    const dst = ((y0 + y) * image.width + x0) * c;
    image.data.set(patch.data.subarray(y * patch.width * c, (y + 1) * patch.width * c), dst);
  }
}

/** RGB(A) or grey to 3-channel RGB (drops alpha; greyscale is replicated). */
export function toRgb(image: Image): Image {
  if (image.channels === 3) return image;
  const out = createImage(image.width, image.height, 3);
  const n = image.width * image.height;
  const src = image.data;
  const dst = out.data;
  const c = image.channels;
  for (let i = 0; i < n; i++) {
    if (c === 1) {
      const v = src[i];
      dst[i * 3] = v;
      dst[i * 3 + 1] = v;
      dst[i * 3 + 2] = v;
    } else {
      dst[i * 3] = src[i * c];
      dst[i * 3 + 1] = src[i * c + 1];
      dst[i * 3 + 2] = src[i * c + 2];
    }
  }
  return out;
}

/** RGB to RGBA with an opaque alpha (a canvas's layout); an RGBA image is returned as it is. */
export function toRgba(image: Image): Image {
  if (image.channels === 4) return image;
  const rgb = toRgb(image);
  const out = createImage(image.width, image.height, 4);
  const n = image.width * image.height;
  for (let i = 0; i < n; i++) {
    out.data[i * 4] = rgb.data[i * 3];
    out.data[i * 4 + 1] = rgb.data[i * 3 + 1];
    out.data[i * 4 + 2] = rgb.data[i * 3 + 2];
    out.data[i * 4 + 3] = 255;
  }
  return out;
}

export function createFloatImage(width: number, height: number, channels: number): FloatImage {
  return { width, height, channels, data: new Float32Array(width * height * channels) };
}

/**
 * Copy a rectangle of an 8-bit image into a float image (values stay 0..255), reusing `out` when
 * it has the right size. Without `r` the whole image is converted.
 */
export function toFloatImage(image: Image, r?: Rect, out?: FloatImage): FloatImage {
  const x0 = r ? r.x0 : 0;
  const y0 = r ? r.y0 : 0;
  const w = r ? r.x1 - r.x0 : image.width;
  const h = r ? r.y1 - r.y0 : image.height;
  const c = image.channels;
  const dst = out && out.width === w && out.height === h && out.channels === c ? out : createFloatImage(w, h, c);
  const d = dst.data;
  const s = image.data;
  for (let y = 0; y < h; y++) {
    const si = ((y0 + y) * image.width + x0) * c;
    const di = y * w * c;
    for (let i = 0; i < w * c; i++) d[di + i] = s[si + i];
  }
  return dst;
}

/**
 * Write a float image into an 8-bit image with its top-left corner at (x0, y0), clamping to 0..255.
 * 'round' is OpenCV's saturate_cast (half to even, what Uint8ClampedArray does); 'truncate' is
 * numpy's astype(uint8) on clipped values, which the reference blends use. Channel counts must match.
 */
export function writeFloatImage(image: Image, src: FloatImage, x0: number, y0: number, rounding: 'round' | 'truncate' = 'round'): void {
  const c = image.channels;
  if (src.channels !== c) throw new RangeError(`writeFloatImage: channel mismatch ${src.channels} vs ${c}`);
  const d = image.data;
  const s = src.data;
  const rowLen = src.width * c;
  for (let y = 0; y < src.height; y++) {
    const di = ((y0 + y) * image.width + x0) * c;
    const si = y * rowLen;
    if (rounding === 'round') {
      for (let i = 0; i < rowLen; i++) d[di + i] = s[si + i];
    } else {
      for (let i = 0; i < rowLen; i++) {
        const v = s[si + i];
        d[di + i] = v >= 255 ? 255 : v > 0 ? Math.floor(v) : 0;
      }
    }
  }
}

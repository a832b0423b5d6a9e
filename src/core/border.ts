/** Border extrapolation shared by the separable filters: OpenCV's BORDER_REFLECT_101. */

/** Index of position i in a line of n samples mirrored without repeating the edge (…c b | a b c …). */
export function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  // A kernel wider than the image reflects more than once, as cv2.borderInterpolate does.
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/** Source index for positions −r … n−1+r under BORDER_REFLECT_101 (entry i is position i − r). */
export function reflectTable(n: number, r: number): Int32Array {
  const table = new Int32Array(n + 2 * r);
  for (let i = 0; i < table.length; i++) table[i] = reflect101(i - r, n);
  return table;
}

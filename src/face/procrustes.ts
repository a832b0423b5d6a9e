/**
 * Weighted similarity Procrustes in 3-D (Horn's closed form with unit quaternions): the scale,
 * rotation and translation that best map one set of points onto another in the least-squares
 * sense, min Σ wᵢ‖c·R·pᵢ + t − qᵢ‖². Used to compare face meshes in a pose-free frame.
 */

export interface Similarity3 {
  scale: number;
  /** Row-major 3×3 rotation. */
  rotation: Float64Array;
  translation: [number, number, number];
}

/** Eigenvector of the largest eigenvalue of a symmetric 4×4 matrix (cyclic Jacobi). */
function dominantEigenvector(a: Float64Array): Float64Array {
  const m = Float64Array.from(a);
  const v = new Float64Array(16);
  for (let i = 0; i < 4; i++) v[5 * i] = 1;
  for (let sweep = 0; sweep < 32; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += m[4 * p + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        const apq = m[4 * p + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[4 * q + q] - m[4 * p + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 4; k++) {
          const mkp = m[4 * k + p],
            mkq = m[4 * k + q];
          m[4 * k + p] = c * mkp - s * mkq;
          m[4 * k + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < 4; k++) {
          const mpk = m[4 * p + k],
            mqk = m[4 * q + k];
          m[4 * p + k] = c * mpk - s * mqk;
          m[4 * q + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < 4; k++) {
          const vkp = v[4 * k + p],
            vkq = v[4 * k + q];
          v[4 * k + p] = c * vkp - s * vkq;
          v[4 * k + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < 4; i++) if (m[5 * i] > m[5 * best]) best = i;
  return Float64Array.from([v[best], v[4 + best], v[8 + best], v[12 + best]]);
}

/**
 * The similarity mapping points `from` onto `to` (both x,y,z triples) over the vertices in
 * `indices`, each weighted by `weights[k]` (default 1).
 */
export function procrustes3(from: ArrayLike<number>, to: ArrayLike<number>, indices: ArrayLike<number>, weights?: ArrayLike<number>): Similarity3 {
  let total = 0;
  const mp = [0, 0, 0];
  const mq = [0, 0, 0];
  for (let k = 0; k < indices.length; k++) {
    const w = weights ? weights[k] : 1;
    const i = 3 * indices[k];
    total += w;
    for (let d = 0; d < 3; d++) {
      mp[d] += w * from[i + d];
      mq[d] += w * to[i + d];
    }
  }
  for (let d = 0; d < 3; d++) {
    mp[d] /= total || 1;
    mq[d] /= total || 1;
  }
  // Cross-covariance S = Σ w (p − p̄)(q − q̄)ᵀ and the spread of p.
  const s = new Float64Array(9);
  let spread = 0;
  for (let k = 0; k < indices.length; k++) {
    const w = weights ? weights[k] : 1;
    const i = 3 * indices[k];
    const p = [from[i] - mp[0], from[i + 1] - mp[1], from[i + 2] - mp[2]];
    const q = [to[i] - mq[0], to[i + 1] - mq[1], to[i + 2] - mq[2]];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) s[3 * a + b] += w * p[a] * q[b];
    spread += w * (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
  }
  const [sxx, sxy, sxz, syx, syy, syz, szx, szy, szz] = s;
  const n = Float64Array.from([
    sxx + syy + szz,
    syz - szy,
    szx - sxz,
    sxy - syx,
    syz - szy,
    sxx - syy - szz,
    sxy + syx,
    szx + sxz,
    szx - sxz,
    sxy + syx,
    -sxx + syy - szz,
    syz + szy,
    sxy - syx,
    szx + sxz,
    syz + szy,
    -sxx - syy + szz,
  ]);
  const [q0, qx, qy, qz] = dominantEigenvector(n);
  const r = Float64Array.from([
    q0 * q0 + qx * qx - qy * qy - qz * qz,
    2 * (qx * qy - q0 * qz),
    2 * (qx * qz + q0 * qy),
    2 * (qy * qx + q0 * qz),
    q0 * q0 - qx * qx + qy * qy - qz * qz,
    2 * (qy * qz - q0 * qx),
    2 * (qz * qx - q0 * qy),
    2 * (qz * qy + q0 * qx),
    q0 * q0 - qx * qx - qy * qy + qz * qz,
  ]);
  // Scale: Σ w qᵀ R p over Σ w |p|².
  let fit = 0;
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) fit += r[3 * b + a] * s[3 * a + b];
  const scale = spread > 0 ? fit / spread : 1;
  const translation: [number, number, number] = [0, 0, 0];
  for (let d = 0; d < 3; d++) translation[d] = mq[d] - scale * (r[3 * d] * mp[0] + r[3 * d + 1] * mp[1] + r[3 * d + 2] * mp[2]);
  return { scale, rotation: r, translation };
}

/** Applies a similarity to every x,y,z triple of `points`, into `out` (may be `points`). */
export function applySimilarity3(t: Similarity3, points: ArrayLike<number>, out: Float32Array = new Float32Array(points.length)): Float32Array {
  const {
    scale: c,
    rotation: r,
    translation: [tx, ty, tz],
  } = t;
  for (let i = 0; i < points.length; i += 3) {
    const x = points[i],
      y = points[i + 1],
      z = points[i + 2];
    out[i] = c * (r[0] * x + r[1] * y + r[2] * z) + tx;
    out[i + 1] = c * (r[3] * x + r[4] * y + r[5] * z) + ty;
    out[i + 2] = c * (r[6] * x + r[7] * y + r[8] * z) + tz;
  }
  return out;
}

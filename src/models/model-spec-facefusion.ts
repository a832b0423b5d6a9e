/**
 * FaceFusion 3.8.1's models as rows of the one model table (spec §7–§12): the swappers and their
 * embedding converters, the face enhancers, the BiSeNet face parsers and the XSeg occluders.
 * model-spec.ts takes these rows into MODEL_SPECS. Each is pinned by SHA-256 where the spec knows
 * it (sizes and hashes seen in mirrors of FaceFusion's assets) and otherwise by FaceFusion's own
 * CRC-32 `.hash` sidecar, the SHA-256 then being recorded at the first verified download.
 * Where the spec marks a fact [UNVERIFIED] (tensor names read by position, output shapes, float
 * I/O of fp16 files), the row's `note` says so and the code reads names from the session.
 */

import type { DownloadModelSpec, InputSpec, ModelSource, SwapperTraits, TensorSpec } from './model-types.js';

/** FaceFusion's five-point templates (spec §4.6), normalised to 0..1: x, y pairs. */
export const FACEFUSION_TEMPLATES = {
  arcface_112_v1: [0.35473214, 0.45658929, 0.64526786, 0.45658929, 0.5, 0.61154464, 0.37913393, 0.776875, 0.62086607, 0.776875],
  arcface_112_v2: [0.34191607, 0.46157411, 0.65653393, 0.45983393, 0.500225, 0.64050536, 0.37097589, 0.82469196, 0.63151696, 0.82325089],
  arcface_128: [0.36167656, 0.40387734, 0.63696719, 0.40235469, 0.50019687, 0.56044219, 0.38710391, 0.72160547, 0.61507734, 0.72034453],
  ffhq_512: [0.37691676, 0.46864664, 0.62285697, 0.46912813, 0.50123859, 0.61331904, 0.39308822, 0.725411, 0.61150205, 0.72490465],
  mtcnn_512: [0.36562865, 0.46733799, 0.63305391, 0.46585885, 0.50019127, 0.61942959, 0.39032951, 0.77598822, 0.61178945, 0.77476328],
} as const satisfies Record<string, readonly number[]>;
export type FacefusionTemplate = keyof typeof FACEFUSION_TEMPLATES;

/** A normalised template in pixels of a `size`-sided crop (OpenCV convention, as FaceFusion multiplies). */
export function templatePixels(template: readonly number[], size: number): number[] {
  return template.map((v) => v * size);
}

/** The swapper rows, in table order (the `--engine` names besides mesh and inswapper). */
export const FACEFUSION_SWAPPER_IDS = [
  'hyperswap_1a_256',
  'hyperswap_1b_256',
  'hyperswap_1c_256',
  'simswap_256',
  'simswap_unofficial_512',
  'ghost_1_256',
  'ghost_2_256',
  'ghost_3_256',
  'blendswap_256',
  'uniface_256',
  'hififace_unofficial_256',
] as const;
export type FacefusionSwapperId = (typeof FACEFUSION_SWAPPER_IDS)[number];

/** The enhancer rows, in table order (`--face-enhancer`). */
export const FACEFUSION_ENHANCER_IDS = [
  'gfpgan_1.2',
  'gfpgan_1.3',
  'gfpgan_1.4',
  'gpen_bfr_256',
  'gpen_bfr_512',
  'gpen_bfr_1024',
  'gpen_bfr_2048',
  'codeformer',
  'restoreformer_plus_plus',
] as const;
export type FacefusionEnhancerId = (typeof FACEFUSION_ENHANCER_IDS)[number];

/** Every FaceFusion row, in table order: swappers, their embedding converters, enhancers, parsers, occluders. */
export const FACEFUSION_MODEL_IDS = [
  ...FACEFUSION_SWAPPER_IDS,
  'crossface_simswap',
  'crossface_ghost',
  'crossface_hififace',
  ...FACEFUSION_ENHANCER_IDS,
  'bisenet_resnet_18',
  'bisenet_resnet_34',
  'xseg_1',
  'xseg_2',
  'xseg_3',
] as const;
export type FacefusionModelId = (typeof FACEFUSION_MODEL_IDS)[number];

/** FaceFusion's release tags (spec §11.3): which assets release holds each file. */
type AssetsBase = 'models-3.0.0' | 'models-3.1.0' | 'models-3.2.0' | 'models-3.3.0' | 'models-3.4.0';

/**
 * GitHub first, then Hugging Face and its mirror host, as FaceFusion tries its providers; each
 * with the `.hash` sidecar beside the file.
 */
function facefusionSources(base: AssetsBase, name: string): ModelSource[] {
  const hosts = [
    { provider: 'facefusion (github)', root: `https://github.com/facefusion/facefusion-assets/releases/download/${base}` },
    { provider: 'facefusion (huggingface)', root: `https://huggingface.co/facefusion/${base}/resolve/main` },
    { provider: 'facefusion (hf-mirror)', root: `https://hf-mirror.com/facefusion/${base}/resolve/main` },
  ];
  return hosts.map(({ provider, root }) => ({ kind: 'file', provider, url: `${root}/${name}.onnx`, hashUrl: `${root}/${name}.hash`, usable: true }));
}

/** How a file is pinned: a known SHA-256 and exact size, or FaceFusion's CRC-32 (known or from the sidecar). */
type Pin = { readonly sha256: string; readonly bytes: number; readonly crc32?: string } | { readonly sha256?: undefined; readonly approxBytes?: number; readonly crc32?: string };

function pinned(pin: Pin): Pick<DownloadModelSpec, 'hash' | 'sha256' | 'bytes' | 'approxBytes' | 'crc32'> {
  const crc = pin.crc32 === undefined ? {} : { crc32: pin.crc32 };
  if (pin.sha256 !== undefined) return { hash: 'sha256', sha256: pin.sha256, bytes: pin.bytes, ...crc };
  return { hash: 'crc32', sha256: null, bytes: null, ...(pin.approxBytes === undefined ? {} : { approxBytes: pin.approxBytes }), ...crc };
}

/** FaceFusion's crops are warped with BORDER_REPLICATE (spec §4.5). */
function fivePoint(template: FacefusionTemplate, size: number): InputSpec['crop'] {
  return { kind: 'five-point', template: templatePixels(FACEFUSION_TEMPLATES[template], size), border: 'replicate' };
}

/** Mean/std given as FaceFusion gives them, on 0..1 RGB, turned into pixel units. */
function rgbInput(size: number, template: FacefusionTemplate, mean: number | readonly [number, number, number], std: number | readonly [number, number, number]): InputSpec {
  const crop = fivePoint(template, size);
  if (typeof mean === 'number' && typeof std === 'number') return { size, mean: mean * 255, std: std * 255, channels: 'RGB', layout: 'NCHW', crop };
  const m = (typeof mean === 'number' ? [mean, mean, mean] : mean).map((v) => v * 255) as [number, number, number];
  const s = (typeof std === 'number' ? [std, std, std] : std).map((v) => v * 255) as [number, number, number];
  return { size, mean: m[0], std: s[0], channelMean: m, channelStd: s, channels: 'RGB', layout: 'NCHW', crop };
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

const NON_COMMERCIAL = (what: string): string => `${what}: non-commercial use only (FaceFusion's metadata says "Non-Commercial"; confirm with the authors before any other use).`;
const UNKNOWN_LICENCE = (what: string): string => `${what}: licence unknown (FaceFusion's metadata says "Unknown"); treated as non-commercial until the authors say otherwise.`;
const CONVERTER_LICENCE =
  "FaceFusion's crossface embedding converter: no licence is stated for it; treated as non-commercial. Served by FaceFusion (application licence OpenRAIL-AS).";
const HYPERSWAP_LICENCE = 'hyperswap (FaceFusion): ResearchRAIL, research use under the RAIL use restrictions (FaceFusion metadata); not for commercial use.';
const GPEN_LICENCE = NON_COMMERCIAL('GPEN-BFR (yangxy)');
const GFPGAN_LICENCE = 'GFPGAN (TencentARC): Apache-2.0 (FaceFusion metadata; the upstream repository also holds third-party components under their own licences).';

const SWAPPER_IO_NOTE =
  'Inputs `source` and `target` are fed by name (FaceFusion does); the output is read by position, its name is not recorded. Never run here with the real file.';

/** `target` then `source`, as InSwapper's row orders them; a swapper's output is the target's shape. */
function swapperTensors(size: number, source: readonly number[]): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  return {
    inputs: [
      { name: 'target', shape: [1, 3, size, size], dtype: 'float32' },
      { name: 'source', shape: source, dtype: 'float32' },
    ],
    outputs: [{ name: null, shape: [1, 3, size, size], dtype: 'float32' }],
  };
}

const EMBEDDING: readonly number[] = [1, 512];

interface SwapperRow {
  id: FacefusionModelId;
  base: AssetsBase;
  description: string;
  licence: string;
  nonCommercial: boolean;
  pin: Pin;
  input: InputSpec;
  source: readonly number[];
  swap: SwapperTraits;
  weights?: 'float32' | 'float16';
  note?: string;
}

function swapper(row: SwapperRow): DownloadModelSpec {
  return {
    id: row.id,
    origin: 'download',
    role: 'swapper',
    description: row.description,
    file: `${row.id}.onnx`,
    ...pinned(row.pin),
    sources: facefusionSources(row.base, row.id),
    licence: row.licence,
    nonCommercial: row.nonCommercial,
    weights: row.weights ?? 'float32',
    input: row.input,
    ...swapperTensors(row.input.size, row.source),
    swap: row.swap,
    note: row.note ? `${row.note} ${SWAPPER_IO_NOTE}` : SWAPPER_IO_NOTE,
  };
}

const BOOST_256 = [256, 512, 768, 1024] as const;

function hyperswap(variant: 'a' | 'b' | 'c', pin: Pin): DownloadModelSpec {
  return swapper({
    id: `hyperswap_1${variant}_256`,
    base: 'models-3.3.0',
    description: `HyperSwap 1${variant} (FaceFusion), 256×256, from ArcFace's normed embedding; FaceFusion's default swapper is 1a`,
    licence: HYPERSWAP_LICENCE,
    nonCommercial: true,
    pin,
    input: rgbInput(256, 'arcface_128', 0.5, 0.5),
    source: EMBEDDING,
    weights: 'float16',
    swap: {
      family: 'hyperswap',
      source: { kind: 'embedding', converter: null, normalise: true },
      denormaliseOutput: true,
      pixelBoostSizes: BOOST_256,
      identityWeight: 'normalised',
    },
    note: 'Precision tag fp16: float16 weights, float32 inputs and outputs assumed [UNVERIFIED].',
  });
}

function ghost(n: 1 | 2 | 3, pin: Pin): DownloadModelSpec {
  return swapper({
    id: `ghost_${n}_256`,
    base: 'models-3.0.0',
    description: `GHOST ${n} (ai-forever), 256×256, identity from crossface_ghost (not normalised)`,
    licence: 'ghost (ai-forever): Apache-2.0 (FaceFusion metadata).',
    nonCommercial: false,
    pin,
    input: rgbInput(256, 'arcface_112_v1', 0.5, 0.5),
    source: EMBEDDING,
    swap: {
      family: 'ghost',
      source: { kind: 'embedding', converter: 'crossface_ghost', normalise: false },
      denormaliseOutput: true,
      pixelBoostSizes: BOOST_256,
      identityWeight: 'raw',
    },
  });
}

function converter(id: FacefusionModelId, target: string, approxBytes: number): DownloadModelSpec {
  return {
    id,
    origin: 'download',
    role: 'embedder-converter',
    description: `FaceFusion's converter from the raw ArcFace (w600k_r50) embedding to ${target}'s identity embedding`,
    file: `${id}.onnx`,
    ...pinned({ approxBytes }),
    sources: facefusionSources('models-3.4.0', id),
    licence: CONVERTER_LICENCE,
    nonCommercial: true,
    weights: 'float32',
    // Not an image model: the input row below is the embedding's; size 1 keeps the table's invariants.
    input: { size: 1, mean: 0, std: 1, channels: 'RGB', layout: 'NCHW', crop: { kind: 'resize' } },
    inputs: [{ name: 'input', shape: [1, 512], dtype: 'float32' }],
    outputs: [{ name: null, shape: [1, 512], dtype: 'float32' }],
    note: 'Output read by position and ravelled to 512 values (spec §7.1). Never run here with the real file.',
  };
}

function enhancer(
  id: FacefusionModelId,
  description: string,
  size: number,
  template: FacefusionTemplate,
  licence: string,
  nonCommercial: boolean,
  pin: Pin = {},
  fidelity = false,
): DownloadModelSpec {
  return {
    id,
    origin: 'download',
    role: 'enhancer',
    description,
    file: `${id}.onnx`,
    ...pinned(pin),
    sources: facefusionSources('models-3.0.0', id),
    licence,
    nonCommercial,
    weights: 'float32',
    input: rgbInput(size, template, 0.5, 0.5),
    inputs: [
      { name: 'input', shape: [1, 3, size, size], dtype: 'float32' },
      // CodeFormer's fidelity w: numpy.array([w]).astype(double) in FaceFusion (spec §8.1).
      ...(fidelity ? [{ name: 'weight', shape: [1], dtype: 'float64' } as const] : []),
    ],
    outputs: [{ name: null, shape: [1, 3, size, size], dtype: 'float32' }],
    note: 'Output read by position, values in −1..1 (spec F8.4); its size is not in the spec. Never run here with the real file.',
  };
}

/** GFPGAN 1.x at 512×512 on the FFHQ template; `extra` ends the description. */
function gfpgan(version: '1.2' | '1.3' | '1.4', pin: Pin = {}, extra = ''): DownloadModelSpec {
  return enhancer(`gfpgan_${version}`, `GFPGAN ${version} (TencentARC) face restoration at 512×512${extra}`, 512, 'ffhq_512', GFPGAN_LICENCE, false, pin);
}

/** GPEN-BFR at its size: the 256 one on the arcface_128 template, the larger ones on FFHQ's. */
function gpen(size: 256 | 512 | 1024 | 2048): DownloadModelSpec {
  const template: FacefusionTemplate = size === 256 ? 'arcface_128' : 'ffhq_512';
  const suffix = size === 256 ? ' (arcface_128 template)' : '';
  return enhancer(`gpen_bfr_${size}`, `GPEN-BFR (yangxy) face restoration at ${size}×${size}${suffix}`, size, template, GPEN_LICENCE, true);
}

function parser(depth: 18 | 34, base: AssetsBase, pin: Pin): DownloadModelSpec {
  const id = `bisenet_resnet_${depth}` as const;
  return {
    id,
    origin: 'download',
    role: 'parser',
    description: `BiSeNet ResNet-${depth} face parser (yakhyo/face-parsing): 19 CelebAMask-HQ labels at 512×512, for region masks`,
    file: `${id}.onnx`,
    ...pinned(pin),
    sources: facefusionSources(base, id),
    licence: 'bisenet (yakhyo/face-parsing): MIT (FaceFusion metadata; the repository LICENSE).',
    nonCommercial: false,
    weights: 'float32',
    input: {
      size: 512,
      mean: IMAGENET_MEAN[0] * 255,
      std: IMAGENET_STD[0] * 255,
      channelMean: IMAGENET_MEAN.map((v) => v * 255) as unknown as [number, number, number],
      channelStd: IMAGENET_STD.map((v) => v * 255) as unknown as [number, number, number],
      channels: 'RGB',
      layout: 'NCHW',
      crop: { kind: 'resize' },
    },
    inputs: [{ name: 'input', shape: [1, 3, 512, 512], dtype: 'float32' }],
    outputs: [{ name: null, shape: [1, 19, 512, 512], dtype: 'float32' }],
    note: 'Logits read by position (spec F9.7). Never run here with the real file.',
  };
}

function occluder(n: 1 | 2 | 3, base: AssetsBase, pin: Pin): DownloadModelSpec {
  const id = `xseg_${n}` as const;
  return {
    id,
    origin: 'download',
    role: 'occluder',
    description: `XSeg occlusion mask (DeepFaceLab), ${n} of 3: face probability at 256×256, keeps hands and objects in front of the face`,
    file: `${id}.onnx`,
    ...pinned(pin),
    sources: facefusionSources(base, id),
    licence: 'XSeg (DeepFaceLab): GPL-3.0 (FaceFusion metadata); redistributing it with other software carries copyleft terms.',
    nonCommercial: false,
    weights: 'float32',
    // F9.4: BGR/255, NHWC.
    input: { size: 256, mean: 0, std: 255, channels: 'BGR', layout: 'NHWC', crop: { kind: 'resize' } },
    inputs: [{ name: 'input', shape: [1, 256, 256, 3], dtype: 'float32' }],
    outputs: [{ name: null, shape: [1, 256, 256, 1], dtype: 'float32' }],
    note: 'The output shape [1, 256, 256, 1] is read as 256×256 probabilities whatever its trailing 1 [UNVERIFIED]. Never run here with the real file.',
  };
}

/** The rows, keyed by id; model-spec.ts takes them into MODEL_SPECS. */
export const FACEFUSION_SPECS: Readonly<Record<FacefusionModelId, DownloadModelSpec>> = {
  hyperswap_1a_256: hyperswap('a', { sha256: 'c0e98a8a03a238f461ed3d2570e426b49f46745ee400854a60dceeb70c246add', bytes: 402_742_682 }),
  hyperswap_1b_256: hyperswap('b', { approxBytes: 403_000_000 }),
  hyperswap_1c_256: hyperswap('c', { approxBytes: 403_000_000 }),
  simswap_256: swapper({
    id: 'simswap_256',
    base: 'models-3.0.0',
    description: 'SimSwap (neuralchen), 256×256, ImageNet-normalised target, identity from crossface_simswap',
    licence: NON_COMMERCIAL('SimSwap (neuralchen)'),
    nonCommercial: true,
    pin: { sha256: '5b6374b2ffab838588d4f0c32dc7ed5bb8d99237d755a663ed02ee265a1714fb', bytes: 220_368_724 },
    input: rgbInput(256, 'arcface_112_v1', IMAGENET_MEAN, IMAGENET_STD),
    source: EMBEDDING,
    swap: {
      family: 'simswap',
      source: { kind: 'embedding', converter: 'crossface_simswap', normalise: true },
      denormaliseOutput: false,
      pixelBoostSizes: BOOST_256,
      identityWeight: 'normalised',
    },
  }),
  simswap_unofficial_512: swapper({
    id: 'simswap_unofficial_512',
    base: 'models-3.0.0',
    description: 'SimSwap 512 (unofficial), 512×512, identity from crossface_simswap',
    licence: NON_COMMERCIAL('SimSwap (neuralchen)'),
    nonCommercial: true,
    pin: { sha256: 'fe805d1ce7d9e66322e2a8811f593a821e7d92f9ff861dd233794bdb2bb7a586', bytes: 239_249_034 },
    input: rgbInput(512, 'arcface_112_v1', 0, 1),
    source: EMBEDDING,
    swap: {
      family: 'simswap',
      source: { kind: 'embedding', converter: 'crossface_simswap', normalise: true },
      denormaliseOutput: false,
      pixelBoostSizes: [512, 768, 1024],
      identityWeight: 'normalised',
    },
  }),
  ghost_1_256: ghost(1, { sha256: '4eac28021ae80128e9262080cf0da850e3190e41862650c9e805f9a516b3e924', bytes: 514_902_950 }),
  ghost_2_256: ghost(2, { sha256: '27ae9d0b174b22c0426393e8239ca8d75e6ff47ec5dc596b002b182832a9454e', bytes: 738_727_769 }),
  ghost_3_256: ghost(3, { sha256: '308d87f565e881b8872a5cbe711f97faeda6643e5d2b95ef757cc92a58662abd', bytes: 855_514_631 }),
  blendswap_256: swapper({
    id: 'blendswap_256',
    base: 'models-3.0.0',
    description: "BlendSwap (mapooon), 256×256, driven by the source face's own 112×112 crop",
    licence: NON_COMMERCIAL('BlendSwap (mapooon)'),
    nonCommercial: true,
    pin: { sha256: '20ac5e3c002288e7abd4ea6b1af74103892a6628382d1fa905d13c0270c2667b', bytes: 1_661_432_957, crc32: '6a424cf7' },
    input: rgbInput(256, 'ffhq_512', 0, 1),
    source: [1, 3, 112, 112],
    swap: {
      family: 'blendswap',
      source: { kind: 'image', template: FACEFUSION_TEMPLATES.arcface_112_v2, size: 112 },
      denormaliseOutput: false,
      pixelBoostSizes: [256, 384, 512, 768, 1024],
      identityWeight: 'none',
    },
    note: 'FaceFusion lists 384 among its pixel-boost sizes; 384 is no multiple of 256 and is refused here.',
  }),
  uniface_256: swapper({
    id: 'uniface_256',
    base: 'models-3.0.0',
    description: "UniFace (xc-csc101), 256×256, driven by the source face's own 256×256 FFHQ crop",
    licence: UNKNOWN_LICENCE('UniFace (xc-csc101)'),
    nonCommercial: true,
    pin: {},
    input: rgbInput(256, 'ffhq_512', 0.5, 0.5),
    source: [1, 3, 256, 256],
    swap: {
      family: 'uniface',
      source: { kind: 'image', template: FACEFUSION_TEMPLATES.ffhq_512, size: 256 },
      denormaliseOutput: true,
      pixelBoostSizes: BOOST_256,
      identityWeight: 'none',
    },
    note: 'Size not in the spec: checked by CRC-32 only.',
  }),
  hififace_unofficial_256: swapper({
    id: 'hififace_unofficial_256',
    base: 'models-3.1.0',
    description: 'HifiFace 256 (unofficial, GuijiAI), identity from crossface_hififace, L2-normalised',
    licence: UNKNOWN_LICENCE('HifiFace unofficial (GuijiAI)'),
    nonCommercial: true,
    pin: {},
    input: rgbInput(256, 'mtcnn_512', 0.5, 0.5),
    source: EMBEDDING,
    swap: {
      family: 'hififace',
      source: { kind: 'embedding', converter: 'crossface_hififace', normalise: true },
      denormaliseOutput: true,
      pixelBoostSizes: BOOST_256,
      identityWeight: 'normalised',
    },
    note: 'Size not in the spec: checked by CRC-32 only.',
  }),
  crossface_simswap: converter('crossface_simswap', 'simswap_256 and simswap_unofficial_512', 22_100_000),
  crossface_ghost: converter('crossface_ghost', 'ghost_1/2/3_256', 22_100_000),
  crossface_hififace: converter('crossface_hififace', 'hififace_unofficial_256', 22_100_000),
  'gfpgan_1.2': gfpgan('1.2'),
  'gfpgan_1.3': gfpgan('1.3', { crc32: '9d118283' }),
  'gfpgan_1.4': gfpgan('1.4', {}, "; FaceFusion's default enhancer"),
  gpen_bfr_256: gpen(256),
  gpen_bfr_512: gpen(512),
  gpen_bfr_1024: gpen(1024),
  gpen_bfr_2048: gpen(2048),
  codeformer: enhancer(
    'codeformer',
    'CodeFormer (sczhou) face restoration at 512×512, with a fidelity weight',
    512,
    'ffhq_512',
    'CodeFormer (sczhou): S-Lab License 1.0, non-commercial use only (FaceFusion metadata).',
    true,
    { crc32: '1456f3ab' },
    true,
  ),
  restoreformer_plus_plus: enhancer(
    'restoreformer_plus_plus',
    'RestoreFormer++ (wzhouxiff) face restoration at 512×512',
    512,
    'ffhq_512',
    'RestoreFormer++ (wzhouxiff): Apache-2.0 (FaceFusion metadata).',
    false,
  ),
  bisenet_resnet_18: parser(18, 'models-3.1.0', { approxBytes: 51_000_000, crc32: '6cafc877' }),
  bisenet_resnet_34: parser(34, 'models-3.0.0', { approxBytes: 89_000_000 }),
  xseg_1: occluder(1, 'models-3.1.0', { approxBytes: 67_000_000, crc32: 'f207afe3' }),
  xseg_2: occluder(2, 'models-3.1.0', { approxBytes: 67_000_000 }),
  xseg_3: occluder(3, 'models-3.2.0', { approxBytes: 70_300_000 }),
};

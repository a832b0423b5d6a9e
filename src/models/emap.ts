/**
 * InSwapper's `emap`: the 512×512 matrix stored as the last initializer of inswapper_128(.fp16).onnx,
 * which maps an ArcFace embedding into the swapper's latent space (spec §6.1, §13.2 item 8).
 */

import { LiveswapError } from '../core/errors.js';
import { readOnnxModel, type OnnxModelInfo } from './onnx-proto.js';

export const EMAP_SIZE = 512;

/**
 * The model's last initializer as float32 (FLOAT16 files are widened), row-major [512, 512].
 * Parsing walks the whole file, so callers read it once per model and keep the result (1 MiB).
 * `label` names the file in error messages.
 */
export function readEmap(modelBytes: Uint8Array, label = 'the InSwapper model'): Float32Array {
  let info: OnnxModelInfo;
  try {
    info = readOnnxModel(modelBytes);
  } catch (cause) {
    throw new LiveswapError('model', `Could not parse ${label} as an ONNX file to read its emap: ${reason(cause)}`, { file: label, cause });
  }
  const last = info.initializers[info.initializers.length - 1];
  if (!last) throw new LiveswapError('model', `${label} has no initializers, so it holds no emap; is it an InSwapper model?`, { file: label });
  const dims = last.dims;
  if (dims.length !== 2 || dims[0] !== EMAP_SIZE || dims[1] !== EMAP_SIZE) {
    throw new LiveswapError(
      'model',
      `The last initializer of ${label} ("${last.name}") has shape [${dims.join(', ')}]; ` + `the emap must be [${EMAP_SIZE}, ${EMAP_SIZE}]. Is it an InSwapper 128 model?`,
      { file: label },
    );
  }
  try {
    return info.initializerFloats(last.name);
  } catch (cause) {
    throw new LiveswapError('model', `Could not read the emap ("${last.name}", ${last.dtype}) of ${label}: ${reason(cause)}`, { file: label, cause });
  }
}

function reason(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

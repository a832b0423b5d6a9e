/** The evaluation's face recogniser on Node: FaceRes, converted from @vladmandic/human into the cache. */

import { FaceEmbedder } from '../face/embedder.js';
import { builtinModel, defaultHome } from './model-cache.js';
import { createNodeRuntime } from './onnx-runtime.js';
import type { Recogniser } from './eval-runner.js';

export interface NodeRecogniser extends Recogniser {
  close(): Promise<void>;
}

export async function loadRecogniser(options: { home?: string } = {}): Promise<NodeRecogniser> {
  const cached = await builtinModel('faceres', options.home ?? defaultHome());
  const session = await createNodeRuntime({ threads: 1 }).load(cached.bytes, cached.path);
  const embedder = FaceEmbedder.create(session);
  return {
    name: 'FaceRes (HSE-FaceRes from @vladmandic/human, converted to ONNX)',
    embed: (image, face) => embedder.embed(image, face),
    close: () => session.close(),
  };
}

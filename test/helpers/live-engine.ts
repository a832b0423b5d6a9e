/**
 * The built-in engine as a live session uses it, loaded once for a test file: BlazeFace and FaceMesh
 * on one onnxruntime thread, a camera frame of the astronaut photo framed at a chosen size, and a
 * source photo. Call inside a `describe`: it registers the `before` and `after` hooks.
 */

import { after, before } from 'node:test';
import { toRgba, type Image } from '../../src/core/image.js';
import type { InferenceSession } from '../../src/models/runtime.js';
import { builtinModel } from '../../src/node/models/model-cache.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { assembleEngine } from '../../src/pipeline/engines.js';
import { framedPhoto } from './clips.js';
import { loadFixture, TEST_HOME } from './fixtures.js';

export interface LiveEngineFixture {
  engine: ReturnType<typeof assembleEngine>;
  /** The astronaut photo framed in a camera-sized RGBA frame. */
  camera: Image;
  /** grace_hopper.jpg as RGBA. */
  source: Image;
}

/** Loads the models and pictures in `before` and closes the sessions in `after`; the fields are set once `before` has run. */
export function liveEngineFixture(cameraWidth: number, cameraHeight: number): LiveEngineFixture {
  const runtime = createNodeRuntime({ threads: 1 });
  const sessions: InferenceSession[] = [];
  const fixture = {} as LiveEngineFixture;
  const load = async (id: 'blazeface' | 'facemesh') => {
    const model = await builtinModel(id, TEST_HOME);
    const session = await runtime.load(model.bytes, model.path);
    sessions.push(session);
    return session;
  };
  before(async () => {
    fixture.engine = assembleEngine({ detector: await load('blazeface'), mesh: await load('facemesh') });
    fixture.camera = toRgba(await framedPhoto('astronaut.png', cameraWidth, cameraHeight));
    fixture.source = toRgba(await loadFixture('grace_hopper.jpg'));
  });
  after(() => Promise.all(sessions.map((s) => s.close())));
  return fixture;
}

/**
 * Puts an engine together from loaded model sessions, the same way on every platform: Node loads
 * the sessions from files with onnxruntime-node, the browser from the local server with
 * onnxruntime-web.
 */

import type { Image } from '../core/image.js';
import { FaceAnalyzer, roiFromLandmarks } from '../face/analyzer.js';
import { ArcFaceEmbedder } from '../face/arcface.js';
import type { Face } from '../face/face.js';
import { Landmark106 } from '../face/landmark106.js';
import { ScrfdAnalyzer } from '../face/scrfd-analyzer.js';
import { ScrfdDetector } from '../face/scrfd.js';
import { MODEL_SPECS, type ModelSpec } from '../models/model-spec.js';
import type { InferenceSession } from '../models/runtime.js';
import { InswapperModel } from '../swap/inswapper.js';
import { InswapperEngine } from '../swap/inswapper-engine.js';
import { MeshSwapper } from '../swap/mesh-engine.js';
import type { MeshTuning } from '../swap/mesh-tuning.js';
import { StillSwapper, type FaceFinder } from './still.js';

/** BlazeFace and FaceMesh: every engine finds and follows faces with them. */
import type { EngineName } from './options.js';
export interface MeshSessions {
  detector: InferenceSession;
  mesh: InferenceSession;
}

/** The inswapper engine's models, loaded, and the emap read from inswapper_128. */
export interface InswapperSessions {
  detector: InferenceSession;
  recogniser: InferenceSession;
  swapper: InferenceSession;
  /** insightface's 2d106det, for Deep-Live-Cam's mouth mask, when installed. */
  landmarks?: InferenceSession;
  emap: Float32Array;
  /** Names the swapper model in messages (its path or URL). */
  swapperLabel: string;
  /** The swapper's row; default inswapper_128's (the fp16 file's has the same numbers). */
  swapperSpec?: ModelSpec;
}

export interface AssembledEngine {
  name: EngineName;
  /** Finds faces for this engine: BlazeFace + FaceMesh, or SCRFD (+ FaceMesh). */
  finder: FaceFinder;
  still: StillSwapper<unknown>;
  /**
   * Follows a face into the next frame with FaceMesh alone; absent for inswapper, which aligns on
   * SCRFD's own five points on every frame.
   */
  track?: (image: Image, face: Face) => Promise<Face | undefined>;
}

/** The mesh engine, or inswapper when its sessions are given. */
export function assembleEngine(mesh: MeshSessions, inswapper?: InswapperSessions, options: { meshTuning?: MeshTuning } = {}): AssembledEngine {
  const analyzer = FaceAnalyzer.create(mesh.detector, mesh.mesh);
  if (inswapper) {
    const landmarks = inswapper.landmarks ? Landmark106.create(inswapper.landmarks) : undefined;
    const finder = new ScrfdAnalyzer(ScrfdDetector.create(inswapper.detector), analyzer, landmarks);
    const swapper = InswapperModel.create(inswapper.swapper, inswapper.swapperSpec ?? MODEL_SPECS.inswapper_128, inswapper.swapperLabel);
    const engine = new InswapperEngine(ArcFaceEmbedder.create(inswapper.recogniser), swapper, inswapper.emap);
    return { name: 'inswapper', finder, still: new StillSwapper(finder, engine) as StillSwapper<unknown> };
  }
  return {
    name: 'mesh',
    finder: analyzer,
    still: new StillSwapper(analyzer, new MeshSwapper(options.meshTuning)) as StillSwapper<unknown>,
    track: (image, face) => analyzer.refine(image, roiFromLandmarks(face.landmarks), face.score),
  };
}

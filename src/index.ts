/**
 * The liveswap library for Node programs: `import { createNodeSwapper, readImage, writeImage } from 'liveswap'`.
 * Options, reports and errors are the same types the command line uses.
 */

export { createImage, cloneImage, cropImage, pasteImage, toRgb, clampRect, rectWidth, rectHeight } from './core/image.js';
export type { Image, FloatImage, Rect, Channels } from './core/image.js';

export { ERROR_KINDS, EXIT_CODES, LiveswapError, invalidOption } from './core/errors.js';
export type { ErrorKind } from './core/errors.js';

export { ENGINES, DEFAULT_SWAP_OPTIONS, resolveSwapOptions } from './pipeline/options.js';
export type { EngineChoice, SwapOptions } from './pipeline/options.js';

export type { FaceSummary, SkippedFace, SwapReport, StillResult } from './pipeline/report.js';
export { DEFAULT_MESH_TUNING, meshTuning, meshAblations } from './swap/mesh-tuning.js';
export type { MeshTuning, MeshAblation, ShapeRegions } from './swap/mesh-tuning.js';
export type { InputNames } from './pipeline/still.js';

export type { Face, FaceRoi } from './face/face.js';
export { faceSize, MESH_POINTS } from './face/face.js';
export { FACE_OVAL, LIPS_INNER, LIPS_OUTER, LEFT_EYE, RIGHT_EYE, POINT } from './face/mesh-indices.js';

export { createNodeSwapper } from './node/jobs/swapper.js';
export type { NodeSwapper, NodeSwapperOptions } from './node/jobs/swapper.js';

export { readImage, writeImage, encodeImage, outputFormatFor, INPUT_FORMATS, OUTPUT_FORMATS, DEFAULT_QUALITY } from './node/media/image-io.js';
export type { ReadImageOptions, WriteImageOptions, OutputFormat } from './node/media/image-io.js';

export { checkOutputPath, writeAtomically, writeFileAtomically } from './node/files/output.js';

export { swapVideo, parseVideoPoint } from './node/jobs/video-swap.js';
export type { VideoSwapRequest, VideoSwapSummary, VideoProgress, VideoEncoding, VideoPoint } from './node/jobs/video-swap.js';
export { DEFAULT_VIDEO_FACE_OPTIONS, VideoFacePlanner } from './pipeline/video.js';
export type { VideoFaceOptions, FaceSelection, FramePlan } from './pipeline/video.js';
export { DEFAULT_SHOT_CHANGE_OPTIONS, ShotChangeDetector } from './pipeline/shot-change.js';
export type { ShotChangeOptions, ShotChangeScores } from './pipeline/shot-change.js';
export { DEFAULT_ONE_EURO, OneEuroFilter } from './core/one-euro.js';
export type { OneEuroParams } from './core/one-euro.js';

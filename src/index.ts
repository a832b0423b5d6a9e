/**
 * The liveswap library for Node programs: `import { createNodeSwapper, readImage, writeImage } from 'liveswap'`.
 * Options, reports and errors are the same types the command line uses. Every swapped still and
 * video frame is labelled and watermarked unless the caller passes `marks: false`; results say
 * which marks they carry.
 */

export { createImage, cloneImage, cropImage, pasteImage, toRgb, clampRect, rectWidth, rectHeight } from './core/image.js';
export type { Image, FloatImage, Rect, Channels } from './core/image.js';

export { ERROR_KINDS, EXIT_CODES, LiveswapError, invalidOption } from './core/errors.js';
export type { ErrorKind } from './core/errors.js';

export {
  ENGINES,
  ENGINE_NAMES,
  ENGINE_CHOICES,
  EXECUTION_PROVIDERS,
  DEFAULT_SWAP_OPTIONS,
  STILL_DEFAULTS,
  VIDEO_DEFAULTS,
  LIVE_DEFAULTS,
  resolveSwapOptions,
  resolvePaintOptions,
  resolveTrackingOptions,
  resolveMarkOptions,
  FACE_REGIONS,
  FACE_PARSERS,
  OCCLUSION_MASKS,
  FACE_ENHANCERS,
  PIXEL_BOOSTS,
} from './pipeline/options.js';
export type {
  EngineChoice,
  EngineName,
  ExecutionProvider,
  SwapOptions,
  PaintOptions,
  TrackingOptions,
  MarkOptions,
  FaceRegion,
  FaceParserChoice,
  OcclusionMaskChoice,
  FaceEnhancerChoice,
} from './pipeline/options.js';

export { FrameProcessor } from './pipeline/frame-processor.js';
export type { FrameEngine, FrameProcessorOptions, ProcessedFrame, PaintedFace, ProcessTimings, MarkChoice, MarksApplied } from './pipeline/frame-processor.js';
export type { FrameSource, FrameSink, TimedFrame } from './pipeline/frame-io.js';
export { pumpFrames } from './pipeline/pump.js';
export type { PumpOptions, PumpStats } from './pipeline/pump.js';
export { FrameMarker } from './provenance/marks.js';
export type { MarkSettings } from './provenance/marks.js';
export { defaultMarker } from './node/provenance/default-marks.js';

export type { FaceSummary, SkippedFace, SwapReport, StillResult } from './pipeline/report.js';
export { DEFAULT_MESH_TUNING, meshTuning, meshAblations } from './swap/mesh-tuning.js';
export type { MeshTuning, MeshAblation, ShapeRegions } from './swap/mesh-tuning.js';
export type { InputNames } from './pipeline/still.js';

export type { Face, FaceRoi } from './face/face.js';
export { faceSize, MESH_POINTS } from './face/face.js';
export { FACE_OVAL, LIPS_INNER, LIPS_OUTER, LEFT_EYE, RIGHT_EYE, POINT } from './face/mesh-indices.js';

export { createNodeSwapper } from './node/jobs/swapper.js';
export type { NodeSwapper, NodeSwapperOptions } from './node/jobs/swapper.js';
export type { StillCall, MarkedStillResult } from './node/jobs/still-swap.js';

export { planImageJob, runImageJob, openNodeSwapper } from './node/jobs/image-job.js';
export type { ImageJobSpec, ImageJobPlan, ImageJobResult, JobRunOptions, JobRuntime, OpenSwapper } from './node/jobs/image-job.js';
export { planVideoJob, runVideoJob } from './node/jobs/video-job.js';
export type { VideoJobSpec, VideoJobPlan, VideoJobResult, VideoJobRunOptions } from './node/jobs/video-job.js';
export type { ProvenanceChoices, PublishedOutput } from './node/provenance/output-provenance.js';
export { openVideoSource, createVideoSink } from './node/media/ffmpeg.js';

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

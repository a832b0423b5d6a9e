/**
 * Video through ffmpeg: the executable, stream facts, frames in (readFrames, openVideoSource) and
 * out (createVideoWriter, createVideoSink), all as pipes of raw RGB frames with nothing on disk but the result.
 */

export { type DecodePlan, decoderArgs, type EncodePlan, encoderArgs, encoderFilterGraph, probeArgs } from './ffmpeg-args.js';
export { type FfmpegOptions, ffmpegEncoders, ffmpegPath, resolveFfmpeg } from './ffmpeg-binary.js';
export {
  VIDEO_CODECS,
  VIDEO_CONTAINER_EXTENSIONS,
  VIDEO_CONTAINERS,
  VIDEO_PIXEL_FORMATS,
  VIDEO_PRESETS,
  type VideoCodec,
  type VideoContainer,
  type VideoPixelFormat,
  type VideoPreset,
} from './ffmpeg-formats.js';
export { type ProbeOptions, probeVideo, type VideoInfo } from './ffmpeg-probe.js';
export { type ReadFramesOptions, readFrames } from './ffmpeg-read.js';
export { createVideoSink, type VideoSink, type VideoSinkOptions } from './ffmpeg-sink.js';
export { openVideoSource, type VideoSource, type VideoSourceOptions } from './ffmpeg-source.js';
export { createVideoWriter, planEncode, type VideoWriter, type VideoWriterOptions } from './ffmpeg-write.js';

/**
 * Video through ffmpeg: the executable, stream facts, frames in (readFrames) and out
 * (createVideoWriter), all as pipes of raw RGB frames with nothing on disk but the result.
 */

export { type FfmpegOptions, ffmpegEncoders, ffmpegPath } from './ffmpeg-binary.js';
export { type ProbeOptions, probeVideo, type VideoInfo } from './ffmpeg-probe.js';
export { type ReadFramesOptions, readFrames } from './ffmpeg-read.js';
export {
  createVideoWriter,
  VIDEO_CODECS,
  VIDEO_CONTAINERS,
  VIDEO_PIXEL_FORMATS,
  VIDEO_PRESETS,
  type VideoCodec,
  type VideoPixelFormat,
  type VideoPreset,
  type VideoWriter,
  type VideoWriterOptions,
} from './ffmpeg-write.js';

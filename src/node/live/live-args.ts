/**
 * ffmpeg command lines of a live run as pure functions of plain plans: the one decoder (video as
 * raw RGB frames on stdout at a constant rate, audio as 48 kHz stereo PCM on fd 3) and one encoder
 * per output (raw frames on stdin, the PCM on fd 3, progress on fd 4). No I/O, so tests pin each
 * case as an exact array.
 */

import { LiveswapError } from '../../core/errors.js';
import { fileUrlArg } from '../media/ffmpeg-binary.js';
import { rateArg } from '../media/ffmpeg-args.js';
import type { VideoPreset } from '../media/ffmpeg-formats.js';
import type { LiveInput, LiveOutput } from './live-spec.js';

const QUIET = ['-hide_banner', '-nostdin', '-loglevel', 'error'] as const;

/** The PCM every output's audio comes from: what the decoder writes on fd 3. */
export const LIVE_AUDIO = { sampleRate: 48_000, channels: 2, bytesPerSample: 2 } as const;

/**
 * Flags that make ffmpeg start on a stream at once: without them the first frame came ~5 s late
 * (it buffered and analysed seconds of the stream before giving anything).
 */
export const LOW_LATENCY_INPUT = ['-fflags', 'nobuffer', '-analyzeduration', '500000', '-probesize', '500000'] as const;

/** What a camera is asked for; left out, the device's own choice. */
export interface CameraRequest {
  width?: number | undefined;
  height?: number | undefined;
  fps?: number | undefined;
}

/** The part of a command line before the output options that opens `input`. */
export function inputArgs(input: LiveInput, camera: CameraRequest = {}): string[] {
  switch (input.kind) {
    case 'file':
      // -re: at the file's own pace, as a stream would come; -stream_loop -1: from the start again at its end.
      return ['-re', ...(input.loop ? ['-stream_loop', '-1'] : []), '-i', fileUrlArg(input.path)];
    case 'url':
      return [...LOW_LATENCY_INPUT, '-i', input.url];
    case 'camera': {
      const size = camera.width !== undefined && camera.height !== undefined ? ['-video_size', `${camera.width}x${camera.height}`] : [];
      // avfoundation refuses to open without a rate the camera offers; 30 is the one every webcam has.
      const rate = camera.fps !== undefined ? ['-framerate', rateArg(camera.fps)] : input.api === 'avfoundation' ? ['-framerate', '30'] : [];
      const device = input.api === 'avfoundation' ? `${input.device}:none` : input.api === 'dshow' ? `video=${input.device}` : input.device;
      return ['-f', input.api, ...rate, ...size, '-i', device];
    }
  }
}

/** The one decoder of a live run. */
export interface LiveDecodePlan {
  input: LiveInput;
  camera?: CameraRequest;
  /** Size of the frames piped out (scaled from the input's when different). */
  width: number;
  height: number;
  /** The constant rate frames come at: frames are repeated or dropped by their times to hold it. */
  fps: number;
  /** Whether the input's first audio stream is decoded to fd 3. */
  audio: boolean;
  /** A stream looked at for longer before decoding (its video came after the low-latency look). */
  patient?: boolean;
}

/** The longer look at a stream: 3 s and 5 MB, about what ffmpeg takes by default. */
export const PATIENT_INPUT = ['-analyzeduration', '3000000', '-probesize', '5000000'] as const;

/** The decoder: video frames as raw RGB on stdout at a constant rate, the audio as PCM on fd 3. */
export function liveDecoderArgs(plan: LiveDecodePlan): string[] {
  const video = ['-map', '0:v:0', '-an', '-sn', '-dn', '-vf', `fps=${rateArg(plan.fps)},scale=${plan.width}:${plan.height}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'];
  // The PCM carries no timestamps, so it is made to follow them: a file's sound starts at the file's
  // start (as its frames do), and a gap or overlap between them (at each pass of a looped file whose
  // sound and picture differ in length) is filled with silence or cut, rather than moving all the
  // sound after it against the picture. A stream's sound starts where it is joined.
  const resync = `aresample=async=1:min_hard_comp=0.02${plan.input.kind === 'file' ? ':first_pts=0' : ''}`;
  const audio = plan.audio
    ? ['-map', '0:a:0', '-vn', '-sn', '-dn', '-af', resync, '-ac', String(LIVE_AUDIO.channels), '-ar', String(LIVE_AUDIO.sampleRate), '-f', 's16le', 'pipe:3']
    : [];
  const opened = inputArgs(plan.input, plan.camera);
  const input = plan.patient && plan.input.kind === 'url' ? [...PATIENT_INPUT, '-i', plan.input.url] : opened;
  return [...QUIET, ...input, ...video, ...audio];
}

/** One output's encoder. */
export interface LiveEncodePlan {
  output: LiveOutput;
  /** Where a recording is written while it runs (renamed to the output's path at the end). */
  writeTo?: string;
  width: number;
  height: number;
  fps: number;
  /** Audio on fd 3 (the decoder's PCM); none for a v4l2 device, which carries video only. */
  audio: boolean;
  /** How much later the sound is placed than the frames (ms); negative: earlier. */
  audioDelayMs: number;
  preset: VideoPreset;
  /** x264 CRF. */
  crf: number;
}

/** A cap on the bit rate for a pushed stream: about 0.15 bits per pixel, as ingest servers like it. */
export function streamMaxRateKbps(width: number, height: number, fps: number): number {
  return Math.max(500, Math.round((width * height * fps * 0.15) / 1000 / 100) * 100);
}

/** An encoder: raw frames on stdin (evenly spaced at fps), the PCM on fd 3, progress lines on fd 4. */
export function liveEncoderArgs(plan: LiveEncodePlan): string[] {
  const { output, width, height, fps } = plan;
  const audio = plan.audio && output.kind !== 'v4l2';
  // Deep input queues: the sound comes ahead of the frames (they wait for the swap), and a shallow queue would stall one on the other.
  const rawIn = ['-thread_queue_size', '512', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-video_size', `${width}x${height}`, '-framerate', rateArg(fps), '-i', 'pipe:0'];
  const offset = plan.audioDelayMs !== 0 ? ['-itsoffset', String(plan.audioDelayMs / 1000)] : [];
  const pcmIn = audio ? ['-thread_queue_size', '4096', '-f', 's16le', '-ar', String(LIVE_AUDIO.sampleRate), '-ac', String(LIVE_AUDIO.channels), ...offset, '-i', 'pipe:3'] : [];
  const maps = ['-map', '0:v:0', ...(audio ? ['-map', '1:a:0'] : [])];
  const head = [...QUIET, '-progress', 'pipe:4', ...rawIn, ...pcmIn, ...maps];
  if (output.kind === 'v4l2') return [...head, '-vf', 'format=yuv420p', '-f', 'v4l2', output.device];
  const gop = Math.max(1, Math.round(fps * 2));
  const x264 = [
    '-vf',
    'scale=out_color_matrix=bt709:out_range=tv,format=yuv420p',
    '-c:v',
    'libx264',
    '-preset',
    plan.preset,
    '-tune',
    'zerolatency',
    '-crf',
    String(plan.crf),
    // A keyframe every two seconds: where a viewer joining (or a server cutting segments) can start.
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    ...['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv'],
  ];
  const aac = audio ? ['-c:a', 'aac', '-b:a', '128k', '-ar', String(LIVE_AUDIO.sampleRate)] : [];
  switch (output.kind) {
    case 'rtmp':
    case 'srt': {
      const maxrate = streamMaxRateKbps(width, height, fps);
      const cap = ['-maxrate', `${maxrate}k`, '-bufsize', `${maxrate * 2}k`];
      const muxer = output.kind === 'rtmp' ? ['-f', 'flv', '-flvflags', 'no_duration_filesize', output.url] : ['-f', 'mpegts', output.url];
      return [...head, ...x264, ...cap, ...aac, ...muxer];
    }
    case 'file': {
      const path = fileUrlArg(plan.writeTo ?? output.path);
      // Fragmented: every keyframe closes a fragment, so a recording cut off by a crash still plays.
      const muxer = output.container === '.mp4' ? ['-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4'] : ['-f', 'matroska'];
      return [...head, ...x264, ...aac, ...muxer, '-y', path];
    }
    case 'page':
    case 'whep':
      // Served by the live run itself (JPEGs over a WebSocket, WebRTC), never by an encoder.
      throw new LiveswapError('internal', `The ${output.kind} output is not an ffmpeg output.`);
  }
}

/** `ffmpeg -i` of a stream or camera with no output: its description on stderr is what the probe parses. */
export function liveProbeArgs(input: LiveInput, camera: CameraRequest = {}): string[] {
  return ['-hide_banner', '-nostdin', ...inputArgs(input, camera).filter((arg) => arg !== '-re')];
}

/** Lists the cameras ffmpeg sees (macOS, Windows); the list comes on stderr. */
export function listDevicesArgs(api: 'avfoundation' | 'dshow'): string[] {
  return ['-hide_banner', '-nostdin', '-f', api, '-list_devices', 'true', '-i', api === 'dshow' ? 'dummy' : ''];
}

/**
 * ffmpeg command lines as pure functions of plain plans: decoder, encoder, probe and frame-timing
 * scans. No I/O here, so tests pin each case as an exact array; the spawning modules only run them.
 */

import { fileUrlArg } from './ffmpeg-binary.js';
import { audioCopies, type VideoCodec, type VideoContainer, type VideoPixelFormat, type VideoPreset, VP9_CPU_USED } from './ffmpeg-formats.js';

/** Flags every directly spawned ffmpeg gets (runFfmpeg adds the first two itself): no banner, no stdin keys, errors only. */
const QUIET = ['-hide_banner', '-nostdin', '-loglevel', 'error'] as const;

/** swscale flags for YUV↔RGB: per-pixel chroma and exact rounding remove the fast path's darkening. */
export const ACCURATE_SCALE_FLAGS = 'bicubic+accurate_rnd+full_chroma_int';

/**
 * The same exact rounding and per-pixel chroma with the chroma interpolated bilinearly (2 taps, not
 * bicubic's 4): at 1280×720 about half the decoder's YUV→RGB time (about 5 ms a frame less), within
 * 52.7 dB PSNR of the bicubic result and without the fast path's darkening (mean difference 0.001 levels).
 */
export const BILINEAR_SCALE_FLAGS = 'bilinear+accurate_rnd+full_chroma_int';

/** One video stream decoded to raw RGB(A) frames on stdout (see readFrames). */
export interface DecodePlan {
  /** The video file; any local path (passed as a file: URL). */
  input: string;
  /** Index of the video stream among the file's streams (VideoInfo.streamIndex). */
  streamIndex: number;
  /** Size of the frames piped out: the displayed size, or a requested one. */
  width: number;
  height: number;
  /** 3: rgb24, 4: rgba. */
  channels: 3 | 4;
  /** Resample to this rate with the fps filter; undefined: every decoded frame once. */
  fps?: number | undefined;
  /** Stop after this many frames; undefined: all of them. */
  maxFrames?: number | undefined;
  /** Keep the frames shown from startPts (included) to endPts (excluded), in ticks of the stream's time base. */
  trim?: { startPts?: number | undefined; endPts?: number | undefined } | undefined;
  /**
   * Start decoding at the keyframe at or before this time (seconds on the file's timeline, which
   * starts at 0), not at the start of the file. Timestamps stay those of the whole file (`-copyts`
   * shifted by the file's start, as every other scan reads them), so `trim` still cuts exactly.
   */
  seekSeconds?: number | undefined;
  /**
   * Log each frame's presentation time (showinfo, after the trim) on stderr, in ticks of the
   * stream's time base, so the reader can give every frame its own time; the log level is then
   * info with each line's level named, so the reader can still tell errors apart.
   */
  frameTimes?: boolean | undefined;
  /** 'accurate': exact-rounding per-pixel chroma (bicubic); 'bilinear': the same, chroma interpolated bilinearly; 'fast': swscale's default path. */
  colorConversion: 'accurate' | 'bilinear' | 'fast';
  /**
   * Pipe the frames as 8-bit Y′CbCr 4:4:4 planes (yuv444p: the chroma upsampled as the accurate
   * conversion does it, the matrix left for the reader, see core/yuv.ts) instead of RGB(A); for
   * 8-bit limited-range video only (see planarMatrix in ffmpeg-read.ts).
   */
  planar?: boolean | undefined;
}

/** The log level of a decoder that reports frame times: showinfo logs at info; each line says its level. */
export const FRAME_TIMES_LOGLEVEL = 'repeat+level+info';

/** The full decoder command line (spawned directly, so the quiet flags are included). */
export function decoderArgs(plan: DecodePlan): string[] {
  const { width, height, channels, trim } = plan;
  const scaleFlags = plan.colorConversion === 'fast' ? '' : `:flags=${plan.colorConversion === 'bilinear' ? BILINEAR_SCALE_FLAGS : ACCURATE_SCALE_FLAGS}`;
  const trimArgs = [...(trim?.startPts !== undefined ? [`start_pts=${trim.startPts}`] : []), ...(trim?.endPts !== undefined ? [`end_pts=${trim.endPts}`] : [])];
  // showinfo before the scale: it checksums the frame, and the decoded YUV frame is the smaller one.
  const filters = [
    ...(trimArgs.length > 0 ? [`trim=${trimArgs.join(':')}`] : []),
    ...(plan.frameTimes ? ['showinfo'] : []),
    ...(plan.fps !== undefined ? [`fps=${plan.fps}`] : []),
    `scale=${width}:${height}${scaleFlags}`,
  ];
  const quiet = plan.frameTimes ? ['-hide_banner', '-nostdin', '-nostats', '-loglevel', FRAME_TIMES_LOGLEVEL] : [...QUIET];
  // -ss before -i seeks the demuxer to a keyframe; -noaccurate_seek leaves the exact cut to our trim;
  // -copyts -start_at_zero keep the timestamps the trim is given in (the file's, less its start time).
  const seek = plan.seekSeconds !== undefined && plan.seekSeconds > 0 ? ['-ss', seconds(plan.seekSeconds), '-noaccurate_seek', '-copyts', '-start_at_zero'] : [];
  const args = [...quiet, ...seek, '-i', fileUrlArg(plan.input), '-map', `0:${plan.streamIndex}`, '-an', '-sn', '-dn'];
  // Every decoded frame exactly once, as the exact frame count sees them; the fps filter resamples when asked.
  args.push('-vsync', 'passthrough');
  if (plan.maxFrames !== undefined && Number.isFinite(plan.maxFrames)) args.push('-frames:v', String(plan.maxFrames));
  // The explicit size is a no-op on the displayed size; it guarantees the frame size we slice by.
  const pixelFormat = plan.planar ? 'yuv444p' : channels === 4 ? 'rgba' : 'rgb24';
  args.push('-vf', filters.join(','), '-pix_fmt', pixelFormat, '-f', 'rawvideo', 'pipe:1');
  return args;
}

/** Seconds for a command line: at most microsecond precision (ffmpeg's own), no exponent. */
function seconds(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
}

/** Audio to mux in: streams of another file, whole or cut to [startSeconds, startSeconds + durationSeconds). */
export interface EncodeAudio {
  path: string;
  streams: readonly { index: number; codec: string }[];
  startSeconds?: number | undefined;
  durationSeconds?: number | undefined;
}

/** Raw RGB(A) frames on stdin encoded to one video file, every choice settled (createVideoWriter checks them). */
export interface EncodePlan {
  /** The container, by the output's extension: picks the muxer flags, the hvc1 tag and which audio is copied. */
  container: VideoContainer;
  /** Size and layout of the frames piped in. */
  width: number;
  height: number;
  channels: 3 | 4;
  /** Frames per second when `timing` does not give the times; 29.97-style rates become n×1000/1001. */
  fps: number;
  codec: VideoCodec;
  crf: number;
  preset: VideoPreset;
  pixelFormat: VideoPixelFormat;
  /** The RGB→YUV matrix and range, and the tags written (see VideoWriterOptions.color). */
  color: { matrix: string; range: 'tv' | 'pc' | 'unknown' };
  /** Each frame's time in ticks of timeBase; undefined: evenly spaced at fps. */
  timing?: { timeBase: readonly [number, number]; pts: readonly number[] } | undefined;
  /** Audio to add; undefined or no streams: a silent file. */
  audio?: EncodeAudio | undefined;
}

/** Where an encode reads its filter graph and writes its output (both chosen by the writer). */
export interface EncoderFiles {
  /** A file holding encoderFilterGraph(plan): a long variable-rate list does not fit a command line. */
  filterScript: string;
  /** The file ffmpeg writes (the writer's temporary name; it keeps the extension). */
  output: string;
}

/** Size of the encoded video: 4:2:0 needs an even width and height, 4:2:2 an even width. */
export function encodedSize(plan: Pick<EncodePlan, 'width' | 'height' | 'pixelFormat'>): { width: number; height: number; padWidth: number; padHeight: number } {
  const { width, height, pixelFormat } = plan;
  const padWidth = pixelFormat !== 'yuv444p' && width % 2 === 1 ? 1 : 0;
  const padHeight = pixelFormat === 'yuv420p' && height % 2 === 1 ? 1 : 0;
  return { width: width + padWidth, height: height + padHeight, padWidth, padHeight };
}

/**
 * How the frame times reach ffmpeg: evenly spaced from 0 as one exact rational input rate (which
 * also gives the last frame its length), else listed one by one with setpts.
 */
function encodeTiming(plan: Pick<EncodePlan, 'timing'>): { evenRate: string | undefined; listed: EncodePlan['timing'] } {
  const { timing } = plan;
  const step = timing && timing.pts.length > 1 ? timing.pts[1]! - timing.pts[0]! : 0;
  const evenRate = timing && timing.pts[0] === 0 && step > 0 && timing.pts.every((t, i) => t === i * step) ? `${timing.timeBase[1]}/${timing.timeBase[0] * step}` : undefined;
  return { evenRate, listed: timing && !evenRate ? timing : undefined };
}

/**
 * Whether the writer ends with one more copy of the last frame, after it on the timeline. With
 * listed times the encoder's time base is the source's tick (finer than a millisecond), and this
 * ffmpeg's MP4/MOV muxer then gives the last packet no duration: the edit list ends where the last
 * frame starts, and players (ffmpeg included) drop that frame. The extra copy, timed one spacing
 * later, is where the edit list now ends, so it is never shown and the last frame keeps its length.
 * Matroska and WebM store the last duration themselves; an evenly spaced encode gets it from its rate.
 */
export function needsClosingFrame(plan: Pick<EncodePlan, 'container' | 'timing'>): boolean {
  return (plan.container === '.mp4' || plan.container === '.mov') && encodeTiming(plan).listed !== undefined;
}

/** The video filter graph of an encode: times, padding to an even size, colour conversion, pixel format. */
export function encoderFilterGraph(plan: EncodePlan): string {
  const filters: string[] = [];
  const { listed } = encodeTiming(plan);
  if (listed) {
    // The source's own tick, and each frame's time from the list (passthrough: none added or dropped).
    filters.push(`settb=${listed.timeBase[0]}/${listed.timeBase[1]}`, `setpts='${setptsExpression(listed.pts)}'`);
  }
  const size = encodedSize(plan);
  if (size.padWidth || size.padHeight) filters.push(`pad=${size.width}:${size.height}:0:0`, `fillborders=right=${size.padWidth}:bottom=${size.padHeight}:mode=smear`);
  filters.push(colorArgs(plan.color).filter, `format=${plan.pixelFormat}`);
  return filters.join(',');
}

/** The full encoder command line (spawned directly, so the quiet flags are included). */
export function encoderArgs(plan: EncodePlan, files: EncoderFiles): string[] {
  const { container: ext, audio } = plan;
  const { evenRate, listed } = encodeTiming(plan);
  const color = colorArgs(plan.color);
  const audioInput = audio && audio.streams.length > 0 ? ['-i', fileUrlArg(audio.path)] : [];
  const audioOutput = audioInput.length > 0 ? audioArgs(ext, audio!) : ['-an'];
  return [
    ...QUIET,
    ...[
      '-f',
      'rawvideo',
      '-pix_fmt',
      plan.channels === 4 ? 'rgba' : 'rgb24',
      '-video_size',
      `${plan.width}x${plan.height}`,
      '-framerate',
      evenRate ?? rateArg(plan.fps),
      '-i',
      'pipe:0',
    ],
    ...audioInput,
    ...['-map', '0:v:0', '-filter_script:v', files.filterScript, ...codecArgs(plan)],
    // One output frame per frame given, at the time given: never duplicated or dropped.
    '-vsync',
    'passthrough',
    ...(listed ? ['-enc_time_base', `${listed.timeBase[0]}/${listed.timeBase[1]}`] : []),
    ...audioOutput,
    ...color.tags,
    // MP4/MOV hide an audio codec's priming samples in an edit list; Matroska cannot, so the whole
    // file moves by them (a few ms) rather than only the first video frame.
    ...(ext === '.mp4' || ext === '.mov' ? ['-movflags', '+faststart'] : ['-avoid_negative_ts', 'make_zero']),
    ...['-y', fileUrlArg(files.output)],
  ];
}

function codecArgs({ codec, crf, preset, container: ext }: EncodePlan): string[] {
  switch (codec) {
    case 'libx264':
      return ['-c:v', 'libx264', '-preset', preset, '-crf', String(crf)];
    case 'libx265':
      // hvc1 is the tag Apple players require in MP4/MOV; x265 logs on its own unless told not to.
      return ['-c:v', 'libx265', '-preset', preset, '-crf', String(crf), '-x265-params', 'log-level=error', ...(ext === '.mkv' ? [] : ['-tag:v', 'hvc1'])];
    case 'libvpx-vp9':
      // -b:v 0 makes the CRF a pure quality target; row-mt spreads one stream over the cores.
      return ['-c:v', 'libvpx-vp9', '-crf', String(crf), '-b:v', '0', '-deadline', 'good', '-cpu-used', String(VP9_CPU_USED[preset]), '-row-mt', '1'];
  }
}

/** n×1000/1001 rates as ffmpeg rationals, so 29.97 does not drift. */
export function rateArg(fps: number): string {
  const ntsc = Math.round((fps * 1001) / 1000);
  if (Math.abs((ntsc * 1000) / 1001 - fps) < 0.005 && Math.abs(ntsc - fps) > 0.005) return `${ntsc * 1000}/1001`;
  return String(fps);
}

/** Per audio output stream: copy, or the encoder and bit rate that replace the codec. */
function audioCodecArgs(ext: string, codecs: readonly string[]): string[] {
  return codecs.flatMap((codec, k) => {
    if (audioCopies(ext, codec)) return [`-c:a:${k}`, 'copy'];
    return ext === '.webm' ? [`-c:a:${k}`, 'libopus', `-b:a:${k}`, '128k'] : [`-c:a:${k}`, 'aac', `-b:a:${k}`, '192k'];
  });
}

/**
 * Maps and codecs for the audio streams: copied whole, or, for a part of the file, cut exactly
 * with atrim (a copied stream can only be cut at packet boundaries) and re-encoded.
 */
function audioArgs(ext: string, audio: EncodeAudio): string[] {
  const args = audio.streams.flatMap((a) => ['-map', `1:${a.index}`]);
  const cut = audio.startSeconds !== undefined || audio.durationSeconds !== undefined;
  if (!cut)
    return [
      ...args,
      ...audioCodecArgs(
        ext,
        audio.streams.map((a) => a.codec),
      ),
    ];
  const start = audio.startSeconds ?? 0;
  const end = audio.durationSeconds !== undefined ? `:end=${start + audio.durationSeconds}` : '';
  const trim = `atrim=start=${start}${end},asetpts=PTS-STARTPTS`;
  return [
    ...args,
    ...audio.streams.flatMap((_, k) => [`-filter:a:${k}`, trim]),
    ...audioCodecArgs(
      ext,
      audio.streams.map(() => 're-encode'),
    ),
  ];
}

/** The scale filter's name for a matrix tag; untagged video decodes (and so re-encodes) as BT.601. */
function scaleMatrix(matrix: string): string {
  const names: Record<string, string> = { bt709: 'bt709', smpte170m: 'smpte170m', bt470bg: 'bt470', bt2020nc: 'bt2020', bt2020c: 'bt2020', fcc: 'fcc', smpte240m: 'smpte240m' };
  return names[matrix] ?? 'bt601';
}

/** The colour conversion and the tags for `color` (see VideoWriterOptions.color). */
function colorArgs(color: { matrix: string; range: 'tv' | 'pc' | 'unknown' }): { filter: string; tags: string[] } {
  const range = color.range === 'pc' ? 'pc' : 'tv';
  const tags: string[] = [];
  if (color.range !== 'unknown') tags.push('-color_range', color.range === 'pc' ? 'pc' : 'tv');
  if (color.matrix !== 'unknown') {
    tags.push('-colorspace', color.matrix);
    if (color.matrix === 'bt709' || color.matrix === 'smpte170m') tags.push('-color_primaries', color.matrix, '-color_trc', color.matrix);
  }
  return { filter: `scale=out_color_matrix=${scaleMatrix(color.matrix)}:out_range=${range}:flags=${ACCURATE_SCALE_FLAGS}`, tags };
}

/**
 * An ffmpeg `setpts` expression giving frame N the time `pts[N]` (ticks): a balanced tree of
 * comparisons on N, so each frame costs log2(frames) steps; past the last frame it continues at
 * the last spacing. An evenly spaced list becomes one linear term.
 */
export function setptsExpression(pts: readonly number[]): string {
  const n = pts.length;
  if (n === 0) return 'N';
  const last = pts[n - 1]!;
  const step = n > 1 ? last - pts[n - 2]! : 1;
  if (isExactlyLinear(pts)) return `${pts[0]}+N*${step}`;
  const node = (lo: number, hi: number): string => {
    if (hi - lo === 1) return String(pts[lo]);
    const mid = (lo + hi) >> 1;
    return `if(lt(N,${mid}),${node(lo, mid)},${node(mid, hi)})`;
  };
  return `if(lt(N,${n}),${node(0, n)},${last}+(N-${n - 1})*${step})`;
}

function isExactlyLinear(pts: readonly number[]): boolean {
  if (pts.length < 2) return true;
  const step = pts[1]! - pts[0]!;
  for (let i = 2; i < pts.length; i++) if (pts[i]! - pts[i - 1]! !== step) return false;
  return true;
}

/*
 * The scans below go through runFfmpeg / runFfmpegLines, which put `-hide_banner -nostdin` in
 * front; these are the arguments after that.
 */

/** `ffmpeg -i FILE` with no output: the input description on stderr is what probeVideo parses. */
export function probeArgs(path: string): string[] {
  return ['-i', fileUrlArg(path)];
}

/** Decodes one stream into the null muxer; the last `frame=` of -progress is the exact frame count. */
export function frameCountArgs(path: string, streamIndex: number): string[] {
  return ['-loglevel', 'error', '-nostats', '-i', fileUrlArg(path), '-map', `0:${streamIndex}`, '-progress', 'pipe:1', '-f', 'null', '-'];
}

/** Lists one stream's packets without decoding (`-c copy -f framecrc`): their times, in the stream's time base. */
export function packetTimesArgs(path: string, streamIndex: number): string[] {
  return ['-i', fileUrlArg(path), '-map', `0:${streamIndex}`, '-c', 'copy', '-f', 'framecrc', 'pipe:1'];
}

/** Decodes one stream through showinfo, which logs each output frame's pts: for variable-rate video. */
export function decodedTimesArgs(path: string, streamIndex: number): string[] {
  return ['-i', fileUrlArg(path), '-map', `0:${streamIndex}`, '-vf', 'showinfo', '-f', 'null', '-'];
}

/**
 * When each frame of a video is shown: the presentation timestamps of its video stream, so that a
 * processed copy keeps the source's timing, variable frame rates included.
 *
 * The packets are listed without decoding (`-c copy -f framecrc`), which takes milliseconds. When
 * their spacing is uneven (a variable frame rate), the frames are timed again from a decoding pass,
 * because what a decoder outputs (edit lists, dropped leading frames) is what gets processed.
 */

import { LiveswapError } from '../../core/errors.js';
import { decodedTimesArgs, packetTimesArgs } from './ffmpeg-args.js';
import { type FfmpegOptions, lastLines, runFfmpegLines } from './ffmpeg-binary.js';
import type { VideoInfo } from './ffmpeg-probe.js';

/** Built with the other command lines; kept importable from here, where the frame times are read. */
export { setptsExpression } from './ffmpeg-args.js';

export interface FrameTiming {
  /** The stream's tick as [numerator, denominator] seconds, e.g. [1, 15360]. */
  timeBase: [number, number];
  /**
   * Each frame's presentation time in ticks, in display order, relative to the start of the file's
   * timeline (ffmpeg shifts every stream by the file's start time when it reads it).
   */
  pts: number[];
  /** True when the frames are evenly spaced (within one tick). */
  constantRate: boolean;
  /** How the times were read: from the packets, or from decoding (variable rate). */
  source: 'packets' | 'decoder';
  /**
   * Frames whose packets are in the file but that the decoder could not decode (damaged data),
   * known when the times were read by decoding; 0 from the packets alone (the decode finds them).
   */
  lostFrames: number;
}

/** Frames per second of a timing: the mean spacing, or the probe's rate for a single frame. */
export function timingFps(timing: FrameTiming, fallback: number): number {
  const { pts, timeBase } = timing;
  if (pts.length < 2) return fallback;
  const span = (pts[pts.length - 1]! - pts[0]!) * (timeBase[0] / timeBase[1]);
  return span > 0 ? (pts.length - 1) / span : fallback;
}

/** Seconds of frame `i` (ticks to seconds). */
export function frameSeconds(timing: FrameTiming, i: number): number {
  return timing.pts[i]! * (timing.timeBase[0] / timing.timeBase[1]);
}

/** Evenly spaced within one tick. */
function isConstantRate(pts: readonly number[]): boolean {
  if (pts.length < 3) return true;
  const deltas: number[] = [];
  for (let i = 1; i < pts.length; i++) deltas.push(pts[i]! - pts[i - 1]!);
  const sorted = [...deltas].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1]!;
  return deltas.every((d) => Math.abs(d - median) <= 1);
}

/** A time base from its two numbers, unless either is 0 or too large (a 0/1 tick made every time 0 or NaN; found by fuzzing). */
function timeBaseOf(num: string, den: string): [number, number] | undefined {
  const tb: [number, number] = [Number(num), Number(den)];
  return tb.every((n) => Number.isSafeInteger(n) && n > 0) ? tb : undefined;
}

/** framecrc's packet flags ("F=0x5"; none printed for a plain keyframe): AV_PKT_FLAG_CORRUPT, AV_PKT_FLAG_DISCARD. */
const PACKET_CORRUPT = 0x2;
const PACKET_DISCARD = 0x4;

/**
 * Reads `-f framecrc` lines: "#tb 0: 1/15360", then "0, dts, pts, duration, size, crc[, F=0x…]"
 * per packet. Packets flagged to be discarded (before an MP4 edit list's start: decoded only to
 * prime the decoder, never shown) are left out, as the decoder leaves out their frames. Exported for tests.
 */
export class FramecrcParser {
  timeBase: [number, number] | undefined;
  readonly pts: number[] = [];
  /** Packets the demuxer flagged corrupt (a truncated last packet, for one). */
  corrupt = 0;
  /** Where the last packet ends (pts + duration, in ticks); -Infinity before the first. */
  end = -Infinity;
  private lastDts = -Infinity;

  line(line: string): void {
    const tb = /^#tb 0: (\d+)\/(\d+)/.exec(line);
    if (tb) this.timeBase = timeBaseOf(tb[1]!, tb[2]!) ?? this.timeBase;
    if (!line.startsWith('0,')) return;
    const fields = line.split(',');
    const dts = Number(fields[1]);
    const value = Number(fields[2]);
    // A packet without a pts (raw streams): its dts, else one tick after the previous.
    // The first packet may have neither: it starts the count (-Infinity + 1 was a frame time; found by fuzzing).
    const t = Number.isFinite(value) ? value : Number.isFinite(dts) ? dts : Number.isFinite(this.lastDts) ? this.lastDts + 1 : 0;
    this.lastDts = Number.isFinite(dts) ? dts : t;
    const flags = /\bF=0x([0-9a-f]+)/i.exec(line);
    const flagBits = flags ? parseInt(flags[1]!, 16) : 0;
    if (flagBits & PACKET_CORRUPT) this.corrupt++;
    if (flagBits & PACKET_DISCARD) return;
    const duration = Number(fields[3]);
    this.end = Math.max(this.end, t + (Number.isFinite(duration) && duration > 0 ? duration : 0));
    this.pts.push(t);
  }
}

/** What the demuxer says when the data stops before the file's index or header says it should. */
const READ_PROBLEM = /corrupt input packet|Read error|partial file|truncat|End of file|Invalid data found/i;

/** The lines of a listing's log that report a read problem; not the input's description (its path and tags may hold any word). */
function readProblems(log: string): string[] {
  return log.split(/[\r\n]+/).filter((line) => !/^\s|^(Input|Output) #|^Stream mapping|^0,|^#/.test(line) && READ_PROBLEM.test(line));
}

/** Seconds of missing data, at the end, that make a file that also failed to read truncated. */
const TRUNCATED_SECONDS = 0.5;

/**
 * Refuses a file whose video ends well before the duration the container declares while the
 * demuxer reported damaged or missing data: its end was cut off (a copy or download that stopped).
 */
function checkComplete(path: string, info: VideoInfo, packets: FramecrcParser, log: string): void {
  if (!packets.timeBase || !Number.isFinite(packets.end) || !(info.durationSeconds > 0)) return;
  const endSeconds = (packets.end * packets.timeBase[0]) / packets.timeBase[1];
  const problems = readProblems(log);
  if (info.durationSeconds - endSeconds < TRUNCATED_SECONDS || (packets.corrupt === 0 && problems.length === 0)) return;
  const said = lastLines(problems.join('\n'), 2);
  throw new LiveswapError(
    'input-unreadable',
    `Cannot read all of the video ${path}: it is truncated, its data stops at ${endSeconds.toFixed(2)} s of the ${info.durationSeconds.toFixed(2)} s it declares ` +
      `(ffmpeg: ${said || 'its last packet is incomplete'}).`,
    { file: path },
  );
}

/** The pts of a showinfo frame line ("… n:   3 pts:   1536 pts_time:0.1 …"), else undefined. Exported for tests. */
export function showinfoPts(line: string): number | undefined {
  const m = /\bn:\s*\d+\s+pts:\s*(-?\d+)\s+pts_time:/.exec(line);
  return m ? Number(m[1]) : undefined;
}

/**
 * The presentation times of the frames the decoder will output for `info`'s video stream. Errors
 * are `input-unreadable` naming the file.
 */
export async function readFrameTiming(path: string, info: VideoInfo, options: FfmpegOptions = {}): Promise<FrameTiming> {
  const packets = new FramecrcParser();
  const listing = await runFfmpegLines(packetTimesArgs(path, info.streamIndex), 'stdout', (line) => packets.line(line), options);
  if (listing.code !== 0 || !packets.timeBase) {
    throw new LiveswapError('input-unreadable', `Cannot read the frame times of ${path} (ffmpeg: ${lastLines(listing.tail, 3) || `exit code ${listing.code}`}).`, { file: path });
  }
  checkComplete(path, info, packets, listing.tail);
  packets.pts.sort((a, b) => a - b);
  // Both listings come after ffmpeg's shift by the file's start time: the times are relative already.
  if (packets.pts.length > 0 && isConstantRate(packets.pts)) {
    return { timeBase: packets.timeBase, pts: packets.pts, constantRate: true, source: 'packets', lostFrames: 0 };
  }
  // Uneven spacing: time what the decoder outputs, in the stream's own time base.
  const pts: number[] = [];
  let timeBase = packets.timeBase;
  const decoded = await runFfmpegLines(
    decodedTimesArgs(path, info.streamIndex),
    'stderr',
    (line) => {
      const t = showinfoPts(line);
      if (t !== undefined) pts.push(t);
      const tb = /config in time_base: (\d+)\/(\d+)/.exec(line);
      if (tb) timeBase = timeBaseOf(tb[1]!, tb[2]!) ?? timeBase;
    },
    options,
  );
  if (decoded.code !== 0 || pts.length === 0) {
    throw new LiveswapError('input-unreadable', `Cannot decode ${path} to read its frame times (ffmpeg: ${lastLines(decoded.tail, 3) || `exit code ${decoded.code}`}).`, {
      file: path,
    });
  }
  // Frames the decoder could not make are missing from its list: their times stay gaps.
  return { timeBase, pts, constantRate: isConstantRate(pts), source: 'decoder', lostFrames: Math.max(0, packets.pts.length - pts.length) };
}

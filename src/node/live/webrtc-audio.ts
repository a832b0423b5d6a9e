/**
 * The sound of a live run for its WebRTC viewers (WHEP): the input's PCM (48 kHz stereo s16le,
 * numbered by sample as the run reads it) cut into the 10-ms frames libwebrtc takes, each sent when
 * the picture of the same moment is shown. The ffmpeg outputs line sound and pictures up by their
 * place on the timeline; a WebRTC receiver lines them up by when they were handed over, so the
 * sound here waits for the pictures: the pacer learns from each frame shown (its slot, at the
 * run's rate) when the timeline's moments reach the viewers, and releases each 10 ms of sound at
 * its moment (plus the run's audio delay). The first {@link SETTLE_FRAMES} frames set that clock
 * (their median: the first frames come late while the models warm up), and later frames move it
 * by at most {@link MAX_DRIFT} of the time passed: a receiver reads the sound's timing from its
 * sample count, so a clock that jumped would send a burst (or a gap) the player then buffers for
 * the rest of the session (a clock that followed each frame quickly left Chromium holding 1.1 s of
 * sound on the stage clip).
 * The frames go out on a steady cadence, one for each 10 ms of the clock, as libwebrtc expects of a
 * source: a receiver times sound by its sample count, so every gap or burst in the cadence would
 * stay in the player's jitter buffer as lasting delay, and hold the pictures back with it (with the
 * sound ffmpeg delivers up to 0.84 s late at each seam of the looped stage clip sent at once when
 * it came, Chromium showed that clip's pictures 266–444 ms after they arrived instead of about
 * 100). So sound that has not come by its moment (plus
 * {@link SLACK_MS}) is sent as silence and let go when it comes; sound held from before the clock
 * was set is let go too, and until then at most {@link MAX_HELD_MS} is held.
 */

import { LIVE_AUDIO } from './live-args.js';

/** Samples per channel in one 10-ms frame, libwebrtc's unit of audio. */
export const AUDIO_FRAME_SAMPLES = LIVE_AUDIO.sampleRate / 100;
const FRAME_BYTES = AUDIO_FRAME_SAMPLES * LIVE_AUDIO.channels * LIVE_AUDIO.bytesPerSample;
const BYTES_PER_SAMPLE = LIVE_AUDIO.channels * LIVE_AUDIO.bytesPerSample;
/**
 * How much later than its picture a frame of sound is due: room for ffmpeg's sound, which comes in
 * chunks of about 21 ms, tens of ms apart, and for the swap holding the event loop. A frame whose
 * sound has not come by its moment is sent as silence (and the sound, when it comes, let go).
 */
export const SLACK_MS = 60;
/**
 * How far behind its cadence the pacer may fall (an event loop held that long) and still send the
 * frames it owes at once; beyond that it starts again from the frame due now.
 */
export const LATE_MS = 300;
/** Most sound held while no picture has been shown yet. */
export const MAX_HELD_MS = 3000;
/** Frames whose timing sets the clock before any sound is sent. */
export const SETTLE_FRAMES = 25;
/** How much of the way to each later frame's timing the clock's target moves (a time constant of about 20 frames). */
const CLOCK_FOLLOW = 0.05;
/** Most the clock moves, as a share of the time passed (1 %: a pitch change no one hears, which the player's time-stretching absorbs). */
export const MAX_DRIFT = 0.01;

export interface AudioPacerOptions {
  /** The run's frame rate: slot n is the timeline's moment n / fps. */
  fps: number;
  /** Sound later (positive) or earlier than the pictures, as the run's --output-delay. */
  delayMs: number;
  /** Takes one 10-ms frame of interleaved stereo samples. */
  send(samples: Int16Array): void;
}

/** Bytes in arrival order, kept as the chunks they came in: adding and dropping copy nothing. */
class ByteQueue {
  private readonly chunks: Buffer[] = [];
  /** Bytes of the first chunk already dropped. */
  private offset = 0;
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Drops the first `bytes` (all, when there are fewer). */
  drop(bytes: number): void {
    let left = Math.min(bytes, this.length);
    this.length -= left;
    while (left > 0) {
      const head = this.chunks[0]!;
      const here = Math.min(left, head.length - this.offset);
      this.offset += here;
      left -= here;
      if (this.offset === head.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
  }

  /** Copies the first `target.length` bytes (there must be as many) into `target`. */
  copyTo(target: Uint8Array): void {
    let at = 0;
    let offset = this.offset;
    for (const chunk of this.chunks) {
      if (at === target.length) break;
      const here = Math.min(target.length - at, chunk.length - offset);
      target.set(chunk.subarray(offset, offset + here), at);
      at += here;
      offset = 0;
    }
  }
}

export class AudioPacer {
  /** Sound not sent yet, and the number of its first sample. */
  private readonly pending = new ByteQueue();
  private first = 0;
  /** When the timeline's moment 0 reaches the viewers (performance.now() ms), once the clock is set. */
  private zero: number | undefined;
  /** Where the frames shown say it should be, and when the clock last moved. */
  private target = 0;
  private movedAt = 0;
  /** The timings of the first frames, until the clock is set. */
  private readonly settling: number[] = [];
  private ended = false;
  /** The sample the next frame starts at, once the cadence has begun. */
  private next: number | undefined;
  /** Frames sent with sound, sent as silence (the sound not there yet), and of sound let go (it came after its moment). */
  readonly stats = { sent: 0, silent: 0, late: 0 };

  constructor(private readonly options: AudioPacerOptions) {}

  /** Sound from sample `firstSample` on; what was had already is skipped, a gap is filled with silence. */
  push(pcm: Buffer, firstSample: number): void {
    if (this.ended) return;
    const end = this.first + this.pending.length / BYTES_PER_SAMPLE;
    // A copy of what is kept: the caller may reuse its buffer.
    if (this.pending.length === 0 && firstSample >= end) {
      // Nothing waiting: start where this sound starts (a gap before it is not sent as silence).
      this.pending.push(Buffer.from(pcm));
      this.first = firstSample;
    } else {
      const skip = Math.max(0, end - firstSample) * BYTES_PER_SAMPLE;
      if (skip >= pcm.length) return;
      this.pending.push(Buffer.alloc(Math.max(0, firstSample - end) * BYTES_PER_SAMPLE));
      this.pending.push(Buffer.from(pcm.subarray(skip)));
    }
    if (this.zero === undefined) this.keepLast(MAX_HELD_MS);
  }

  /** A picture for `slot` has just been handed to the viewers at `now` (performance.now() ms). */
  shown(slot: number, now: number): void {
    const zero = now - (slot * 1000) / this.options.fps;
    if (this.zero === undefined) {
      this.settling.push(zero);
      if (this.settling.length < SETTLE_FRAMES) return;
      const sorted = this.settling.sort((a, b) => a - b);
      this.zero = this.target = sorted[sorted.length >> 1]!;
      this.movedAt = now;
      return;
    }
    this.target += CLOCK_FOLLOW * (zero - this.target);
    const most = MAX_DRIFT * (now - this.movedAt);
    this.zero += Math.max(-most, Math.min(most, this.target - this.zero));
    this.movedAt = now;
  }

  /** No more sound comes; what is pending is still sent at its moments. */
  end(): void {
    this.ended = true;
  }

  /** Whether nothing is left to send after {@link end}. */
  get drained(): boolean {
    return this.ended && this.pending.length < FRAME_BYTES;
  }

  /**
   * Sends a frame for each 10 ms of the cadence whose moment has come by `now`: the sound of that
   * moment, or silence where it has not come; sound older than the frame due is let go.
   */
  tick(now: number): void {
    if (this.zero === undefined) return;
    // The first frame, and after a stall longer than LATE_MS, the frame due now (frames start at
    // whole 10 ms of the run's sound).
    if (this.next === undefined || now - this.momentOf(this.next) > LATE_MS) {
      this.next = Math.floor(this.sampleAt(now) / AUDIO_FRAME_SAMPLES) * AUDIO_FRAME_SAMPLES;
    }
    while (this.momentOf(this.next) <= now) {
      const behind = this.next - this.first;
      if (behind > 0) {
        const drop = Math.min(behind, this.pending.length / BYTES_PER_SAMPLE);
        this.stats.late += drop / AUDIO_FRAME_SAMPLES;
        this.dropSamples(drop);
      }
      const samples = new Int16Array(FRAME_BYTES / 2);
      if (this.first === this.next && this.pending.length >= FRAME_BYTES) {
        // A copy: libwebrtc keeps the samples past the call, and the pending bytes move on.
        this.pending.copyTo(new Uint8Array(samples.buffer));
        this.dropSamples(AUDIO_FRAME_SAMPLES);
        this.stats.sent++;
      } else if (this.drained) {
        return;
      } else {
        this.stats.silent++;
      }
      this.options.send(samples);
      this.next += AUDIO_FRAME_SAMPLES;
    }
  }

  /** When the frame starting at sample `sample` is due (performance.now() ms). */
  private momentOf(sample: number): number {
    return this.zero! + this.options.delayMs + SLACK_MS + (sample * 1000) / LIVE_AUDIO.sampleRate;
  }

  /** The sample due at `now`. */
  private sampleAt(now: number): number {
    return Math.floor(((now - this.zero! - this.options.delayMs - SLACK_MS) * LIVE_AUDIO.sampleRate) / 1000);
  }

  /** Drops all but the last `ms` of the pending sound. */
  private keepLast(ms: number): void {
    const keep = Math.floor((ms * LIVE_AUDIO.sampleRate) / 1000);
    const held = this.pending.length / BYTES_PER_SAMPLE;
    if (held > keep) this.dropSamples(held - keep);
  }

  /** Drops the first `samples` of the pending sound. */
  private dropSamples(samples: number): void {
    this.pending.drop(samples * BYTES_PER_SAMPLE);
    this.first += samples;
  }
}

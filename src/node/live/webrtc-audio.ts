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
 * Sound that falls more than {@link LATE_MS} behind (a stalled decoder or event loop) is dropped
 * rather than played that late, and so is what was held from before the clock was set; until
 * then at most {@link MAX_HELD_MS} is held.
 */

import { LIVE_AUDIO } from './live-args.js';

/** Samples per channel in one 10-ms frame, libwebrtc's unit of audio. */
export const AUDIO_FRAME_SAMPLES = LIVE_AUDIO.sampleRate / 100;
const FRAME_BYTES = AUDIO_FRAME_SAMPLES * LIVE_AUDIO.channels * LIVE_AUDIO.bytesPerSample;
const BYTES_PER_SAMPLE = LIVE_AUDIO.channels * LIVE_AUDIO.bytesPerSample;
/**
 * How far past its moment a frame of sound may still be sent (the swap can hold the event loop
 * for tens of ms). Later sound is dropped: sent in a burst, it would stay in the player's jitter
 * buffer as that much more delay for the rest of the session. A camera's or a stream's sound, and
 * a file's between the seams of its loop, come from ffmpeg within tens of ms. At each seam of a
 * looped file, ffmpeg (`-re -stream_loop`) delivered the sound up to 0.84 s late on the stage
 * clip of the evaluation set (whose picture starts 0.84 s after its sound) and 0.85 s on a 2-s
 * synthetic clip; that much is dropped (an audio-only ffmpeg was not late, but its loop would not
 * keep the file's timeline).
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

export class AudioPacer {
  /** Sound not sent yet, and the number of its first sample. */
  private pending = Buffer.alloc(0);
  private first = 0;
  /** When the timeline's moment 0 reaches the viewers (performance.now() ms), once the clock is set. */
  private zero: number | undefined;
  /** Where the frames shown say it should be, and when the clock last moved. */
  private target = 0;
  private movedAt = 0;
  /** The timings of the first frames, until the clock is set. */
  private readonly settling: number[] = [];
  private ended = false;
  /** Frames sent and dropped (late). */
  readonly stats = { sent: 0, late: 0 };

  constructor(private readonly options: AudioPacerOptions) {}

  /** Sound from sample `firstSample` on; what was had already is skipped, a gap is filled with silence. */
  push(pcm: Buffer, firstSample: number): void {
    if (this.ended) return;
    const end = this.first + this.pending.length / BYTES_PER_SAMPLE;
    if (this.pending.length === 0 && firstSample >= end) {
      // Nothing waiting: start where this sound starts (a gap before it is not sent as silence).
      this.pending = Buffer.from(pcm);
      this.first = firstSample;
    } else {
      const skip = Math.max(0, end - firstSample) * BYTES_PER_SAMPLE;
      if (skip >= pcm.length) return;
      const gap = Math.max(0, firstSample - end) * BYTES_PER_SAMPLE;
      this.pending = Buffer.concat([this.pending, Buffer.alloc(gap), pcm.subarray(skip)]);
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
      // What was held while the clock was set and whose moment has passed is let go, not sent at once.
      const passed = Math.floor(((now - this.zero - this.options.delayMs) * LIVE_AUDIO.sampleRate) / 1000) - this.first;
      if (passed > 0) this.dropSamples(Math.min(passed, this.pending.length / BYTES_PER_SAMPLE));
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

  /** Sends every whole 10-ms frame whose moment has come by `now`, dropping those too late to play. */
  tick(now: number): void {
    if (this.zero === undefined) return;
    let at = 0;
    while (this.pending.length - at >= FRAME_BYTES) {
      const moment = this.zero + ((this.first + at / BYTES_PER_SAMPLE) * 1000) / LIVE_AUDIO.sampleRate + this.options.delayMs;
      if (moment > now) break;
      if (now - moment > LATE_MS) this.stats.late++;
      else {
        // A copy: libwebrtc keeps the samples past the call, and the pending bytes move on.
        const samples = new Int16Array(FRAME_BYTES / 2);
        Buffer.from(samples.buffer).set(this.pending.subarray(at, at + FRAME_BYTES));
        this.options.send(samples);
        this.stats.sent++;
      }
      at += FRAME_BYTES;
    }
    if (at > 0) {
      this.pending = this.pending.subarray(at);
      this.first += at / BYTES_PER_SAMPLE;
    }
  }

  /** Drops all but the last `ms` of the pending sound. */
  private keepLast(ms: number): void {
    const keep = Math.floor((ms * LIVE_AUDIO.sampleRate) / 1000);
    const held = this.pending.length / BYTES_PER_SAMPLE;
    if (held > keep) this.dropSamples(held - keep);
  }

  /** Drops the first `samples` of the pending sound. */
  private dropSamples(samples: number): void {
    this.pending = this.pending.subarray(samples * BYTES_PER_SAMPLE);
    this.first += samples;
  }
}

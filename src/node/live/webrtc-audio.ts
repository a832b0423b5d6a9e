/**
 * The sound of a live run for its WebRTC viewers (WHEP): the input's PCM (48 kHz stereo s16le,
 * numbered by sample as the run reads it) cut into the 10-ms frames libwebrtc takes, each sent when
 * the picture of the same moment is shown. The ffmpeg outputs line sound and pictures up by their
 * place on the timeline; a WebRTC receiver lines them up by when they were handed over, so the
 * sound here waits for the pictures: the pacer learns from each frame shown (its slot, at the
 * run's rate) when the timeline's moments reach the viewers, follows that slowly as the swap's
 * latency moves, and releases each 10 ms of sound at its moment (plus the run's audio delay).
 * Sound that falls more than {@link LATE_MS} behind (a stalled decoder or event loop) is dropped
 * rather than played that late; before the first picture at most {@link MAX_HELD_MS} is held.
 */

import { LIVE_AUDIO } from './live-args.js';

/** Samples per channel in one 10-ms frame, libwebrtc's unit of audio. */
export const AUDIO_FRAME_SAMPLES = LIVE_AUDIO.sampleRate / 100;
const FRAME_BYTES = AUDIO_FRAME_SAMPLES * LIVE_AUDIO.channels * LIVE_AUDIO.bytesPerSample;
const BYTES_PER_SAMPLE = LIVE_AUDIO.channels * LIVE_AUDIO.bytesPerSample;
/**
 * How far past its moment a frame of sound may still be sent. ffmpeg delivers a looped file's
 * sound in bursts up to about 0.85 s late (measured on a 2-s clip with `-re -stream_loop -1`; a
 * camera's or a stream's comes within tens of ms), and the player's jitter buffer absorbs bursts
 * that size, so only sound later than this is dropped.
 */
export const LATE_MS = 1500;
/** Most sound held while no picture has been shown yet. */
export const MAX_HELD_MS = 3000;
/** How much of the way to each shown frame's timing the clock moves (a time constant of about 20 frames). */
const CLOCK_FOLLOW = 0.05;

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
  /** When the timeline's moment 0 reaches the viewers (performance.now() ms), once a picture has been shown. */
  private zero: number | undefined;
  private ended = false;
  /** Frames sent and dropped (late), for the run's status. */
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
    this.zero = this.zero === undefined ? zero : this.zero + CLOCK_FOLLOW * (zero - this.zero);
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
    const keep = Math.floor((ms * LIVE_AUDIO.sampleRate) / 1000) * BYTES_PER_SAMPLE;
    if (this.pending.length <= keep) return;
    const drop = this.pending.length - keep;
    this.pending = this.pending.subarray(drop);
    this.first += drop / BYTES_PER_SAMPLE;
  }
}

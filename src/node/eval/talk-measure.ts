/**
 * Measuring a talking-portrait video as a viewer gets it: FaceMesh finds the mouth in every
 * decoded frame (its opening: lip gap over mouth width), the audio track is decoded, and the two
 * are correlated (see pipeline/talk-sync.ts); the video and audio durations are those of the
 * decoded streams.
 */

import { expression } from '../../eval/attributes.js';
import type { Face } from '../../face/face.js';
import { envelopeAt, lipSync, type LipSync } from '../../pipeline/talk-sync.js';
import type { FfmpegOptions } from '../media/ffmpeg-binary.js';
import { probeVideo } from '../media/ffmpeg-probe.js';
import { readFrames } from '../media/ffmpeg-read.js';
import type { NodeSwapper } from '../jobs/swapper.js';
import { decodeAudio, SPEECH_RATE } from '../jobs/talk-speech.js';

export interface TalkMeasure {
  frames: number;
  fps: number;
  /** Decoded frames / rate, and decoded audio samples / rate (seconds). */
  videoSeconds: number;
  audioSeconds: number;
  /** Mouth opening per frame as FaceMesh sees it; NaN where no face was found. */
  mouth: Float32Array;
  /** The speech envelope at each frame's time (what the mouth is correlated with, at offset 0). */
  envelope: Float32Array;
  facesFound: number;
  sync: LipSync;
}

/** Decodes `file` and measures its mouth against its sound with `swapper`'s face finder. */
export async function measureTalk(file: string, swapper: Pick<NodeSwapper, 'analyze' | 'track'>, options: FfmpegOptions = {}): Promise<TalkMeasure> {
  const info = await probeVideo(file, options);
  const openings: number[] = [];
  let previous: Face | undefined;
  let facesFound = 0;
  for await (const frame of readFrames(file, { ...options, probed: info })) {
    let face: Face | undefined = previous && swapper.track ? await swapper.track(frame, previous) : undefined;
    face ??= (await swapper.analyze(frame))[0];
    previous = face;
    if (face) facesFound++;
    openings.push(face ? expression(face).mouthOpen : Number.NaN);
  }
  const samples = info.hasAudio ? await decodeAudio(file, { ...options, role: 'sound track' }) : new Float32Array(0);
  const mouth = Float32Array.from(openings);
  return {
    frames: mouth.length,
    fps: info.fps,
    videoSeconds: mouth.length / info.fps,
    audioSeconds: samples.length / SPEECH_RATE,
    mouth,
    envelope: envelopeAt(samples, SPEECH_RATE, info.fps, mouth.length, 0),
    facesFound,
    sync: lipSync(mouth, samples, SPEECH_RATE, info.fps),
  };
}

/**
 * Measuring a talking-portrait video as a viewer gets it: FaceMesh finds the mouth in every
 * decoded frame (the main face, followed as a talk follows it: see talk-faces.ts), the audio track is decoded, and the mouth's opening is correlated with the
 * speech's envelope (see pipeline/talk-sync.ts); the video and audio durations are those of the
 * decoded streams.
 *
 * Two readings of the opening are kept side by side. `mesh`: FaceMesh's inner-lip gap over the
 * mouth's width on the whole frame, as it was first measured. `visible`: the lip gap as the
 * picture shows it, read the same way for every face: a face smaller than {@link CROP_FACE_SIZE}
 * is measured in a crop centred on its mouth, upscaled (bicubic) until the face is that size, where
 * FaceMesh runs again; the inner-lip gap is then widened to the opening's visible dark edges
 * (FaceMesh's lip line falls short of them on small faces; see visibleOpening). Frames whose mouth
 * is covered (a microphone) are not left out: no reading of the picture told them apart reliably.
 */

import type { Image } from '../../core/image.js';
import { expression } from '../../eval/attributes.js';
import type { Face } from '../../face/face.js';
import { POINT } from '../../face/mesh-indices.js';
import { visibleOpening } from '../../pipeline/talk-render.js';
import { envelopeAt, lipSync, type LipSync } from '../../pipeline/talk-sync.js';
import type { FfmpegOptions } from '../media/ffmpeg-binary.js';
import { probeVideo } from '../media/ffmpeg-probe.js';
import { readFrames } from '../media/ffmpeg-read.js';
import type { NodeSwapper } from '../jobs/swapper.js';
import { talkFacePlanner } from '../jobs/talk-faces.js';
import { decodeAudio, SPEECH_RATE } from '../jobs/talk-speech.js';

/** A face smaller than this (its landmarks' box, pixels) is measured again in an upscaled crop of its mouth's surroundings. */
export const CROP_FACE_SIZE = 256;
/** The crop's side, in face sizes (the whole face is in it, for FaceMesh). */
const CROP_FACES = 1.8;

export interface TalkMeasure {
  frames: number;
  fps: number;
  /** Decoded frames / rate, and decoded audio samples / rate (seconds). */
  videoSeconds: number;
  audioSeconds: number;
  /** Mouth opening per frame as FaceMesh reads it on the whole frame (lip gap over mouth width); NaN where no face was found. */
  mouth: Float32Array;
  /** The speech envelope at each frame's time (what the mouth is correlated with, at offset 0). */
  envelope: Float32Array;
  facesFound: number;
  /** `mouth` against the speech. */
  sync: LipSync;
  /** The visible reading (see the file's comment): per frame, NaN where no face was found; `cropped`: frames read in an upscaled crop. */
  visible: { mouth: Float32Array; cropped: number; sync: LipSync };
}

/** Catmull-Rom weights of the four taps around a sample at fraction `t`. */
function cubicWeights(t: number, w: Float32Array): void {
  const t2 = t * t;
  const t3 = t2 * t;
  w[0] = 0.5 * (-t3 + 2 * t2 - t);
  w[1] = 0.5 * (3 * t3 - 5 * t2 + 2);
  w[2] = 0.5 * (-3 * t3 + 4 * t2 + t);
  w[3] = 0.5 * (t3 - t2);
}

/** The square of `image` with top-left (x0, y0) and side `side` (frame pixels), resampled bicubically to `size`×`size` RGB (edges clamped). */
export function upscaledCrop(image: Image, x0: number, y0: number, side: number, size: number): Image {
  const c = image.channels;
  const out = new Uint8ClampedArray(size * size * 3);
  const step = side / size;
  const wx = new Float32Array(4);
  const wy = new Float32Array(4);
  const clampX = (x: number): number => Math.min(image.width - 1, Math.max(0, x));
  const clampY = (y: number): number => Math.min(image.height - 1, Math.max(0, y));
  for (let j = 0; j < size; j++) {
    const sy = y0 + (j + 0.5) * step - 0.5;
    const iy = Math.floor(sy);
    cubicWeights(sy - iy, wy);
    for (let i = 0; i < size; i++) {
      const sx = x0 + (i + 0.5) * step - 0.5;
      const ix = Math.floor(sx);
      cubicWeights(sx - ix, wx);
      for (let k = 0; k < 3; k++) {
        let sum = 0;
        for (let b = 0; b < 4; b++) {
          const row = clampY(iy - 1 + b) * image.width;
          let across = 0;
          for (let a = 0; a < 4; a++) across += wx[a]! * image.data[(row + clampX(ix - 1 + a)) * c + (c >= 3 ? k : 0)]!;
          sum += wy[b]! * across;
        }
        out[(j * size + i) * 3 + k] = sum;
      }
    }
  }
  return { width: size, height: size, channels: 3, data: out };
}

/** `face` moved into a crop whose top-left is (x0, y0) in the frame and scaled by `scale`. */
function faceInCrop(face: Face, x0: number, y0: number, scale: number): Face {
  const landmarks = face.landmarks.map((v, i) => (i % 3 === 0 ? (v - x0) * scale : i % 3 === 1 ? (v - y0) * scale : v * scale));
  const kps5 = face.kps5.map((v, i) => (v - (i % 2 === 0 ? x0 : y0)) * scale);
  return {
    box: [(face.box[0] - x0) * scale, (face.box[1] - y0) * scale, face.box[2] * scale, face.box[3] * scale],
    score: face.score,
    meshScore: face.meshScore,
    kps5,
    landmarks,
    roi: { cx: (face.roi.cx - x0) * scale, cy: (face.roi.cy - y0) * scale, size: face.roi.size * scale, angle: face.roi.angle },
  };
}

/** The visible reading of one frame's face: its opening, and whether it was measured in an upscaled crop. */
async function readVisible(frame: Image, face: Face, swapper: Pick<NodeSwapper, 'track'>): Promise<{ open: number; cropped: boolean }> {
  const size = Math.max(face.box[2], face.box[3], 1);
  let image = frame;
  let found = face;
  let cropped = false;
  if (size < CROP_FACE_SIZE && swapper.track) {
    const side = CROP_FACES * size;
    const mx = (face.landmarks[3 * POINT.upperLipInner]! + face.landmarks[3 * POINT.lowerLipInner]!) / 2;
    const my = (face.landmarks[3 * POINT.upperLipInner + 1]! + face.landmarks[3 * POINT.lowerLipInner + 1]!) / 2;
    // Centred on the mouth, reaching up past the eyes: the whole face is in the crop.
    const x0 = mx - side / 2;
    const y0 = my - 0.62 * side;
    const scale = (CROP_FACES * CROP_FACE_SIZE) / side;
    const crop = upscaledCrop(frame, x0, y0, side, Math.round(side * scale));
    const again = await swapper.track(crop, faceInCrop(face, x0, y0, scale));
    if (again) {
      image = crop;
      found = again;
      cropped = true;
    }
  }
  return { open: visibleOpening(found, image).open, cropped };
}

/** Decodes `file` and measures its mouth against its sound with `swapper`'s face finder. */
export async function measureTalk(file: string, swapper: Pick<NodeSwapper, 'analyze' | 'track'>, options: FfmpegOptions = {}): Promise<TalkMeasure> {
  const info = await probeVideo(file, options);
  const openings: number[] = [];
  const visible: number[] = [];
  let cropped = 0;
  let facesFound = 0;
  // The face is followed as the talk followed it: the main face, afresh at each cut.
  const planner = talkFacePlanner(swapper);
  let index = 0;
  for await (const frame of readFrames(file, { ...options, probed: info })) {
    const face = (await planner.plan(frame, index / info.fps, index)).faces[0]?.face;
    index++;
    if (face) facesFound++;
    openings.push(face ? expression(face).mouthOpen : Number.NaN);
    const reading = face ? await readVisible(frame, face, swapper) : undefined;
    if (reading?.cropped) cropped++;
    visible.push(reading ? reading.open : Number.NaN);
  }
  const samples = info.hasAudio ? await decodeAudio(file, { ...options, role: 'sound track' }) : new Float32Array(0);
  const mouth = Float32Array.from(openings);
  const visibleMouth = Float32Array.from(visible);
  return {
    frames: mouth.length,
    fps: info.fps,
    videoSeconds: mouth.length / info.fps,
    audioSeconds: samples.length / SPEECH_RATE,
    mouth,
    envelope: envelopeAt(samples, SPEECH_RATE, info.fps, mouth.length, 0),
    facesFound,
    sync: lipSync(mouth, samples, SPEECH_RATE, info.fps),
    visible: {
      mouth: visibleMouth,
      cropped,
      sync: lipSync(visibleMouth, samples, SPEECH_RATE, info.fps),
    },
  };
}

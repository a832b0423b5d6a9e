/**
 * A talking portrait as a job: speech (flite from text, or the user's audio with an optional phone
 * track) drives the mouth of a face in a photo or a video; the frames are painted with the mesh
 * warp (see pipeline/talk-render.ts), optionally given another identity by the swap engine, marked
 * like every output and encoded with the speech into an MP4, then published like a video job:
 * content credentials, the audit line, an atomic rename. Plan first (every cheap check, nothing
 * loaded), then run (cancellable, with progress). The two cores overlap as in a video swap: frame n
 * is marked on the marks thread (mark-thread.ts) and encoded from the encoder's pipe thread while
 * frame n + 1 is decoded (read ahead on the decoder's pipe thread) and painted.
 */

import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import { cloneImage, createImage, type Image } from '../../core/image.js';
import type { Face } from '../../face/face.js';
import { POINT } from '../../face/mesh-indices.js';
import { resolveSwapOptions, type EngineChoice } from '../../pipeline/options.js';
import type { PreparedSource } from '../../pipeline/still.js';
import { idleMotion, loudness, mouthFromEnvelope, mouthFromPhones, speechEnvelope, type MouthTrack } from '../../pipeline/talk-timeline.js';
import { renderTalkingFace, rigFace, type TalkRig } from '../../pipeline/talk-render.js';
import { parsePhoneTrack } from '../../pipeline/talk-visemes.js';
import { checkInputFile, readInputFile } from '../files/input-file.js';
import { checkOutputPath, createTemporaryFolder, temporaryPathFor } from '../files/output.js';
import { ffmpegPath } from '../media/ffmpeg-binary.js';
import { openVideoSource } from '../media/ffmpeg-source.js';
import { createVideoSink, type VideoSink } from '../media/ffmpeg-sink.js';
import { readImage } from '../media/image-io.js';
import { defaultHome } from '../models/model-cache.js';
import { MarkThread, markingSink } from '../provenance/mark-thread.js';
import { recyclingSink, type FrameSink } from '../../pipeline/frame-io.js';
import { startProvenance, type AuditContext, type OutputProvenance, type ProvenanceChoices, type PublishedOutput } from '../provenance/output-provenance.js';
import { openNodeSwapper, type JobRunOptions, type JobRuntime } from './image-job.js';
import type { NodeSwapper } from './swapper.js';
import { MAIN_FACE_DOMINANCE, MIN_MAIN_FACE_SHARE, talkFacePlanner } from './talk-faces.js';
import { checkFlite, decodeAudio, readSpeechText, speakWithFlite, SPEECH_RATE, writeWav, type Speech } from './talk-speech.js';
import { inspectVideo, type InspectedVideo } from './video-swap.js';

/** Photo extensions the face is read as a still from; anything else is read as a video. */
const PHOTO_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];
/** Containers a talk is written to: H.264 video with AAC audio. */
export const TALK_CONTAINERS = ['.mp4', '.mov'] as const;
export const DEFAULT_TALK_FPS = 25;

export interface TalkJobSpec {
  /** The face that talks: a photo, or a video whose face keeps its own motion. */
  face: string;
  /** Another person's photo: the talking face gets this identity in the same pass. */
  source?: string;
  /** What is said: text (spoken by flite), a text file, or the user's audio file. Exactly one. */
  text?: string;
  textFile?: string;
  audio?: string;
  /** With `audio`: the phone track that goes with it (see parsePhoneTrack); without it the mouth follows the sound's loudness. */
  phonemes?: string;
  output: string;
  /** flite's voice (`flite -lv`); default flite's own. */
  voice?: string;
  /** Frames per second; default 25. */
  fps?: number;
  /** The engine for `source`; default mesh (nothing to download). */
  engine?: EngineChoice;
  marks: ProvenanceChoices;
  runtime?: JobRuntime;
  ffmpegPath?: string;
  /** The flite executable; default `flite` on PATH. */
  flite?: string;
  home?: string;
  maxPixels?: number;
  /**
   * Mark each frame (label and watermark, the same bytes) on a thread of its own while the next
   * frame is painted, as a video swap does. Default: when the machine has more than one core.
   */
  marksThread?: boolean;
}

export interface TalkJobPlan {
  spec: TalkJobSpec;
  ffmpegPath: string;
  fps: number;
  /** The face as a photo, or the video's inspection. */
  photo: Image | undefined;
  video: InspectedVideo | undefined;
  sourceImage: Image | undefined;
  text: string | undefined;
  provenance: OutputProvenance;
}

export interface TalkProgress {
  frame: number;
  total: number;
  elapsedSeconds: number;
}

export interface TalkRunOptions extends JobRunOptions {
  onProgress?: (progress: TalkProgress) => void;
  audit?: AuditContext;
  beforeCommit?: () => Promise<void>;
}

export interface TalkJobResult {
  output: string;
  engine: string;
  frames: number;
  fps: number;
  /** Seconds of speech (and of video: the frames cover it to within one frame). */
  durationSeconds: number;
  /** Where the mouth's timing came from. */
  drivenBy: 'flite' | 'phone track' | 'audio envelope';
  framesWithFace: number;
  swapped: boolean;
  /** The mouth opening planned per frame (0–1): what the lip-sync measure compares against. */
  mouth: Float32Array;
  /**
   * The lip gap as painted per frame, over the mouth's width (the posed inner-lip points, the same
   * ratio the measure reads from the output); NaN where no face was painted. The known truth a
   * measure of the output can be checked against.
   */
  painted: Float32Array;
  /**
   * Milliseconds: `render` painting on this thread, `swap` the identity, `mark` the marks (on the
   * marks thread when `marksThread`, its own time there), `encodeWait` this thread's wait to hand a
   * frame on (to the marks thread and encoder; with the thread, that is where a busy machine shows).
   */
  timings: { total: number; speech: number; render: number; swap: number; mark: number; encodeWait: number };
  /** Whether the marks were drawn on their own thread (see TalkJobSpec.marksThread). */
  marksThread: boolean;
  published: PublishedOutput;
  notices: string[];
}

function isPhoto(path: string): boolean {
  return PHOTO_EXTENSIONS.includes(extname(path).toLowerCase());
}

function checkSpec(spec: TalkJobSpec): number {
  const given = [spec.text !== undefined, spec.textFile !== undefined, spec.audio !== undefined].filter(Boolean).length;
  if (given !== 1) throw new LiveswapError('usage', 'Say what the face says with exactly one of --text TEXT, --text-file FILE or --audio FILE.');
  if (spec.phonemes !== undefined && spec.audio === undefined)
    throw new LiveswapError('usage', '--phonemes goes with --audio: it times the mouth to your own audio (flite times its own speech).');
  if (spec.voice !== undefined && spec.audio !== undefined) throw new LiveswapError('usage', '--voice chooses the flite voice for --text; it does nothing with --audio.');
  if (spec.text !== undefined && spec.text.trim() === '') throw new LiveswapError('usage', '--text is empty: give the words to say.');
  const ext = extname(spec.output).toLowerCase();
  if (!(TALK_CONTAINERS as readonly string[]).includes(ext))
    throw new LiveswapError('usage', `A talk is written as ${TALK_CONTAINERS.join(' or ')} (H.264 and AAC); got ${spec.output}.`);
  const fps = spec.fps ?? DEFAULT_TALK_FPS;
  if (!(Number.isFinite(fps) && fps >= 5 && fps <= 60)) throw new LiveswapError('usage', `--fps must be between 5 and 60 (got ${fps}).`);
  return fps;
}

/** Every cheap check before anything loads: the inputs exist and read, flite runs, the output can be written. */
export async function planTalkJob(spec: TalkJobSpec): Promise<TalkJobPlan> {
  const fps = checkSpec(spec);
  const maxPixels = spec.maxPixels ?? 50_000_000;
  const ffmpeg = ffmpegPath(spec.ffmpegPath !== undefined ? { ffmpegPath: spec.ffmpegPath } : {});
  let text = spec.text;
  if (spec.textFile !== undefined) {
    text = await readSpeechText(spec.textFile);
    if (text.trim() === '') throw new LiveswapError('usage', `${spec.textFile}: the text file holds no words to say.`, { file: spec.textFile });
  }
  if (text !== undefined) checkFlite(spec.voice, spec.flite);
  if (spec.audio !== undefined) await checkInputFile(spec.audio, 'audio');
  if (spec.phonemes !== undefined) await checkInputFile(spec.phonemes, 'phone track');
  const photo = isPhoto(spec.face) ? await readImage(spec.face, { maxPixels }) : undefined;
  const video = photo ? undefined : await inspectVideo(spec.face, { maxPixels, ffmpeg: { ffmpegPath: ffmpeg } });
  const sourceImage = spec.source !== undefined ? await readImage(spec.source, { maxPixels }) : undefined;
  const inputs = [spec.face, ...(spec.source !== undefined ? [spec.source] : []), ...(spec.audio !== undefined ? [spec.audio] : [])];
  await checkOutputPath(spec.output, { inputs });
  const provenance = await startProvenance(spec.home ?? defaultHome(), spec.marks, 'video');
  return { spec, ffmpegPath: ffmpeg, fps, photo, video, sourceImage, text, provenance };
}

/** The speech and the mouth track it drives, `frames` long. */
async function speechOf(plan: TalkJobPlan, folder: string): Promise<{ speech: Speech; drivenBy: TalkJobResult['drivenBy'] }> {
  const { spec } = plan;
  if (plan.text !== undefined) {
    const speech = await speakWithFlite(plan.text, folder, {
      ffmpegPath: plan.ffmpegPath,
      ...(spec.voice !== undefined ? { voice: spec.voice } : {}),
      ...(spec.flite !== undefined ? { flite: spec.flite } : {}),
    });
    return { speech, drivenBy: 'flite' };
  }
  const samples = await decodeAudio(spec.audio!, { ffmpegPath: plan.ffmpegPath });
  if (samples.length < SPEECH_RATE * 0.05) throw new LiveswapError('input-unreadable', `${spec.audio}: the audio is shorter than 50 ms.`, { file: spec.audio });
  if (spec.phonemes === undefined) return { speech: { samples, sampleRate: SPEECH_RATE, phones: undefined }, drivenBy: 'audio envelope' };
  const track = parsePhoneTrack((await readInputFile(spec.phonemes, 'phone track', { maxBytes: 4 * 1024 * 1024 })).toString('utf8'), spec.phonemes);
  return { speech: { samples, sampleRate: SPEECH_RATE, phones: track }, drivenBy: 'phone track' };
}

/** Frames of the face: the photo every frame, or the video's frames in turn, from its start again when it is shorter than the speech. */
async function* faceFrames(plan: TalkJobPlan, frames: number): AsyncGenerator<Image> {
  if (plan.photo) {
    for (let f = 0; f < frames; f++) yield plan.photo;
    return;
  }
  const { info, timing } = plan.video!;
  let done = 0;
  while (done < frames) {
    // Decoded ahead on the pipe's own thread.
    const source = await openVideoSource(plan.spec.face, { ffmpegPath: plan.ffmpegPath, probed: info, timing, fps: plan.fps });
    let got = 0;
    try {
      for await (const frame of source) {
        yield frame.image;
        got++;
        if (++done >= frames) break;
      }
    } finally {
      await source.close();
    }
    if (got === 0) throw new LiveswapError('input-unreadable', `${plan.spec.face} decoded to no frames.`, { file: plan.spec.face });
  }
}

/** The inner-lip gap over the mouth's width of posed points (x,y pairs; the mesh first). */
function paintedOpening(posed: Float32Array): number {
  const distance = (i: number, j: number): number => Math.hypot(posed[2 * i]! - posed[2 * j]!, posed[2 * i + 1]! - posed[2 * j + 1]!);
  return distance(POINT.upperLipInner, POINT.lowerLipInner) / Math.max(1e-6, distance(POINT.mouthLeft, POINT.mouthRight));
}

/** Opens the engine, speaks, paints and encodes every frame, and publishes; on failure or cancel nothing is left at the output. */
export async function runTalkJob(plan: TalkJobPlan, options: TalkRunOptions = {}): Promise<TalkJobResult> {
  const started = performance.now();
  const { spec, provenance, fps } = plan;
  const notices: string[] = [];
  // Started first: the thread loads while flite speaks and the face is found (about 0.4 s, off the frames' path).
  // The same marks as provenance.marker draws.
  const markThread = (spec.marksThread ?? availableParallelism() > 1) ? new MarkThread(provenance.marker.settings) : undefined;
  let folder: string | undefined;
  let swapper: NodeSwapper;
  try {
    folder = await createTemporaryFolder('talk');
    swapper = await (options.open ?? openNodeSwapper)({ ...(spec.runtime ?? { provider: 'cpu', threads: 1 }), engine: spec.engine ?? 'mesh' });
  } catch (error) {
    // The speech's temporary folder and the marks thread go with a failed start too.
    if (folder !== undefined) await rm(folder, { recursive: true, force: true }).catch(() => undefined);
    await markThread?.close();
    throw error;
  }
  let output: FrameSink | undefined;
  const temporary = temporaryPathFor(spec.output);
  try {
    const speechStarted = performance.now();
    const { speech, drivenBy } = await speechOf(plan, folder);
    // Whole frames cover the speech; the audio is padded with silence to end with the last frame.
    const frames = Math.max(1, Math.ceil((speech.samples.length / speech.sampleRate) * fps - 1e-6));
    const padded = new Float32Array(Math.round((frames / fps) * speech.sampleRate));
    padded.set(speech.samples.subarray(0, padded.length));
    const wav = join(folder, 'speech.wav');
    await writeWav(wav, padded, speech.sampleRate);
    const envelope = speechEnvelope(padded, speech.sampleRate, fps, frames);
    const mouth: MouthTrack = speech.phones ? mouthFromPhones(speech.phones, fps, frames, { loudness: loudness(envelope) }) : mouthFromEnvelope(envelope, fps);
    if (speech.phones && drivenBy === 'phone track') {
      const end = speech.phones.at(-1)!.end;
      if (Math.abs(end - speech.samples.length / speech.sampleRate) > 0.5) {
        notices.push(
          `The phone track ends at ${end.toFixed(2)} s but the audio lasts ${(speech.samples.length / speech.sampleRate).toFixed(2)} s: check that they belong together.`,
        );
      }
    }
    const speechMs = performance.now() - speechStarted;

    let identity: PreparedSource | undefined;
    const paint = resolveSwapOptions({ engine: spec.engine ?? 'mesh' });
    if (plan.sourceImage) identity = await swapper.prepareSource(plan.sourceImage, paint, spec.source);
    const width = plan.photo ? plan.photo.width : plan.video!.info.width;
    const height = plan.photo ? plan.photo.height : plan.video!.info.height;
    // The identity goes on first, on the still face (its closed mouth, as the engine expects), and
    // the swapped face then talks: the opened mouth is never painted over.
    const swapped = createImage(width, height, 3);
    const swap = async (image: Image, face: Face): Promise<{ image: Image; face: Face }> => {
      if (!identity) return { image, face };
      swapped.data.set(image.data);
      await swapper.paintFaces(swapped, [{ face, identity: identity.identity }], paint);
      const found = swapper.track ? await swapper.track(swapped, face) : (await swapper.analyze(swapped))[0];
      return { image: swapped, face: found ?? face };
    };
    let still: { image: Image; face: Face; rig: TalkRig } | undefined;
    if (plan.photo) {
      const found = (await swapper.analyze(plan.photo))[0];
      if (!found) throw new LiveswapError('no-face', `${spec.face}: no face was found in the photo, so there is no mouth to move.`, { file: spec.face });
      const base = await swap(plan.photo, found);
      still = { image: cloneImage(base.image), face: base.face, rig: rigFace(base.face, base.image, 'keep') };
    }
    const sink: VideoSink = await createVideoSink(temporary, {
      ffmpegPath: plan.ffmpegPath,
      width,
      height,
      fps,
      codec: 'libx264',
      preset: 'veryfast',
      crf: 20,
      audio: { path: wav, streams: [{ index: 0, codec: 'pcm_s16le' }] },
    });
    output = sink;
    const threadTime = { ms: 0 };
    // A frame's pixels go back to the pool once the encoder has its copy; a frame on the marks
    // thread is the thread's until marked, so a few frames' buffers are in use at once.
    const pool: Uint8ClampedArray[] = [];
    const recycling = recyclingSink(sink, (data) => pool.push(data));
    output = markThread ? markingSink(recycling, markThread, { stats: threadTime }) : recycling;
    const channels = plan.photo ? plan.photo.channels : 3;
    const nextOut = (): Image => {
      const data = pool.pop();
      return data ? { width, height, channels, data } : createImage(width, height, channels);
    };
    const timings = { render: 0, swap: 0, mark: 0, encodeWait: 0 };
    let framesWithFace = 0;
    const painted = new Float32Array(frames).fill(Number.NaN);
    // A video's face is followed the way video jobs follow theirs (see talk-faces.ts).
    const faces = plan.photo ? undefined : talkFacePlanner(swapper);
    let f = 0;
    let lastProgress = -Infinity;
    for await (const image of faceFrames(plan, frames)) {
      if (options.signal?.aborted) throw new LiveswapError('interrupted', `Stopped before ${spec.output} was finished; nothing was saved.`, { file: spec.output });
      const t0 = performance.now();
      const out = nextOut();
      const found = still ? still.face : (await faces!.plan(image, f / fps, f)).faces[0]?.face;
      let swapMs = 0;
      if (found) {
        framesWithFace++;
        const s0 = performance.now();
        const { image: source, face } = still ?? (await swap(image, found));
        swapMs = performance.now() - s0;
        // A video's own mouth is replaced: its speaking or singing must not fight the speech.
        const rig = still?.rig ?? rigFace(face, source, 'replace');
        const pose = { mouth: { open: mouth.open[f]!, wide: mouth.wide[f]!, round: mouth.round[f]! }, ...(still ? { motion: idleMotion(f / fps) } : {}) };
        const posed = renderTalkingFace(source, rig, pose, out);
        painted[f] = paintedOpening(posed);
      } else {
        out.data.set(image.data);
      }
      const t1 = performance.now() - swapMs;
      const t2 = performance.now();
      if (!markThread) provenance.marker.mark(out);
      const t3 = performance.now();
      await output.write(out, f / fps);
      const t4 = performance.now();
      timings.render += t1 - t0;
      timings.swap += swapMs;
      timings.mark += t3 - t2;
      timings.encodeWait += t4 - t3;
      f++;
      if (options.onProgress && (t4 - lastProgress > 250 || f === frames)) {
        lastProgress = t4;
        options.onProgress({ frame: f, total: frames, elapsedSeconds: (t4 - started) / 1000 });
      }
    }
    await output.close();
    output = undefined;
    timings.mark += threadTime.ms;
    if (framesWithFace === 0)
      throw new LiveswapError(
        'no-face',
        `${spec.face}: no frame of the video shows a main face to talk (one clear face, at least ${MIN_MAIN_FACE_SHARE * 100} % of the frame's height and ${MAIN_FACE_DOMINANCE} times as tall as any other), so there is no mouth to move.`,
        { file: spec.face },
      );
    if (framesWithFace < frames) notices.push(`No main face to talk was found in ${frames - framesWithFace} of ${frames} frames; those show the video as it is.`);
    if (options.signal?.aborted) throw new LiveswapError('interrupted', `Stopped before ${spec.output} was finished; nothing was saved.`, { file: spec.output });
    const published = await provenance.publish(temporary, spec.output, {
      kind: 'video',
      // The identity photo and the user's speech: the audit line keeps their hashes.
      sources: [...(spec.source !== undefined ? [spec.source] : []), ...(spec.audio !== undefined ? [spec.audio] : [])],
      target: spec.face,
      engine: identity ? swapper.engine : 'talk',
      options: {
        talk: true,
        drivenBy,
        ...(spec.voice !== undefined ? { voice: spec.voice } : {}),
        fps,
        frames,
        label: provenance.label,
      },
      ...(options.audit ? { audit: options.audit } : {}),
      ...(options.beforeCommit ? { beforeCommit: options.beforeCommit } : {}),
    });
    const round = (v: number): number => Math.round(v * 10) / 10;
    return {
      output: resolve(spec.output),
      engine: identity ? swapper.engine : 'talk',
      frames,
      fps,
      durationSeconds: frames / fps,
      drivenBy,
      framesWithFace,
      swapped: identity !== undefined,
      mouth: mouth.open,
      painted,
      timings: {
        total: round(performance.now() - started),
        speech: round(speechMs),
        render: round(timings.render),
        swap: round(timings.swap),
        mark: round(timings.mark),
        encodeWait: round(timings.encodeWait),
      },
      marksThread: markThread !== undefined,
      published,
      notices: [...notices, ...(published.notice ? [published.notice] : [])],
    };
  } finally {
    await output?.abort();
    await markThread?.close();
    await rm(temporary, { force: true }).catch(() => undefined);
    await rm(folder, { recursive: true, force: true }).catch(() => undefined);
    await swapper.close();
  }
}

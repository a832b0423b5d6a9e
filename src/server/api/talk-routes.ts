/**
 * `POST /v1/talks`: a talking portrait as a job, like a video job. The face (an identity, or a
 * photo or video sent with a consent attestation), what it says (text, spoken here by flite at
 * submission so the talk seconds are known exactly and the workers need no flite; or the caller's
 * audio with an optional phone track), an optional identity to give the face; talk seconds
 * reserved against the token's quota, the job queued on the same queue as video jobs, and the
 * result fetched, followed and cancelled through /v1/jobs/:id like theirs. The streaming form is
 * talk-live.ts.
 */

import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { Value } from 'typebox/value';
import { LiveswapError } from '../../core/errors.js';
import { decodeAudio, fliteVoices, SPEECH_RATE, speakWithFlite, writeWav } from '../../node/jobs/talk-speech.js';
import { DEFAULT_TALK_FPS } from '../../node/jobs/talk-job.js';
import type { JobStatus, TokenRecord, VideoJobRequest } from '../../node/service/types.js';
import { parsePhoneTrack, shapeOf, type TimedPhone } from '../../pipeline/talk-visemes.js';
import type { ApiApp, ContextOf } from './app-type.js';
import { auditRefusal } from './audit.js';
import { callerOf, type ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { ownIdentity } from './identity-routes.js';
import { jobView, submitJob } from './job-routes.js';
import { readForm } from './multipart.js';
import { checkActiveJobs, reserveQuota } from './quota.js';
import { Job, withErrors } from './schemas.js';
import { resolveTalkFace, type FaceChoice } from './talk-face.js';
import { TalkBody } from './talk-schemas.js';
import type { Uploads } from './upload-routes.js';

type TalksContext = ApiContext & { uploads: Uploads };

/** Where the files made for a talk job live until its result is committed. */
export function talkFolder(home: string, id: string): string {
  return join(home, 'service', 'talks', id);
}

/** The talk as asked, JSON or multipart alike. */
interface TalkAsk {
  face: FaceChoice;
  sourceIdentityId?: string | undefined;
  text?: string | undefined;
  audioUploadId?: string | undefined;
  audioBytes?: Buffer | undefined;
  /** A phone track's text, or its items. */
  phonemes?: string | readonly { phone: string; end: number }[] | undefined;
  voice?: string | undefined;
  fps: number;
}

/** The message for a server without flite, with how its operator installs it. */
export const FLITE_MISSING =
  'This server cannot speak text: the speech synthesizer flite is not installed on it. Its operator installs it (Debian/Ubuntu `apt-get install flite`, Fedora `dnf install flite`, ' +
  'Arch `pacman -S flite`, macOS `brew install flite`) and restarts nothing; meanwhile send your own speech as audio (with phonemes for exact lip timing).';

/** Checks that flite runs here and knows `voice`: 503 `unavailable` without flite, 400 for an unknown voice. */
export function checkServerFlite(voice: string | undefined): void {
  const voices = fliteVoices();
  if (!voices) throw new ApiError('unavailable', FLITE_MISSING);
  if (voice !== undefined && !voices.includes(voice)) throw new ApiError('usage', `flite on this server has no voice "${voice}"; it has ${voices.join(', ')}.`);
}

function checkAsk(ask: TalkAsk): void {
  const said = [ask.text !== undefined, ask.audioUploadId !== undefined || ask.audioBytes !== undefined].filter(Boolean).length;
  if (said === 0) throw new ApiError('usage', 'Say what the face says: text, or audio (audioUploadId, or an `audio` file) with optional phonemes.');
  if (said === 2) throw new ApiError('usage', 'Give text or audio, not both.');
  if (ask.audioUploadId !== undefined && ask.audioBytes !== undefined) throw new ApiError('usage', 'Give the audio once: audioUploadId or an `audio` file.');
  if (ask.text !== undefined && ask.text.trim() === '') throw new ApiError('usage', 'The text is empty: give the words to say.');
  if (ask.phonemes !== undefined && ask.text !== undefined) throw new ApiError('usage', 'phonemes go with audio: they time the mouth to your own speech (flite times its own).');
  if (ask.voice !== undefined && ask.text === undefined) throw new ApiError('usage', 'voice chooses the flite voice for text; it does nothing with audio.');
  if (!(Number.isFinite(ask.fps) && ask.fps >= 5 && ask.fps <= 60)) throw new ApiError('usage', `fps must be between 5 and 60 (got ${ask.fps}).`);
}

/** A phone track as the talk job reads it: one `phone end` per line (phones flite has and no viseme knows become pauses). */
export function phoneTrackText(phones: readonly TimedPhone[] | readonly { phone: string; end: number }[]): string {
  return phones.map((p) => `${shapeOf(p.phone) ? p.phone : 'pau'} ${p.end.toFixed(4)}`).join('\n') + '\n';
}

/** The multipart form of POST /v1/talks, as a {@link TalkAsk}. */
async function askFromForm(request: FastifyRequest): Promise<TalkAsk> {
  const form = await readForm(request, ['face', 'audio', 'phonemes']);
  const known = ['faceIdentityId', 'faceUploadId', 'consent', 'sourceIdentityId', 'text', 'audioUploadId', 'phonemes', 'voice', 'fps'];
  const unknown = [...form.fields.keys()].filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new ApiError('usage', `Unexpected field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}.`);
  const file = (name: string): Buffer | undefined => {
    const files = form.files.filter((f) => f.field === name);
    if (files.length > 1) throw new ApiError('usage', `Send one \`${name}\` file.`);
    return files[0]?.bytes;
  };
  const field = (name: string): string | undefined => form.fields.get(name);
  // JSON text, parsed and checked (a refusal audited) with the face: see requireConsent.
  const consent = field('consent');
  const phonemeFile = file('phonemes');
  if (phonemeFile && field('phonemes') !== undefined) throw new ApiError('usage', 'Give the phonemes once: a file or a field.');
  const fps = field('fps');
  return {
    face: { faceIdentityId: field('faceIdentityId'), faceUploadId: field('faceUploadId'), faceBytes: file('face'), consent },
    sourceIdentityId: field('sourceIdentityId'),
    text: field('text'),
    audioUploadId: field('audioUploadId'),
    audioBytes: file('audio'),
    phonemes: phonemeFile ? phonemeFile.toString('utf8') : field('phonemes'),
    voice: field('voice'),
    fps: fps !== undefined ? (/^\s*\d+(\.\d+)?\s*$/.test(fps) ? Number(fps) : Number.NaN) : DEFAULT_TALK_FPS,
  };
}

function askFromJson(body: unknown): TalkAsk {
  if (!Value.Check(TalkBody, body)) {
    const first = Value.Errors(TalkBody, body)[0];
    throw new ApiError('usage', `The body is not a talk request${first ? `: ${first.instancePath || 'body'} ${first.message}` : ''}.`);
  }
  return {
    face: { faceIdentityId: body.faceIdentityId, faceUploadId: body.faceUploadId, consent: body.consent },
    sourceIdentityId: body.sourceIdentityId,
    text: body.text,
    audioUploadId: body.audioUploadId,
    phonemes: body.phonemes,
    voice: body.voice,
    fps: body.fps ?? DEFAULT_TALK_FPS,
  };
}

/** Makes the speech files of the job in `folder`: flite's audio and phones, or the caller's audio and track. Answers its seconds. */
async function prepareSpeech(ctx: TalksContext, token: TokenRecord, ask: TalkAsk, folder: string): Promise<{ audio: string; phonemes?: string; seconds: number }> {
  const phonemesPath = join(folder, 'phones.txt');
  if (ask.text !== undefined) {
    const speech = await speakWithFlite(ask.text, folder, ask.voice !== undefined ? { voice: ask.voice } : {});
    const audio = join(folder, 'speech.wav');
    await writeWav(audio, speech.samples, SPEECH_RATE);
    await writeFile(phonemesPath, phoneTrackText(speech.phones ?? []));
    return { audio, ...(speech.phones ? { phonemes: phonemesPath } : {}), seconds: speech.samples.length / SPEECH_RATE };
  }
  let audio: string;
  if (ask.audioUploadId !== undefined) {
    audio = (await ctx.uploads.completed(token, ask.audioUploadId)).path;
  } else {
    audio = join(folder, 'audio.bin');
    await writeFile(audio, ask.audioBytes!);
  }
  const samples = await decodeAudio(audio, { role: 'audio' });
  if (samples.length < SPEECH_RATE * 0.05) throw new LiveswapError('input-unreadable', 'The audio is shorter than 50 ms.');
  if (ask.phonemes === undefined) return { audio, seconds: samples.length / SPEECH_RATE };
  if (typeof ask.phonemes === 'string') {
    parsePhoneTrack(ask.phonemes, 'phonemes');
    await writeFile(phonemesPath, ask.phonemes);
  } else {
    // Checked as a track file is (known phones, times that never go back).
    parsePhoneTrack(JSON.stringify(ask.phonemes), 'phonemes');
    await writeFile(phonemesPath, phoneTrackText(ask.phonemes));
  }
  return { audio, phonemes: phonemesPath, seconds: samples.length / SPEECH_RATE };
}

export function addTalkRoutes(app: ApiApp, context: ContextOf<TalksContext>): void {
  app.post(
    '/v1/talks',
    {
      config: { access: { scope: 'talk', media: true } },
      // JSON is checked against TalkBody below, multipart part by part; the schema describes the JSON for the OpenAPI document.
      validatorCompiler: () => () => true,
      schema: {
        tags: ['talks'],
        summary:
          'Make a face talk: a job like a video job (202 with Location; follow, fetch and cancel it under /v1/jobs/:id). JSON, or multipart with face, audio and phonemes files.',
        consumes: ['application/json', 'multipart/form-data'],
        body: TalkBody,
        response: withErrors({ 202: Job }, [404, 409, 413, 415, 422]),
      },
    },
    async (request, reply) => {
      const token = callerOf(request);
      const ctx = context();
      const ask = request.isMultipart() ? await askFromForm(request) : askFromJson(request.body);
      checkAsk(ask);
      if (ask.text !== undefined) checkServerFlite(ask.voice);
      const id = randomUUID();
      const folder = talkFolder(ctx.home, id);
      await mkdir(folder, { recursive: true });
      let submitted = false;
      try {
        const face = await resolveTalkFace(ctx, request, token, ask.face, folder);
        const sources = ask.sourceIdentityId !== undefined ? (await ownIdentity(ctx, token, ask.sourceIdentityId)).photos.slice(0, 1) : [];
        const speech = await prepareSpeech(ctx, token, ask, folder);
        const seconds = Math.max(1, Math.ceil(speech.seconds));
        const limit = token.quotas.maxVideoSeconds;
        if (limit !== undefined && seconds > limit) {
          const message = `The speech lasts ${seconds} s; this token may make videos of at most ${limit} s.`;
          await auditRefusal(ctx.home, request, 'rejected-limit', message);
          throw new ApiError('payload-too-large', message);
        }
        await checkActiveJobs(ctx.home, request, token, await ctx.queue.activeCount(token.id), 1);
        const reserved = await reserveQuota(ctx.home, ctx.stores.quotas, request, token, 'talkSeconds', seconds);
        const userAgent = request.headers['user-agent'];
        const job: VideoJobRequest = {
          tokenId: token.id,
          tokenName: token.name,
          identityId: face.identityId,
          consentId: face.consentId,
          input: face.path,
          sources,
          paint: {},
          encoding: {},
          videoSeconds: seconds,
          reservedAt: reserved.at.toISOString(),
          requestId: request.id,
          ip: request.ip,
          userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 200) : '',
          talk: {
            audio: speech.audio,
            ...(speech.phonemes !== undefined ? { phonemes: speech.phonemes } : {}),
            fps: ask.fps,
            speech: ask.text !== undefined ? 'flite' : 'audio',
            ...(ask.voice !== undefined ? { voice: ask.voice } : {}),
            folder,
          },
        };
        let status: JobStatus;
        try {
          status = await submitJob(ctx, id, job);
        } catch (error) {
          await reserved.refund();
          throw error;
        }
        submitted = true;
        return reply.code(202).header('Location', `/v1/jobs/${id}`).send(jobView(status));
      } finally {
        if (!submitted) await rm(folder, { recursive: true, force: true }).catch(() => undefined);
      }
    },
  );
}

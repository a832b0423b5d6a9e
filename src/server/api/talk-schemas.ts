/**
 * Shapes of the talk routes: `POST /v1/talks` (a talking-portrait job) and the messages of the
 * `/v1/talks/live` WebSocket, as TypeBox schemas (validated, typed, and in the OpenAPI document).
 */

import { Type, type Static } from 'typebox';
import { ConsentAttestation } from './schemas.js';

const UploadId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' });
const IdentityId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
/** A flite voice by name (`flite -lv` on the server); never a path. */
const Voice = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const PhoneItem = Type.Object({ phone: Type.String({ minLength: 1, maxLength: 16 }), end: Type.Number({ minimum: 0 }) }, { additionalProperties: false });

/** The JSON body of POST /v1/talks (the multipart form has the same fields, with files for face, audio and phonemes). */
export const TalkBody = Type.Object(
  {
    faceIdentityId: Type.Optional(IdentityId),
    faceUploadId: Type.Optional(UploadId),
    consent: Type.Optional(ConsentAttestation),
    sourceIdentityId: Type.Optional(IdentityId),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
    audioUploadId: Type.Optional(UploadId),
    phonemes: Type.Optional(Type.Union([Type.String({ maxLength: 262_144 }), Type.Array(PhoneItem, { maxItems: 100_000 })])),
    voice: Type.Optional(Voice),
    fps: Type.Optional(Type.Number({ minimum: 5, maximum: 60 })),
  },
  {
    additionalProperties: false,
    description:
      'The face that talks: faceIdentityId (an identity: consent given when it was made) or faceUploadId (a finished upload, photo or video) with consent. ' +
      'What it says: text (spoken by flite on the server, voice from `flite -lv`) or audioUploadId (any audio ffmpeg reads) with optional phonemes. ' +
      'Optional: sourceIdentityId (the face gets that identity), fps (default 25).',
  },
);
export type TalkBody = Static<typeof TalkBody>;

/** The first message on /v1/talks/live. */
export const TalkLiveStart = Type.Object(
  {
    type: Type.Literal('start'),
    faceIdentityId: Type.Optional(IdentityId),
    faceUploadId: Type.Optional(UploadId),
    /** A photo of the face as base64 (JPEG, PNG or WebP), with `consent`. */
    facePhoto: Type.Optional(Type.String({ maxLength: 15_000_000 })),
    consent: Type.Optional(ConsentAttestation),
    sourceIdentityId: Type.Optional(IdentityId),
    voice: Type.Optional(Voice),
    fps: Type.Optional(Type.Number({ minimum: 5, maximum: 30 })),
    size: Type.Optional(Type.Integer({ minimum: 64, maximum: 1280 })),
    quality: Type.Optional(Type.Integer({ minimum: 30, maximum: 95 })),
    /** A video face: its face tracked on every frame, or on every other frame with the ones between interpolated. */
    tracking: Type.Optional(Type.Union([Type.Literal('every'), Type.Literal('alternate')])),
  },
  { additionalProperties: false },
);
export type TalkLiveStart = Static<typeof TalkLiveStart>;

/** A chunk of text to speak, as the language model produced it. */
export const TalkLiveText = Type.Object({ type: Type.Literal('text'), text: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false });
/** A chunk of the caller's own speech: mono s16le PCM as base64, with its phones (times from the chunk's start). */
export const TalkLiveAudio = Type.Object(
  {
    type: Type.Literal('audio'),
    pcm: Type.String({ minLength: 4, maxLength: 8_000_000 }),
    sampleRate: Type.Integer(),
    phonemes: Type.Optional(Type.Array(PhoneItem, { maxItems: 20_000 })),
  },
  { additionalProperties: false },
);
export const TalkLiveEnd = Type.Object({ type: Type.Literal('end') }, { additionalProperties: false });
export const TalkLiveMessage = Type.Union([TalkLiveStart, TalkLiveText, TalkLiveAudio, TalkLiveEnd]);
export type TalkLiveMessage = Static<typeof TalkLiveMessage>;

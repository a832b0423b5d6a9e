/**
 * The API's request and response shapes as TypeBox schemas: validated by Fastify, typed in the
 * handlers (the TypeBox type provider) and published in the OpenAPI document the SDK is made from.
 */

import { Type, type Static, type TSchema } from 'typebox';
import { ERROR_KINDS } from '../../core/errors.js';
import { ENGINE_CHOICES, FACE_ENHANCERS, FACE_PARSERS, FACE_REGIONS, OCCLUSION_MASKS, PIXEL_BOOSTS } from '../../pipeline/options.js';
import { VIDEO_CODECS, VIDEO_PRESETS } from '../../node/media/ffmpeg-write.js';
import { JOB_STATES, SCOPES } from '../../node/service/types.js';
import { API_ERROR_KINDS } from './errors.js';

/** One of `values`: `{enum: [...]}` in JSON Schema, the union of the literals in TypeScript. */
const literals = <const T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>(Type.Enum(values));

export const ErrorBody = Type.Object(
  { error: Type.Object({ kind: literals([...ERROR_KINDS, ...API_ERROR_KINDS]), message: Type.String() }, { additionalProperties: false }) },
  { $id: 'Error', additionalProperties: false },
);

/** The error answers every authenticated route may give, besides its own. */
export function withErrors<R extends Record<number, TSchema>>(responses: R, extra: readonly number[] = []): R & Record<number, TSchema> {
  const errors: Record<number, TSchema> = {};
  for (const status of [400, 401, 403, 429, 500, 503, ...extra]) errors[status] = ErrorBody;
  return { ...errors, ...responses };
}

export const Scope = literals(SCOPES);
export const JobState = literals(JOB_STATES);

export const Health = Type.Object({ status: Type.Literal('ok'), version: Type.String() });
export const Ready = Type.Object({ ready: Type.Boolean(), checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), message: Type.Optional(Type.String()) })) });

export const ConsentStatement = Type.Object({ version: Type.String(), text: Type.String(), sha256: Type.String() });

/** The `consent` field of POST /identities, as JSON text. */
export const ConsentAttestation = Type.Object(
  {
    subject: literals(['self', 'other-with-permission'] as const),
    attested: Type.Literal(true),
    subjectName: Type.Optional(Type.String({ maxLength: 200 })),
    statementVersion: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);
export type ConsentAttestation = Static<typeof ConsentAttestation>;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });

export const Identity = Type.Object({
  id: Type.String(),
  consentId: Type.String(),
  createdAt: Type.String(),
  faces: Type.Array(Type.Integer()),
  sourceSha256: Type.Array(Type.String()),
});
export const IdentityCreated = Type.Object({ id: Type.String(), consentId: Type.String(), faces: Type.Array(Type.Integer()), sourceSha256: Type.Array(Type.String()) });
export const IdentityList = Type.Object({ identities: Type.Array(Identity) });
export const Deleted = Type.Object({ deleted: Type.Literal(true) });

/** A multipart body, described for the OpenAPI document (the multipart plugin parses it). */
export const MultipartBody = (fields: Record<string, TSchema>, required: readonly string[]) => Type.Object(fields, { required: [...required] as string[] } as never);

/** Options of an image or video swap a caller may set; marks are always on through the API. */
export const SwapFields = Type.Object(
  {
    engine: Type.Optional(literals(ENGINE_CHOICES)),
    manyFaces: Type.Optional(Type.Boolean()),
    faceIndex: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    sourceFace: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    mouthMask: Type.Optional(Type.Boolean()),
    opacity: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    sharpness: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })),
    colorMatch: Type.Optional(Type.Boolean()),
    faceShape: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    faceOutline: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    maskRegions: Type.Optional(Type.Array(literals(FACE_REGIONS), { minItems: 1, maxItems: FACE_REGIONS.length })),
    keepRegions: Type.Optional(Type.Array(literals(FACE_REGIONS), { maxItems: FACE_REGIONS.length })),
    faceParser: Type.Optional(literals(FACE_PARSERS)),
    maskStrength: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    maskPadding: Type.Optional(Type.Array(Type.Number({ minimum: 0, maximum: 100 }), { minItems: 4, maxItems: 4 })),
    maskBlur: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    occlusionMask: Type.Optional(literals(OCCLUSION_MASKS)),
    faceEnhancer: Type.Optional(literals(FACE_ENHANCERS)),
    faceEnhancerBlend: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    faceEnhancerWeight: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    pixelBoost: Type.Optional(Type.Union(PIXEL_BOOSTS.map((n) => Type.Literal(n)))),
    swapperWeight: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);
export type SwapFields = Static<typeof SwapFields>;

export const VideoEncodingFields = Type.Object(
  {
    codec: Type.Optional(literals(VIDEO_CODECS)),
    preset: Type.Optional(literals(VIDEO_PRESETS)),
    quality: Type.Optional(Type.Integer({ minimum: 0, maximum: 51 })),
    audio: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type VideoEncodingFields = Static<typeof VideoEncodingFields>;

export const VideoJobBody = Type.Object(
  {
    identityId: Type.String({ minLength: 1, maxLength: 64 }),
    uploadId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }),
    swap: Type.Optional(SwapFields),
    encoding: Type.Optional(VideoEncodingFields),
  },
  { additionalProperties: false },
);
export type VideoJobBody = Static<typeof VideoJobBody>;

export const BatchBody = Type.Object(
  {
    identityId: Type.String({ minLength: 1, maxLength: 64 }),
    uploadIds: Type.Array(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }), { minItems: 1, maxItems: 50 }),
    swap: Type.Optional(SwapFields),
    encoding: Type.Optional(VideoEncodingFields),
  },
  { additionalProperties: false },
);
export type BatchBody = Static<typeof BatchBody>;

export const JobProgress = Type.Object({ frame: Type.Number(), total: Type.Number(), fps: Type.Number(), etaSeconds: Type.Number() });

export const Job = Type.Object({
  id: Type.String(),
  state: JobState,
  createdAt: Type.String(),
  startedAt: Type.Optional(Type.String()),
  finishedAt: Type.Optional(Type.String()),
  progress: JobProgress,
  attempts: Type.Integer(),
  error: Type.Optional(Type.Object({ kind: Type.String(), message: Type.String() })),
  resultUrl: Type.Optional(Type.String()),
  watermarkId: Type.Optional(Type.String()),
  sha256: Type.Optional(Type.String()),
  batchId: Type.Optional(Type.String()),
});
export type Job = Static<typeof Job>;
export const BatchCreated = Type.Object({ batchId: Type.String(), jobs: Type.Array(Job) });

export const Usage = Type.Object({
  tokenId: Type.String(),
  day: Type.String(),
  resetsAt: Type.String(),
  used: Type.Object({ swaps: Type.Number(), videoSeconds: Type.Number(), talkSeconds: Type.Number(), liveMinutes: Type.Number() }),
  limits: Type.Object({
    swapsPerDay: Type.Optional(Type.Number()),
    videoSecondsPerDay: Type.Optional(Type.Number()),
    talkSecondsPerDay: Type.Optional(Type.Number()),
    liveMinutesPerDay: Type.Optional(Type.Number()),
    maxActiveJobs: Type.Optional(Type.Number()),
    maxVideoSeconds: Type.Optional(Type.Number()),
    maxLiveSessions: Type.Optional(Type.Number()),
  }),
  activeJobs: Type.Integer(),
});

export const TokenQuotas = Type.Object(
  {
    swapsPerDay: Type.Optional(Type.Integer({ minimum: 0 })),
    videoSecondsPerDay: Type.Optional(Type.Number({ minimum: 0 })),
    talkSecondsPerDay: Type.Optional(Type.Number({ minimum: 0 })),
    liveMinutesPerDay: Type.Optional(Type.Number({ minimum: 0 })),
    maxActiveJobs: Type.Optional(Type.Integer({ minimum: 0 })),
    maxVideoSeconds: Type.Optional(Type.Number({ minimum: 0 })),
    maxLiveSessions: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const TokenInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Scope),
  quotas: TokenQuotas,
  createdAt: Type.String(),
  expiresAt: Type.Optional(Type.String()),
  revokedAt: Type.Optional(Type.String()),
});
export const TokenList = Type.Object({ tokens: Type.Array(TokenInfo) });
export const TokenCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scopes: Type.Array(Scope, { minItems: 1, uniqueItems: true }),
    quotas: Type.Optional(TokenQuotas),
    expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type TokenCreate = Static<typeof TokenCreate>;
export const TokenCreated = Type.Object({ token: Type.String(), record: TokenInfo });

export const Binary = (description: string) => Type.String({ format: 'binary', description });
export const Text = (description: string) => Type.String({ description });

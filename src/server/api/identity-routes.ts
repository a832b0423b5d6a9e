/**
 * Source identities: photos uploaded once with a consent attestation, checked (decodable, within
 * the pixel limit, a face in each, no protected face), stored and reused by id. A token sees and
 * uses only its own identities.
 */

import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { decodeImage } from '../../node/media/image-io.js';
import { findProtectedFace, openPhotoFaceEmbedder, PROTECTED_FACE_THRESHOLD } from '../../node/service/protected-faces.js';
import type { IdentityRecord, TokenRecord } from '../../node/service/types.js';
import type { ApiApp, ContextOf } from './app-type.js';
import { auditRefusal, auditRequest, requestAudit } from './audit.js';
import { callerOf, type ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { readForm } from './multipart.js';
import { Binary, ConsentAttestation, Deleted, IdParams, Identity, IdentityCreated, IdentityList, Text, withErrors } from './schemas.js';

/** The extension of an image by its first bytes (decodeImage has already accepted it as one of these). */
export function imageExtension(bytes: Buffer): '.jpg' | '.png' | '.webp' {
  if (bytes[0] === 0x89 && bytes.subarray(1, 4).toString('latin1') === 'PNG') return '.png';
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return '.webp';
  return '.jpg';
}

/** The identity as callers see it (no paths). */
export function identityView(record: IdentityRecord): { id: string; consentId: string; createdAt: string; faces: number[]; sourceSha256: string[] } {
  return { id: record.id, consentId: record.consentId, createdAt: record.createdAt, faces: record.faces, sourceSha256: record.sourceSha256 };
}

/** The caller's identity `id`, or 404 (another token's identity is as good as missing). */
export async function ownIdentity(context: ApiContext, token: TokenRecord, id: string): Promise<IdentityRecord> {
  const record = await context.stores.identities.get(id);
  if (!record || (record.tokenId !== token.id && !token.scopes.includes('admin'))) throw new ApiError('not-found', `No identity ${id}.`);
  return record;
}

/**
 * The consent attestation of a request that names a face: `raw` as sent (JSON text from a form
 * field, or the parsed value from a JSON body), checked against the schema and the current
 * statement's version. A missing (`missing` says what to send), unparseable or invalid attestation
 * is audited as `rejected-consent` and refused with 400 consent-required.
 */
export async function requireConsent(ctx: ApiContext, request: FastifyRequest, raw: unknown, missing: string): Promise<ConsentAttestation> {
  const currentVersion = ctx.stores.consent.statement().version;
  let problem: string | undefined;
  let value = raw;
  if (raw === undefined) problem = missing;
  else if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      problem = 'The `consent` field is not JSON.';
    }
  }
  if (problem === undefined && !Value.Check(ConsentAttestation, value)) {
    const first = Value.Errors(ConsentAttestation, value)[0];
    problem = `The consent attestation is not valid${first ? ` (${first.instancePath || 'consent'} ${first.message})` : ''}: "attested" must be true and "subject" one of self, other-with-permission.`;
  } else if (problem === undefined && (value as ConsentAttestation).statementVersion !== currentVersion) {
    problem = `The consent was given to statement version ${(value as ConsentAttestation).statementVersion}; the current one is ${currentVersion} (GET /v1/consent/statement).`;
  }
  if (problem !== undefined) {
    await auditRefusal(ctx.home, request, 'rejected-consent', problem);
    throw new ApiError('consent-required', problem);
  }
  return value as ConsentAttestation;
}

interface CheckedPhoto {
  bytes: Buffer;
  sha256: string;
  extension: string;
  image: Image;
}

/** Decodes each photo within the pixel limit (by content, never by name). */
async function decodePhotos(files: readonly { bytes: Buffer }[], maxPixels: number): Promise<CheckedPhoto[]> {
  const photos: CheckedPhoto[] = [];
  for (const [index, file] of files.entries()) {
    const name = `photo ${index + 1}`;
    const image = await decodeImage(file.bytes, name, { maxPixels });
    photos.push({ bytes: file.bytes, sha256: createHash('sha256').update(file.bytes).digest('hex'), extension: imageExtension(file.bytes), image });
  }
  return photos;
}

export function addIdentityRoutes(app: ApiApp, context: ContextOf<ApiContext>): void {
  app.post(
    '/v1/identities',
    {
      config: { access: { scope: 'identities:write', media: true } },
      // The parts are validated as they arrive; the schema describes them for the OpenAPI document.
      validatorCompiler: () => () => true,
      schema: {
        tags: ['identities'],
        summary: 'Add a source identity: 1–8 photos of one person and a consent attestation.',
        consumes: ['multipart/form-data'],
        body: Type.Object(
          {
            photo: Type.Array(Binary('a JPEG, PNG or WebP photo of the person'), { minItems: 1, maxItems: 8 }),
            consent: Text('JSON: {subject, attested: true, subjectName?, statementVersion}'),
          },
          { required: ['photo', 'consent'] },
        ),
        response: withErrors({ 201: IdentityCreated }, [413, 415, 422]),
      },
    },
    async (request, reply) => {
      const token = callerOf(request);
      const ctx = context();
      const form = await readForm(request, ['photo']);
      const statement = ctx.stores.consent.statement();
      const consent = await requireConsent(
        ctx,
        request,
        form.fields.get('consent'),
        'A consent attestation is required: send a `consent` field {"subject":"self"|"other-with-permission","attested":true,"statementVersion":"…"} after showing GET /v1/consent/statement.',
      );
      const unknown = [...form.fields.keys()].filter((name) => name !== 'consent');
      if (unknown.length > 0) throw new ApiError('usage', `Unexpected field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}.`);
      const files = form.files;
      if (files.length === 0) throw new ApiError('usage', 'Send 1 to 8 photos in `photo` fields.');
      if (files.length > ctx.limits.maxPhotos) throw new ApiError('payload-too-large', `At most ${ctx.limits.maxPhotos} photos per identity.`);
      const photos = await decodePhotos(files, ctx.limits.maxPixels);
      const sourceSha256 = photos.map((photo) => photo.sha256);
      const { faces, match } = await analysePhotos(ctx, photos);
      if (match) {
        // Who is protected is the operator's business: the caller learns only that it is refused.
        await auditRefusal(
          ctx.home,
          request,
          'rejected-protected',
          `photo ${match.photo + 1} matches a protected face (similarity ${match.similarity.toFixed(3)} ≥ ${PROTECTED_FACE_THRESHOLD})`,
          {},
          sourceSha256,
        );
        throw new ApiError('protected-face', `Photo ${match.photo + 1} shows a person whose face this service must not use.`);
      }
      const empty = faces.findIndex((count) => count === 0);
      if (empty >= 0) {
        await auditRefusal(ctx.home, request, 'rejected-limit', `no face in photo ${empty + 1}`);
        throw new LiveswapError('no-face', `No face was found in photo ${empty + 1}. Use a clear, front-facing photo of the person.`);
      }
      const record = await ctx.stores.consent.record({
        tokenId: token.id,
        tokenName: token.name,
        ip: request.ip,
        statementVersion: statement.version,
        statementSha256: statement.sha256,
        subject: consent.subject,
        ...(consent.subjectName !== undefined ? { subjectName: consent.subjectName } : {}),
        attested: true,
        sourceSha256,
      });
      const identity = await ctx.stores.identities.create({
        tokenId: token.id,
        consentId: record.consentId,
        faces,
        photos: photos.map(({ bytes, sha256, extension }) => ({ bytes, sha256, extension })),
      });
      await auditRequest(ctx.home, 'identity', requestAudit(request, 'ok', { consentId: record.consentId, identityId: identity.id }), sourceSha256);
      return reply.code(201).send({ id: identity.id, consentId: record.consentId, faces, sourceSha256 });
    },
  );

  app.get(
    '/v1/identities',
    { config: { access: { scope: 'identities:read' } }, schema: { tags: ['identities'], summary: "The token's identities.", response: withErrors({ 200: IdentityList }) } },
    async (request) => {
      const token = callerOf(request);
      const records = await context().stores.identities.list(token.id);
      return { identities: records.map(identityView) };
    },
  );

  app.get(
    '/v1/identities/:id',
    {
      config: { access: { scope: 'identities:read' } },
      schema: { tags: ['identities'], summary: 'One identity.', params: IdParams, response: withErrors({ 200: Identity }, [404]) },
    },
    async (request) => identityView(await ownIdentity(context(), callerOf(request), request.params.id)),
  );

  app.delete(
    '/v1/identities/:id',
    {
      config: { access: { scope: 'identities:write' } },
      schema: { tags: ['identities'], summary: 'Delete an identity: its photos go; the consent record stays.', params: IdParams, response: withErrors({ 200: Deleted }, [404]) },
    },
    async (request) => {
      const ctx = context();
      const record = await ownIdentity(ctx, callerOf(request), request.params.id);
      if (!(await ctx.stores.identities.delete(record.id))) throw new ApiError('not-found', `No identity ${record.id}.`);
      return { deleted: true as const };
    },
  );
}

/**
 * Faces in each photo, found by the mesh engine (built in: nothing is downloaded) on one of the
 * image slots, and the protected face any of them matches (FaceRes embeddings, loaded only when
 * the operator has protected someone).
 */
async function analysePhotos(ctx: ApiContext, photos: readonly CheckedPhoto[]): Promise<{ faces: number[]; match?: { similarity: number; photo: number } }> {
  const lease = ctx.swappers.tryAcquire();
  if (!lease) throw new ApiError('overloaded', 'Every image slot is busy; try again in a moment.', { 'Retry-After': '1' });
  try {
    const swapper = await lease.open({ provider: 'cpu', threads: 1, engine: 'mesh' });
    if ((await ctx.stores.protectedFaces.list()).length === 0) {
      const faces: number[] = [];
      for (const photo of photos) faces.push((await swapper.analyze(photo.image)).length);
      return { faces };
    }
    const embedder = await openPhotoFaceEmbedder({ home: ctx.home, swapper });
    try {
      const faces: number[] = [];
      const embeddings: Float32Array[] = [];
      const photoOf: number[] = [];
      for (const [index, photo] of photos.entries()) {
        const found = await embedder.embedFaces(photo.image);
        faces.push(found.length);
        for (const face of found) {
          embeddings.push(face.embedding);
          photoOf.push(index);
        }
      }
      const hit = await findProtectedFace(ctx.stores.protectedFaces, embeddings, PROTECTED_FACE_THRESHOLD);
      return hit ? { faces, match: { similarity: hit.similarity, photo: photoOf[hit.index]! } } : { faces };
    } finally {
      await embedder.close();
    }
  } finally {
    lease.release();
  }
}

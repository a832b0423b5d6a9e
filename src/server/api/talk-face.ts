/**
 * The face a talk makes speak, checked as the API checks every face it is asked to use: an
 * identity of the caller's (consent given when it was made, protected faces refused then), or a
 * photo or video sent now with a consent attestation, which is recorded, and whose face (the
 * photo's, or the video's first frame's) must not be a protected one. Refusals are audited.
 */

import { createHash } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { sha256File } from '../../node/files/hash.js';
import { inspectVideo } from '../../node/jobs/video-swap.js';
import { openVideoSource } from '../../node/media/ffmpeg-source.js';
import { decodeImage } from '../../node/media/image-io.js';
import { findProtectedFace, openPhotoFaceEmbedder, PROTECTED_FACE_THRESHOLD } from '../../node/service/protected-faces.js';
import type { TokenRecord } from '../../node/service/types.js';
import { auditRefusal } from './audit.js';
import type { ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { imageExtension, ownIdentity, requireConsent } from './identity-routes.js';
import type { ConsentAttestation } from './schemas.js';

/** How the caller names the face: exactly one of these. */
export interface FaceChoice {
  faceIdentityId?: string | undefined;
  faceUploadId?: string | undefined;
  /** The bytes of a photo or video sent with the request. */
  faceBytes?: Buffer | undefined;
  consent?: unknown;
}

export interface TalkFace {
  /** The face's file (a photo keeps an image extension, which is how the talk job tells a photo). */
  path: string;
  /** The decoded photo; undefined for a video. */
  photo: Image | undefined;
  identityId: string;
  consentId: string;
}

/** Whether the bytes start like a JPEG, PNG or WebP file. */
function looksLikePhoto(head: Buffer): boolean {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return true;
  if (head[0] === 0x89 && head.subarray(1, 4).toString('latin1') === 'PNG') return true;
  return head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP';
}

/** The attestation for a face sent now, checked (and a refusal audited) as identities check theirs. */
async function checkConsent(ctx: ApiContext, request: FastifyRequest, raw: unknown): Promise<ConsentAttestation> {
  return requireConsent(
    ctx,
    request,
    raw,
    'A face sent with the request needs a consent attestation: `consent` {"subject":"self"|"other-with-permission","attested":true,"statementVersion":"…"} (GET /v1/consent/statement), or use faceIdentityId.',
  );
}

/** The first frame of a video, or undefined when it decodes to none. */
async function firstFrame(path: string): Promise<Image | undefined> {
  const source = await openVideoSource(path);
  try {
    for await (const frame of source) return frame.image;
    return undefined;
  } finally {
    await source.close();
  }
}

/** Finds the face in `image` (422 without one) and refuses a protected one (403, audited). */
async function checkFaceIn(ctx: ApiContext, request: FastifyRequest, image: Image, sha256: string, photo: boolean): Promise<void> {
  const lease = ctx.swappers.tryAcquire();
  if (!lease) throw new ApiError('overloaded', 'Every image slot is busy; try again in a moment.', { 'Retry-After': '1' });
  try {
    const swapper = await lease.open({ provider: 'cpu', threads: 1, engine: 'mesh' });
    const protectedFaces = await ctx.stores.protectedFaces.list();
    if (protectedFaces.length === 0) {
      if (photo && (await swapper.analyze(image)).length === 0) throw new LiveswapError('no-face', 'No face was found in the photo, so there is no mouth to move.');
      return;
    }
    const embedder = await openPhotoFaceEmbedder({ home: ctx.home, swapper });
    try {
      const faces = await embedder.embedFaces(image);
      if (photo && faces.length === 0) throw new LiveswapError('no-face', 'No face was found in the photo, so there is no mouth to move.');
      const hit = await findProtectedFace(
        ctx.stores.protectedFaces,
        faces.map((f) => f.embedding),
        PROTECTED_FACE_THRESHOLD,
      );
      if (hit) {
        await auditRefusal(ctx.home, request, 'rejected-protected', `the face matches a protected face (similarity ${hit.similarity.toFixed(3)})`, {}, [sha256]);
        throw new ApiError('protected-face', 'The face shows a person whose face this service must not use.');
      }
    } finally {
      await embedder.close();
    }
  } finally {
    lease.release();
  }
}

/**
 * Resolves and checks the face of a talk; a photo sent now is written into `folder` (with its
 * extension) and its consent recorded. `sentPhotoOnly`: bytes sent with the request must be a
 * photo (the live route, whose message carries a photo; a video comes as an upload).
 */
export async function resolveTalkFace(
  ctx: ApiContext & { uploads: { completed(token: TokenRecord, id: string): Promise<{ path: string }> } },
  request: FastifyRequest,
  token: TokenRecord,
  choice: FaceChoice,
  folder: string,
  options: { sentPhotoOnly?: boolean } = {},
): Promise<TalkFace> {
  const given = [choice.faceIdentityId, choice.faceUploadId, choice.faceBytes].filter((v) => v !== undefined).length;
  if (given !== 1) throw new ApiError('usage', 'Name the face that talks with exactly one of faceIdentityId, faceUploadId or a face file.');
  const maxPixels = ctx.limits.maxPixels;
  if (choice.faceIdentityId !== undefined) {
    if (choice.consent !== undefined) throw new ApiError('usage', "consent goes with a face sent now; an identity's consent was given when it was made.");
    const identity = await ownIdentity(ctx, token, choice.faceIdentityId);
    const path = identity.photos[0]!;
    const photo = await decodeImage(await readFile(path), 'the identity photo', { maxPixels });
    return { path, photo, identityId: identity.id, consentId: identity.consentId };
  }
  const consent = await checkConsent(ctx, request, choice.consent);
  let path: string;
  let bytes: Buffer | undefined = choice.faceBytes;
  if (choice.faceUploadId !== undefined) {
    path = (await ctx.uploads.completed(token, choice.faceUploadId)).path;
    const head = Buffer.alloc(16);
    const file = await open(path, 'r');
    try {
      await file.read(head, 0, 16, 0);
    } finally {
      await file.close();
    }
    if (looksLikePhoto(head)) bytes = await readFile(path);
  } else {
    path = join(folder, 'face.bin');
  }
  let photo: Image | undefined;
  let sha256: string;
  if (bytes && looksLikePhoto(bytes)) {
    photo = await decodeImage(bytes, 'the face photo', { maxPixels });
    sha256 = createHash('sha256').update(bytes).digest('hex');
    path = join(folder, `face${imageExtension(bytes)}`);
    await writeFile(path, bytes);
    await checkFaceIn(ctx, request, photo, sha256, true);
  } else {
    if (options.sentPhotoOnly && choice.faceBytes)
      throw new ApiError('usage', 'facePhoto takes a photo (JPEG, PNG or WebP); send a video of the face as an upload (faceUploadId).');
    if (choice.faceBytes) await writeFile(path, choice.faceBytes);
    await inspectVideo(path, { maxPixels });
    sha256 = await sha256File(path);
    const frame = await firstFrame(path);
    if (!frame) throw new LiveswapError('input-unreadable', 'The face video decodes to no frames.');
    await checkFaceIn(ctx, request, frame, sha256, false);
  }
  const statement = ctx.stores.consent.statement();
  const record = await ctx.stores.consent.record({
    tokenId: token.id,
    tokenName: token.name,
    ip: request.ip,
    statementVersion: statement.version,
    statementSha256: statement.sha256,
    subject: consent.subject,
    ...(consent.subjectName !== undefined ? { subjectName: consent.subjectName } : {}),
    attested: true,
    sourceSha256: [sha256],
  });
  return { path, photo, identityId: '', consentId: record.consentId };
}

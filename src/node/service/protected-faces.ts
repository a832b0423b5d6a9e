/**
 * Protected faces: people the operator registered (`liveswap protect add`) whose face must never
 * be used as a source. Kept in `<home>/service/protected.json` (mode 0600) as FaceRes embeddings,
 * the SHA-256 of the photo and a label; never the photo. The API embeds each new identity's
 * faces the same way (`openPhotoFaceEmbedder`) and refuses one that `match`es.
 */

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Image } from '../../core/image.js';
import type { Face } from '../../face/face.js';
import { LiveswapError } from '../../core/errors.js';
import { withLockFile } from '../files/lock-file.js';
import { loadRecogniser } from '../models/recogniser.js';
import { createNodeSwapper, type NodeSwapper } from '../jobs/swapper.js';
import { ensurePrivateDir, fileSignature, readJsonFile, serviceDir, writePrivateJson } from './state-files.js';
import type { ProtectedFace, ProtectedFaceStore } from './types.js';

/**
 * The least FaceRes cosine similarity at which a source face counts as a protected person.
 * Measured with tools/protected-face-threshold.ts on 13 real photos of 6 people (press photos,
 * not in the repository): 11 same-person pairs from 0.583 to 0.725 (median 0.650), 67
 * different-person pairs from 0.273 to 0.548 (median 0.395). 0.55 is the only value tried (0.30
 * to 0.70 in steps of 0.05) with no error either way: every same-person pair matches, no
 * different-person pair does. It sits below `faces scan`'s 0.6 (which missed one same-person pair)
 * because a protected face let through is worse than an identity refused for the operator to
 * look into; a refusal names no protected person to the caller.
 */
export const PROTECTED_FACE_THRESHOLD = 0.55;

/** The recogniser protected faces are embedded with, as recorded in each entry. */
export const PROTECTED_FACE_RECOGNISER = 'faceres';

export function protectedFacesPath(home: string): string {
  return join(serviceDir(home), 'protected.json');
}

/** Cosine similarity of two embeddings (0 when either is all zeros or the lengths differ). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** A protected-face id: `p_` and 12 URL-safe characters. */
function newProtectedId(): string {
  return `p_${randomBytes(9).toString('base64url')}`;
}

interface ProtectedFile {
  version: 1;
  faces: ProtectedFace[];
}

function asProtectedFace(value: unknown): ProtectedFace | undefined {
  const f = value as Partial<ProtectedFace> | null;
  if (typeof f !== 'object' || f === null) return undefined;
  if (typeof f.id !== 'string' || typeof f.label !== 'string' || typeof f.addedAt !== 'string' || typeof f.photoSha256 !== 'string' || typeof f.recogniser !== 'string')
    return undefined;
  if (!Array.isArray(f.embedding) || f.embedding.length === 0 || !f.embedding.every((x) => typeof x === 'number' && Number.isFinite(x))) return undefined;
  return { id: f.id, label: f.label, addedAt: f.addedAt, photoSha256: f.photoSha256, recogniser: f.recogniser, embedding: f.embedding };
}

function parseProtectedFile(value: unknown, path: string): ProtectedFace[] {
  if (value === undefined) return [];
  const faces = (value as Partial<ProtectedFile> | null)?.faces;
  if (typeof value !== 'object' || value === null || !Array.isArray(faces)) {
    throw new LiveswapError('input-unreadable', `${path} is damaged (no "faces" list). Restore it from a backup, or move it away and register the protected faces again.`, {
      file: path,
    });
  }
  const checked = faces.map(asProtectedFace);
  if (checked.some((f) => f === undefined)) {
    // A protected face that cannot be read would silently stop protecting someone: refuse instead.
    throw new LiveswapError('input-unreadable', `${path} holds an entry that is not a protected face. Restore the file, or remove the entry and register that person again.`, {
      file: path,
    });
  }
  return checked as ProtectedFace[];
}

/**
 * The protected faces of one home. Read again whenever the file changed (so `liveswap protect add`
 * takes effect in a running server at once); changes happen under a lock file. A damaged file is
 * an error, never an empty list: it would let protected people through.
 */
export class FileProtectedFaceStore implements ProtectedFaceStore {
  private faces: ProtectedFace[] = [];
  private signature = '';

  private constructor(readonly path: string) {}

  static async open(home: string): Promise<FileProtectedFaceStore> {
    await ensurePrivateDir(serviceDir(home));
    const store = new FileProtectedFaceStore(protectedFacesPath(home));
    await store.current();
    return store;
  }

  private fileSignature(): string {
    return fileSignature(this.path);
  }

  private async current(force = false): Promise<ProtectedFace[]> {
    const signature = this.fileSignature();
    if (force || signature !== this.signature) {
      this.faces = parseProtectedFile(await readJsonFile(this.path), this.path);
      this.signature = signature;
    }
    return this.faces;
  }

  private async change<T>(edit: (faces: ProtectedFace[]) => { faces: ProtectedFace[]; result: T }): Promise<T> {
    return withLockFile(
      `${this.path}.lock`,
      async () => {
        const { faces, result } = edit([...(await this.current(true))]);
        const file: ProtectedFile = { version: 1, faces };
        await writePrivateJson(this.path, file);
        this.faces = faces;
        this.signature = this.fileSignature();
        return result;
      },
      { what: 'the protected faces' },
    );
  }

  async list(): Promise<ProtectedFace[]> {
    return [...(await this.current())];
  }

  async add(face: Omit<ProtectedFace, 'id' | 'addedAt'>): Promise<ProtectedFace> {
    const entry = asProtectedFace({ ...face, id: newProtectedId(), addedAt: new Date().toISOString(), embedding: Array.from(face.embedding) });
    if (!entry) throw new LiveswapError('internal', 'A protected face needs a label, a photo hash, a recogniser and a finite embedding.');
    return this.change((faces) => ({ faces: [...faces, entry], result: entry }));
  }

  async remove(id: string): Promise<boolean> {
    return this.change((faces) => {
      const kept = faces.filter((f) => f.id !== id);
      return { faces: kept, result: kept.length !== faces.length };
    });
  }

  async match(embedding: Float32Array, threshold: number): Promise<{ face: ProtectedFace; similarity: number } | undefined> {
    let best: { face: ProtectedFace; similarity: number } | undefined;
    for (const face of await this.current()) {
      const similarity = cosineSimilarity(embedding, face.embedding);
      if (similarity >= threshold && (!best || similarity > best.similarity)) best = { face, similarity };
    }
    return best;
  }
}

/** One face of a photo: where it is and its FaceRes embedding (unit length). */
export interface EmbeddedFace {
  box: Face['box'];
  embedding: Float32Array;
}

/** Finds and embeds the faces of photos with the same detector and recogniser as `faces scan`. */
export interface PhotoFaceEmbedder {
  /** The recogniser's id, recorded with each protected face ("faceres"). */
  readonly recogniser: string;
  /** Every face of `image`, largest first. */
  embedFaces(image: Image): Promise<EmbeddedFace[]>;
  close(): Promise<void>;
}

/**
 * Loads FaceRes and a face finder: the given swapper's (the API's, already loaded; not closed
 * here) or the mesh engine's (loaded here, closed by `close`).
 */
export async function openPhotoFaceEmbedder(options: { home?: string; swapper?: NodeSwapper } = {}): Promise<PhotoFaceEmbedder> {
  const swapper = options.swapper ?? (await createNodeSwapper({ ...(options.home !== undefined ? { home: options.home } : {}), engine: 'mesh' }));
  const ownSwapper = options.swapper === undefined;
  let recogniser;
  try {
    recogniser = await loadRecogniser(options.home !== undefined ? { home: options.home } : {});
  } catch (error) {
    if (ownSwapper) await swapper.close();
    throw error;
  }
  const loaded = recogniser;
  return {
    recogniser: PROTECTED_FACE_RECOGNISER,
    async embedFaces(image) {
      const faces = await swapper.analyze(image);
      const embedded: EmbeddedFace[] = [];
      for (const face of faces) embedded.push({ box: face.box, embedding: await loaded.embed(image, face) });
      return embedded;
    },
    async close() {
      await Promise.all([loaded.close(), ownSwapper ? swapper.close() : Promise.resolve()]);
    },
  };
}

/** The first protected face any of `embeddings` matches at `threshold`, with its similarity. */
export async function findProtectedFace(
  store: ProtectedFaceStore,
  embeddings: readonly Float32Array[],
  threshold: number = PROTECTED_FACE_THRESHOLD,
): Promise<{ face: ProtectedFace; similarity: number; index: number } | undefined> {
  let best: { face: ProtectedFace; similarity: number; index: number } | undefined;
  for (const [index, embedding] of embeddings.entries()) {
    const hit = await store.match(embedding, threshold);
    if (hit && (!best || hit.similarity > best.similarity)) best = { ...hit, index };
  }
  return best;
}

/**
 * Identity arithmetic of an evaluation: how close a swapped face is to the source person's gallery
 * compared with the unswapped target, and whose gallery it is nearest to. Works on unit-length
 * embeddings from any recogniser; knows nothing about images or engines.
 */

import { cosineSimilarity, nearest } from './identity.js';

/** A photo's embedding, by the photo's name (unique within a set). */
export interface EmbeddedPhoto {
  name: string;
  embedding: Float32Array;
}

/** One person's gallery: photos of them that are never used as a swap's source. */
export interface Gallery {
  person: string;
  photos: EmbeddedPhoto[];
}

/** Who an output looks like, by one recogniser. */
export interface IdentityMeasures {
  /** cos(O, S): the output face to the source photo. */
  toSource: number;
  /** cos(O, T): the output face to the original target face (lower: less of the target left). */
  toTarget: number;
  /** cos(T, S): the original target face to the source photo, before the swap. */
  targetToSource: number;
  /** cos(O, G): mean cosine of the output to the source person's gallery photos (gallery mode). */
  toGallery?: number;
  /** cos(T, G): the same for the original target face, before the swap. */
  targetToGallery?: number;
  /**
   * How much the swap moved the face towards the source person: cos(O, G) − cos(T, G) with a
   * gallery, else cos(O, S) − cos(T, S).
   */
  gain: number;
  /** The nearest candidate: a person's gallery (gallery mode) or a source photo (folders mode). */
  nearest: string;
  /** Whether the nearest candidate is the source person (or the source photo). */
  retrieved: boolean;
  /**
   * Gallery mode, the other protocol beside it: whether the output is nearest its own source
   * photo among all the source photos (as folders mode and the built-in set measure).
   */
  retrievedAmongSources?: boolean;
}

/**
 * Mean cosine similarity of `query` to a gallery's photos, leaving out the photo named `exclude`
 * (the target itself, whose swapped version is the query); NaN when no photo is left.
 */
export function galleryScore(query: Float32Array, gallery: Gallery, exclude?: string): number {
  let sum = 0;
  let count = 0;
  for (const photo of gallery.photos) {
    if (photo.name === exclude) continue;
    sum += cosineSimilarity(query, photo.embedding);
    count++;
  }
  return count ? sum / count : Number.NaN;
}

/**
 * The person whose gallery scores highest for `query` (ties: the first), leaving out the photo
 * `exclude`; a gallery left empty by that is not a candidate.
 */
export function nearestPerson(query: Float32Array, galleries: readonly Gallery[], exclude?: string): { person: string; score: number } | undefined {
  let best: { person: string; score: number } | undefined;
  for (const gallery of galleries) {
    const score = galleryScore(query, gallery, exclude);
    if (!Number.isNaN(score) && (!best || score > best.score)) best = { person: gallery.person, score };
  }
  return best;
}

/** Gallery mode: the output (O), the original target face (T) and the source photo (S) embedded. */
export function measureAgainstGalleries(
  faces: { output: Float32Array; target: Float32Array; source: Float32Array },
  galleries: readonly Gallery[],
  sourcePerson: string,
  targetPhoto: string,
  sources: readonly EmbeddedPhoto[] = [],
): IdentityMeasures {
  const own = galleries.find((g) => g.person === sourcePerson);
  if (!own) throw new RangeError(`measureAgainstGalleries: no gallery for ${sourcePerson}`);
  const toGallery = galleryScore(faces.output, own, targetPhoto);
  const targetToGallery = galleryScore(faces.target, own, targetPhoto);
  const found = nearestPerson(faces.output, galleries, targetPhoto);
  return {
    toSource: cosineSimilarity(faces.output, faces.source),
    toTarget: cosineSimilarity(faces.output, faces.target),
    targetToSource: cosineSimilarity(faces.target, faces.source),
    toGallery,
    targetToGallery,
    gain: toGallery - targetToGallery,
    nearest: found?.person ?? '',
    retrieved: found?.person === sourcePerson,
    ...(sources.length
      ? {
          retrievedAmongSources:
            sources[
              nearest(
                faces.output,
                sources.map((s) => s.embedding),
              )
            ]?.embedding === faces.source,
        }
      : {}),
  };
}

/** Folders mode: no galleries; retrieval is among the source photos, gain against the source photo. */
export function measureAgainstSources(faces: { output: Float32Array; target: Float32Array }, sources: readonly EmbeddedPhoto[], sourceIndex: number): IdentityMeasures {
  const source = sources[sourceIndex].embedding;
  const best = nearest(
    faces.output,
    sources.map((s) => s.embedding),
  );
  const toSource = cosineSimilarity(faces.output, source);
  const targetToSource = cosineSimilarity(faces.target, source);
  return {
    toSource,
    toTarget: cosineSimilarity(faces.output, faces.target),
    targetToSource,
    gain: toSource - targetToSource,
    nearest: sources[best]?.name ?? '',
    retrieved: best === sourceIndex,
  };
}

/**
 * What a cosine means with a recogniser: similarities between every two photos of the same person
 * and between every two photos of different people.
 */
export function identityBaseline(photos: readonly (EmbeddedPhoto & { person: string })[]): { same: number[]; different: number[] } {
  const same: number[] = [];
  const different: number[] = [];
  for (let i = 0; i < photos.length; i++) {
    for (let j = i + 1; j < photos.length; j++) {
      (photos[i].person === photos[j].person ? same : different).push(cosineSimilarity(photos[i].embedding, photos[j].embedding));
    }
  }
  return { same, different };
}

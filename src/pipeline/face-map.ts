/**
 * map.json: the people found in a video (`liveswap faces scan`), each with an identity descriptor
 * and the source photo the user picks for them, and the matcher the video swap uses to tell them
 * apart frame by frame.
 */

import { LiveswapError } from '../core/errors.js';
import { cosineSimilarity, DESCRIPTOR_SIZE } from '../face/embedder.js';

export const FACE_MAP_VERSION = 1;
/** The recogniser whose descriptors a map holds; the swap must embed faces with the same one. */
export const FACE_MAP_RECOGNISER = 'faceres';
/** Decimals kept per descriptor value: ~1e-5 changes similarities by far less than they vary. */
export const EMBEDDING_DECIMALS = 5;
/**
 * Least average FaceRes similarity for two groups of faces to be one person, and for a face in
 * the swap to match a person. Measured on the fixture photos: the same person 0.90–0.98 (scaled,
 * mirrored, darkened, turned 20°), 0.68 blurred and 0.56 at a 15-pixel face; different people
 * 0.30–0.40.
 */
export const DEFAULT_IDENTITY_THRESHOLD = 0.6;

/** How close to a reference photo a face must be by default (1 − cosine similarity): the same threshold as a distance. */
export const DEFAULT_SIMILAR_FACE_DISTANCE = Math.round((1 - DEFAULT_IDENTITY_THRESHOLD) * 100) / 100;

/** One person found in the video. */
export interface FaceMapIdentity {
  /** 0, 1, … in the map's order (most appearances first). */
  id: number;
  /** File name of the person's thumbnail, beside map.json. */
  thumbnail: string;
  /** Sampled frames the person appears in. */
  frames: number;
  /** Time of the first appearance, seconds. */
  firstSeconds: number;
  /**
   * The photo (or photos of the same person) to swap onto this person; null leaves them alone.
   * Relative paths are read relative to map.json's folder; {@link parseFaceMap} resolves them.
   */
  source: string | string[] | null;
  /** The person's mean FaceRes descriptor, L2-normalised, DESCRIPTOR_SIZE values. */
  embedding: number[];
}

/** The whole map.json. */
export interface FaceMap {
  version: typeof FACE_MAP_VERSION;
  /** The video that was scanned, as given to the scan. */
  video: string;
  recogniser: typeof FACE_MAP_RECOGNISER;
  /** Least cosine similarity for a face to count as one of the identities. */
  threshold: number;
  identities: FaceMapIdentity[];
}

/** Rounds a descriptor for the file. */
export function roundEmbedding(embedding: ArrayLike<number>): number[] {
  const scale = 10 ** EMBEDDING_DECIMALS;
  // `|| 0` turns -0 into 0, which is what JSON gives back anyway.
  return Array.from(embedding, (v) => Math.round(v * scale) / scale || 0);
}

/**
 * map.json text: two-space indentation, but each descriptor on one line so the fields a person
 * edits (`source`) stay easy to find.
 */
export function formatFaceMap(map: FaceMap): string {
  const placeholder = (i: number): string => `@@embedding-${i}@@`;
  const shell = { ...map, identities: map.identities.map((identity, i) => ({ ...identity, embedding: placeholder(i) })) };
  let text = JSON.stringify(shell, null, 2);
  map.identities.forEach((identity, i) => {
    text = text.replace(JSON.stringify(placeholder(i)), JSON.stringify(roundEmbedding(identity.embedding)));
  });
  return `${text}\n`;
}

export interface ParseFaceMapOptions {
  /**
   * Turns a source path as written in the file into one the caller can open, e.g. resolved
   * against the map file's folder (the Node reader does this). Default: unchanged.
   */
  resolveSource?: (path: string) => string;
}

/** A field's value for a message; a hand-edited value nested too deep for JSON.stringify is summarised (found by fuzzing). */
function quote(value: unknown): string | undefined {
  try {
    return JSON.stringify(value)?.slice(0, 80);
  } catch {
    return Array.isArray(value) ? 'a deeply nested list' : 'a deeply nested object';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads and checks map.json text. Malformed JSON is `input-unreadable`; a field with the wrong
 * type or value is `usage`, with a message that names the file and the field
 * (`identities[1].source`), so the user can fix what they edited.
 */
export function parseFaceMap(text: string, file: string, options: ParseFaceMapOptions = {}): FaceMap {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new LiveswapError('input-unreadable', `Cannot read the face map ${file}: it is not valid JSON (${detail}).`, { file, cause });
  }
  const fail = (field: string, expected: string, actual: unknown): never => {
    const shown = actual === undefined ? 'nothing' : quote(actual);
    throw new LiveswapError('usage', `In the face map ${file}, ${field} must be ${expected}; found ${shown}.`, { file });
  };
  if (!isRecord(data)) return fail('the top level', 'an object (as written by `liveswap faces scan`)', data);
  if (data.version !== FACE_MAP_VERSION) fail('version', String(FACE_MAP_VERSION), data.version);
  if (data.recogniser !== FACE_MAP_RECOGNISER) fail('recogniser', `"${FACE_MAP_RECOGNISER}"`, data.recogniser);
  if (typeof data.video !== 'string') fail('video', 'the path of the scanned video', data.video);
  const threshold = data.threshold;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold < 1)) fail('threshold', 'a similarity between 0 and 1', threshold);
  if (!Array.isArray(data.identities)) return fail('identities', 'a list', data.identities);
  const resolveSource = options.resolveSource ?? ((path: string) => path);
  const ids = new Set<number>();
  const identities = data.identities.map((entry: unknown, i): FaceMapIdentity => {
    const at = `identities[${i}]`;
    if (!isRecord(entry)) return fail(at, 'an object', entry);
    const { id, thumbnail, frames, firstSeconds, source, embedding } = entry;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) return fail(`${at}.id`, 'a whole number ≥ 0', id);
    if (ids.has(id)) fail(`${at}.id`, "different from the other identities' ids", id);
    ids.add(id);
    if (typeof thumbnail !== 'string') fail(`${at}.thumbnail`, 'a file name', thumbnail);
    if (typeof frames !== 'number' || !Number.isInteger(frames) || frames < 0) fail(`${at}.frames`, 'a whole number ≥ 0', frames);
    if (typeof firstSeconds !== 'number' || !(firstSeconds >= 0)) fail(`${at}.firstSeconds`, 'a time in seconds ≥ 0', firstSeconds);
    const expectSource = 'null (leave this person alone), a photo path, or a list of photo paths of one person';
    let resolved: string | string[] | null;
    if (source === null) resolved = null;
    else if (typeof source === 'string' && source.trim() !== '') resolved = resolveSource(source);
    else if (Array.isArray(source) && source.length > 0 && source.every((s) => typeof s === 'string' && s.trim() !== '')) {
      resolved = (source as string[]).map(resolveSource);
    } else return fail(`${at}.source`, expectSource, source);
    if (!Array.isArray(embedding) || embedding.length !== DESCRIPTOR_SIZE || !embedding.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      const shown = Array.isArray(embedding) ? `a list of ${embedding.length} values` : embedding;
      return fail(`${at}.embedding`, `a list of ${DESCRIPTOR_SIZE} numbers (as written by the scan; leave it as it is)`, shown);
    }
    return { id, thumbnail: thumbnail as string, frames: frames as number, firstSeconds: firstSeconds as number, source: resolved, embedding: embedding as number[] };
  });
  return { version: FACE_MAP_VERSION, video: data.video as string, recogniser: FACE_MAP_RECOGNISER, threshold: threshold as number, identities };
}

/**
 * Index of the identity most similar to `embedding` if that similarity is at least `threshold`,
 * else undefined. Ties go to the earlier identity.
 */
export function matchIdentity(embedding: ArrayLike<number>, identities: readonly { embedding: ArrayLike<number> }[], threshold: number): number | undefined {
  let best: number | undefined;
  let bestSimilarity = -Infinity;
  identities.forEach((identity, i) => {
    const s = cosineSimilarity(embedding, identity.embedding);
    if (s > bestSimilarity) {
      bestSimilarity = s;
      best = i;
    }
  });
  return best !== undefined && bestSimilarity >= threshold ? best : undefined;
}

/**
 * Tells which of a map's people a face is, for the video swap. Match against every identity, not
 * only those with a source: a person left alone must not be swapped as the nearest sourced one.
 *
 * ```ts
 * const matcher = new IdentityMatcher(map.identities, map.threshold);
 * const i = matcher.match(await recogniser.embed(frame, face));
 * const source = i === undefined ? null : map.identities[i].source; // null: leave the face alone
 * ```
 */
export class IdentityMatcher {
  private readonly identities: { embedding: Float32Array }[];

  /** `threshold` is the least cosine similarity to count as a match (the map's `threshold`). */
  constructor(
    identities: readonly { embedding: ArrayLike<number> }[],
    readonly threshold: number,
  ) {
    if (!Number.isFinite(threshold)) throw new RangeError(`IdentityMatcher: threshold must be a finite number, got ${threshold}`);
    this.identities = identities.map((identity) => ({ embedding: Float32Array.from(identity.embedding) }));
  }

  /** Index of the matching identity, or undefined when nobody in the map is similar enough. */
  match(embedding: ArrayLike<number>): number | undefined {
    return matchIdentity(embedding, this.identities, this.threshold);
  }

  /** Cosine similarity of `embedding` to each identity, in the map's order. */
  similarities(embedding: ArrayLike<number>): number[] {
    return this.identities.map((identity) => cosineSimilarity(embedding, identity.embedding));
  }
}

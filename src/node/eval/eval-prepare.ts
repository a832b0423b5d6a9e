/**
 * The part of an evaluation that does not depend on the engine's settings, done once however many
 * variants run: every picture's faces found, every face that is a target, a source or a gallery
 * photo embedded by each recogniser, the galleries assembled, and the recognisers' baselines.
 */

import type { Image } from '../../core/image.js';
import { identityBaseline, type EmbeddedPhoto, type Gallery } from '../../eval/gallery.js';
import { RECOGNISERS, type Recogniser, type RecogniserId } from '../../eval/recognisers.js';
import type { Face } from '../../face/face.js';
import { primaryFaceIndex } from '../../face/select.js';
import type { EvalSet, NamedImage } from './eval-set.js';
import type { RecogniserBaseline } from './eval-report.js';
import { summarise } from './eval-stats.js';
import type { NodeSwapper } from '../jobs/swapper.js';

export type Embeddings = Partial<Record<RecogniserId, Float32Array>>;

/** A picture with its faces; `face` is the one a swap uses (the primary face), if any. */
export interface AnalysedPicture extends NamedImage {
  faces: Face[];
  faceIndex: number;
  face: Face | undefined;
  embeddings: Embeddings | undefined;
}

/** One target of the pairs: a picture's primary face, or one face of a group photo. */
export interface TargetFace {
  /** The picture's name, or `name #k` for face k (from 1) of a group photo. */
  name: string;
  picture: AnalysedPicture;
  faceIndex: number;
  face: Face | undefined;
  embeddings: Embeddings | undefined;
}

export interface PreparedEval {
  sources: AnalysedPicture[];
  targets: TargetFace[];
  /** Gallery mode: each recogniser's galleries (photos without a face are left out). */
  galleries?: Partial<Record<RecogniserId, Gallery[]>>;
  baseline?: Partial<Record<RecogniserId, RecogniserBaseline>>;
}

async function embedAll(recognisers: readonly Recogniser[], image: Image, face: Face): Promise<Embeddings> {
  const out: Embeddings = {};
  for (const r of recognisers) out[r.id] = await r.embed(image, face);
  return out;
}

async function analyse(item: NamedImage, swapper: NodeSwapper, recognisers: readonly Recogniser[]): Promise<AnalysedPicture> {
  const faces = await swapper.analyze(item.image);
  const faceIndex = faces.length ? primaryFaceIndex(faces, item.image.width, item.image.height) : -1;
  const face = faces[faceIndex];
  return { ...item, faces, faceIndex, face, embeddings: face ? await embedAll(recognisers, item.image, face) : undefined };
}

/** Each recogniser's mean of the photos' embeddings, normalised again (photos without a face left out). */
export function meanEmbeddings(all: readonly (Embeddings | undefined)[]): Embeddings | undefined {
  const known = all.filter((e): e is Embeddings => e !== undefined);
  if (known.length === 0) return undefined;
  const out: Embeddings = {};
  for (const id of RECOGNISERS) {
    const vectors = known.flatMap((e) => (e[id] ? [e[id]!] : []));
    if (vectors.length === 0) continue;
    const mean = new Float32Array(vectors[0].length);
    for (const v of vectors) for (let i = 0; i < mean.length; i++) mean[i] += v[i] / vectors.length;
    const norm = Math.hypot(...mean) || 1;
    for (let i = 0; i < mean.length; i++) mean[i] /= norm;
    out[id] = mean;
  }
  return out;
}

export async function prepareEval(set: EvalSet, swapper: NodeSwapper, recognisers: readonly Recogniser[]): Promise<PreparedEval> {
  const pictures = new Map<string, AnalysedPicture>();
  const analysed = async (item: NamedImage) => {
    let a = pictures.get(item.name);
    if (!a) pictures.set(item.name, (a = await analyse(item, swapper, recognisers)));
    return a;
  };
  const sources: AnalysedPicture[] = [];
  for (const s of set.sources) {
    const first = await analysed(s);
    if (!s.morePhotos?.length) {
      sources.push(first);
      continue;
    }
    // A source of several photos: its own picture (the first photo's faces), measured against by
    // the mean of its photos' embeddings.
    const photos = [first, ...(await Promise.all(s.morePhotos.map(analysed)))];
    sources.push({ ...first, morePhotos: s.morePhotos, embeddings: meanEmbeddings(photos.map((p) => p.embeddings)) });
  }
  const targets: TargetFace[] = [];
  for (const t of set.targets) {
    const picture = await analysed(t);
    if (!t.everyFace || picture.faces.length === 0) {
      targets.push({ name: picture.name, picture, faceIndex: picture.faceIndex, face: picture.face, embeddings: picture.embeddings });
      continue;
    }
    for (const [k, face] of picture.faces.entries()) {
      const embeddings = k === picture.faceIndex ? picture.embeddings : await embedAll(recognisers, picture.image, face);
      targets.push({ name: `${picture.name} #${k + 1}`, picture, faceIndex: k, face, embeddings });
    }
  }
  const prepared: PreparedEval = { sources, targets };

  if (set.galleries) {
    prepared.galleries = {};
    for (const r of recognisers) {
      prepared.galleries[r.id] = set.galleries.map((g) => ({
        person: g.person,
        photos: g.photos.flatMap((name): EmbeddedPhoto[] => {
          const e = pictures.get(name)?.embeddings?.[r.id];
          return e ? [{ name, embedding: e }] : [];
        }),
      }));
    }
  }

  // Every picture of a known person once, sources and targets alike.
  const known = [...pictures.values()].filter((p) => p.identity !== undefined && p.embeddings);
  const baseline: Partial<Record<RecogniserId, RecogniserBaseline>> = {};
  for (const id of RECOGNISERS) {
    const photos = known.flatMap((p) => (p.embeddings![id] ? [{ name: p.name, person: p.identity!, embedding: p.embeddings![id]! }] : []));
    const { same, different } = identityBaseline(photos);
    if (same.length && different.length) baseline[id] = { sameIdentity: summarise(same), differentIdentity: summarise(different) };
  }
  if (Object.keys(baseline).length) prepared.baseline = baseline;
  return prepared;
}

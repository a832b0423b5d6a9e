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

export async function prepareEval(set: EvalSet, swapper: NodeSwapper, recognisers: readonly Recogniser[]): Promise<PreparedEval> {
  const pictures = new Map<string, AnalysedPicture>();
  const analysed = async (item: NamedImage) => {
    let a = pictures.get(item.name);
    if (!a) pictures.set(item.name, (a = await analyse(item, swapper, recognisers)));
    return a;
  };
  const sources: AnalysedPicture[] = [];
  for (const s of set.sources) sources.push(await analysed(s));
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

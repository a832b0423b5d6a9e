/**
 * The generic swapper: one engine for every swapper row of the model table (FaceFusion's
 * hyperswap, simswap, ghost, blendswap, uniface and hififace models), driven by the row and its
 * family's small pre/post functions (swapper-families.ts). Each target face is cropped on the
 * row's template at the pixel-boost size, split by space-to-depth into crops of the model's size,
 * swapped tile by tile and put back together; the result is a 'facefusion' patch, pasted as
 * FaceFusion pastes (compose/facefusion-paste.ts: its box mask with the settings' padding and blur,
 * combined with the occlusion and region masks by the minimum).
 */

import type { MaskModels } from '../compose/occlusion-mask.js';
import type { FaceFusionPatch } from '../compose/patch.js';
import { masksActive } from '../compose/region-mask.js';
import { LiveswapError } from '../core/errors.js';
import { toRgb, type Image } from '../core/image.js';
import type { ArcFaceEmbedder } from '../face/arcface.js';
import type { Face } from '../face/face.js';
import { bindSession, type BoundIo } from '../models/model-io.js';
import type { ModelSpec, SwapperTraits } from '../models/model-spec.js';
import type { InferenceSession } from '../models/runtime.js';
import type { FaceSwapper, ModelSwapSettings } from './engine.js';
import { averageIdentity } from './inswapper.js';
import { depthToSpace, pixelBoostFactor, spaceToDepth } from './pixel-boost.js';
import { swapperCropMasks } from './swap-masks.js';
import { applyIdentityWeight, cropForRow, DEFAULT_IDENTITY_WEIGHT, embeddingSource, imageSource, inputAtSize, swapperInputBlob, swapperOutputImage } from './swapper-families.js';

/** What the engine takes from the source photo. */
export interface ModelSwapIdentity {
  /** ArcFace's raw embedding of the source face (absent for the image-driven families). */
  readonly embedding?: Float32Array;
  /** What the swapper's `source` input takes, before the identity weight. */
  readonly source: Float32Array;
}

/** A loaded model and its row. */
export interface RowSession {
  readonly session: InferenceSession;
  readonly row: ModelSpec;
  /** Names the file in messages. */
  readonly label: string;
}

/** The sessions a swapper row needs: the swapper, ArcFace unless it is image-driven, and its converter if it names one. */
export interface ModelSwapParts {
  readonly swapper: RowSession;
  readonly embedder?: ArcFaceEmbedder;
  readonly converter?: RowSession;
  /** XSeg and BiSeNet, when installed: occlusion and region masks run them. */
  readonly maskModels?: MaskModels;
}

/** The five keypoints in OpenCV's convention (pixel centres at integers), as the templates are. */
export function opencvKeypoints(face: Face): ArrayLike<number> {
  return face.kps5Reference ?? face.kps5.map((v) => v - 0.5);
}

/** Runs a converter row on a raw embedding: `input` [1, 512] in, the first output ravelled. */
async function runConverter(converter: RowSession, io: BoundIo, embedding: Float32Array): Promise<Float32Array> {
  const out = await converter.session.run({ [io.inputs[0]!]: { data: embedding, dims: [1, embedding.length] } });
  const result = out[io.outputs[0]!];
  if (!result || result.data.length !== embedding.length) {
    throw new LiveswapError('model', `${converter.label} returned ${result?.data.length ?? 0} values; expected ${embedding.length}.`, { file: converter.label });
  }
  return Float32Array.from(result.data);
}

export class ModelSwapEngine implements FaceSwapper<ModelSwapIdentity> {
  readonly name: string;
  /** FaceFusion's defaults: no mouth mask, no colour match. */
  readonly mouthMaskByDefault = false;
  readonly colorMatchByDefault = false;

  private constructor(
    private readonly parts: ModelSwapParts,
    /** The row's swapper traits: family, source kind, output scale, pixel-boost sizes, identity weight. */
    readonly traits: SwapperTraits,
    private readonly io: BoundIo,
    private readonly converterIo: BoundIo | undefined,
  ) {
    this.name = parts.swapper.row.id;
  }

  /** Checks the sessions against their rows (names, converter present where the row needs one). */
  static create(parts: ModelSwapParts): ModelSwapEngine {
    const { row, session, label } = parts.swapper;
    const traits = row.origin === 'download' ? row.swap : undefined;
    if (!traits || traits.source.kind === 'emap') {
      throw new LiveswapError('model', `${row.id} is not a swapper the generic engine runs (InSwapper has its own engine).`);
    }
    if (traits.source.kind === 'embedding' && !parts.embedder) throw new LiveswapError('model', `${row.id} needs ArcFace (w600k_r50) for its source embedding.`);
    const converterId = traits.source.kind === 'embedding' ? traits.source.converter : null;
    if (converterId !== null && parts.converter?.row.id !== converterId) throw new LiveswapError('model', `${row.id} needs its embedding converter ${converterId}.`);
    const io = bindSession(session, row, label);
    const converterIo = parts.converter && converterId !== null ? bindSession(parts.converter.session, parts.converter.row, parts.converter.label) : undefined;
    return new ModelSwapEngine(parts, traits, io, converterIo);
  }

  get row(): ModelSpec {
    return this.parts.swapper.row;
  }

  private convert = (raw: Float32Array): Promise<Float32Array> => runConverter(this.parts.converter!, this.converterIo!, raw);

  async createIdentity(image: Image, face: Face): Promise<ModelSwapIdentity> {
    const rgb = image.channels === 3 ? image : toRgb(image);
    if (this.traits.source.kind === 'image') return { source: imageSource(this.traits, rgb, opencvKeypoints(face)) };
    const { embedding } = await this.parts.embedder!.embed(rgb, opencvKeypoints(face));
    return { embedding, source: await embeddingSource(this.traits, embedding, this.converterIo ? this.convert : undefined) };
  }

  /**
   * Several photos of one person, as FaceFusion combines them (spec §5, §7.3): the raw embeddings e
   * and the normed ones n are averaged first (the mean n not normalised again), and the source is
   * made from the averages: the mean n for hyperswap, the converter run once on the mean e for
   * ghost, simswap and hififace (then normalised where the row says). An image-driven row takes the
   * first photo's face.
   */
  async combineIdentities(identities: readonly ModelSwapIdentity[]): Promise<ModelSwapIdentity> {
    const [first] = identities;
    if (!first) throw new RangeError('combineIdentities: no identities');
    const source = this.traits.source;
    if (source.kind !== 'embedding' || identities.length === 1) return first;
    const { embedding, normedEmbedding } = averageIdentity(identities.map((i) => i.embedding ?? i.source));
    if (source.converter === null) return { embedding, source: source.normalise ? normedEmbedding : embedding };
    return { embedding, source: await embeddingSource(this.traits, embedding, this.convert) };
  }

  /** The source input for this face: the identity weight mixes in the target's own embedding (spec §7.3). */
  private async sourceFor(frame: Image, face: Face, identity: ModelSwapIdentity, weight: number): Promise<Float32Array> {
    if (this.traits.identityWeight === 'none' || weight === DEFAULT_IDENTITY_WEIGHT || !this.parts.embedder) return identity.source;
    const rgb = frame.channels === 3 ? frame : toRgb(frame);
    const { embedding } = await this.parts.embedder.embed(rgb, opencvKeypoints(face));
    return applyIdentityWeight(identity.source, embedding, weight, this.traits.identityWeight);
  }

  /** Spec §7.2: crop at the boost size, swap each space-to-depth tile, interleave; the frame is only read. */
  async render(frame: Image, face: Face, identity: ModelSwapIdentity, settings?: ModelSwapSettings): Promise<FaceFusionPatch> {
    const row = this.parts.swapper.row;
    const size = row.input.size;
    const boost = settings?.pixelBoost ?? size;
    const t = pixelBoostFactor(row.id, size, boost);
    const { crop, matrix } = cropForRow(frame, opencvKeypoints(face), inputAtSize(row.input, boost));
    const source = await this.sourceFor(frame, face, identity, settings?.identityWeight ?? DEFAULT_IDENTITY_WEIGHT);
    const tiles = t === 1 ? [crop] : spaceToDepth(crop, t);
    const swapped: Image[] = [];
    for (const tile of tiles) swapped.push(await this.swapTile(tile, source));
    const result = t === 1 ? swapped[0]! : depthToSpace(swapped, t);
    // The box mask is the paste's own (FaceFusion's default mask type); the rest come with the patch.
    const masks = masksActive(settings?.masks) ? await swapperCropMasks(face, { crop, swapped: result, matrix }, settings.masks, this.parts.maskModels, false) : [];
    return { strategy: 'facefusion', crop: result, matrix, face, ...(masks.length ? { masks } : {}) };
  }

  /** One model-size crop through the swapper (spec §7.2 steps 4–6). */
  async swapTile(tile: Image, source: Float32Array): Promise<Image> {
    const { row, session, label } = this.parts.swapper;
    const size = row.input.size;
    const [target, sourceName] = this.io.inputs;
    const sourceDims = row.inputs[1]!.shape.map((d) => (typeof d === 'number' ? d : 1));
    const out = await session.run({
      [target!]: { data: swapperInputBlob(tile, row.input), dims: [1, 3, size, size] },
      [sourceName!]: { data: source, dims: sourceDims },
    });
    const pred = out[this.io.outputs[0]!];
    if (!pred) throw new LiveswapError('model', `${label} returned no output.`, { file: label });
    return swapperOutputImage(pred.data, size, row, this.traits, label);
  }
}

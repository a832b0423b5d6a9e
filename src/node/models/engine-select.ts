/**
 * Which engine a swap uses: `mesh` always works; `inswapper` and FaceFusion's swappers need their
 * models installed and verified; `auto` takes the user's default (LIVESWAP_ENGINE) or inswapper
 * when it can and says so when it cannot. Installed enhancers are listed for every engine. Verification hashes a
 * file once and remembers (size, modification time, hash), so later runs do not re-read 700 MB.
 */

import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import { ENHANCER_MODEL_IDS, swapperEngineModels, type ModelEntry, type ModelId } from '../../models/registry.js';
import { ENGINE_NAMES, type EngineChoice, type EngineName } from '../../pipeline/options.js';
import { MASK_MODEL_IDS } from '../../pipeline/mask-models.js';
import type { ModelStore } from './model-store.js';
import { sha256File } from '../files/hash.js';
import { expectedFile, type RecordedModels } from './model-digest.js';

export type { EngineName } from '../../pipeline/options.js';

export interface EngineResolution {
  engine: EngineName;
  /**
   * For inswapper: the installed files of its three models, and of 2d106det (`landmarks`, for
   * Deep-Live-Cam's mouth mask) when that optional model is installed and verifies too.
   */
  models?: { detector: string; recogniser: string; swapper: string; landmarks?: string };
  /** For a FaceFusion swapper: its installed files by row id (detector, ArcFace, converter, swapper). */
  swapperFiles?: Partial<Record<ModelId, string>>;
  /** The face enhancers installed and verified, by row id. */
  enhancers?: Partial<Record<ModelId, string>>;
  /** The mask models (XSeg, BiSeNet) installed and verified, by row id: any engine may run them. */
  maskModels?: Partial<Record<ModelId, string>>;
  /** A line for the user when `auto` could not use the engine it prefers. */
  notice?: string;
}

export interface Stamp {
  size: number;
  mtimeMs: number;
  sha256: string;
}

const STAMPS = '.verified.json';

async function readStamps(store: ModelStore): Promise<Record<string, Stamp>> {
  try {
    return JSON.parse(await readFile(join(store.folder, STAMPS), 'utf8')) as Record<string, Stamp>;
  } catch {
    return {};
  }
}

/**
 * True when the installed file of `entry` has the registry's hash, or for a CRC-32 row the SHA-256
 * recorded at its first verified download (hashed at most once per change).
 */
export async function verified(store: ModelStore, entry: ModelEntry, stamps: Record<string, Stamp>, recorded: RecordedModels): Promise<boolean> {
  const expected = expectedFile(entry, recorded);
  if (expected.sha256 === undefined) return false;
  const path = store.pathOf(entry);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile() || (expected.bytes !== undefined && info.size !== expected.bytes)) return false;
  const stamp = stamps[entry.file];
  if (stamp && stamp.size === info.size && stamp.mtimeMs === info.mtimeMs) return stamp.sha256 === expected.sha256;
  const sha256 = await sha256File(path);
  stamps[entry.file] = { size: info.size, mtimeMs: info.mtimeMs, sha256 };
  await writeFile(join(store.folder, STAMPS), JSON.stringify(stamps, null, 2)).catch(() => undefined);
  return sha256 === expected.sha256;
}

/** The remembered hashes and the recorded SHA-256s, read once per resolution. */
export async function verificationState(store: ModelStore): Promise<{ stamps: Record<string, Stamp>; recorded: RecordedModels }> {
  return { stamps: await readStamps(store), recorded: await store.recorded() };
}

/** The inswapper engine's files when all are installed and verified (2d106det optional); else the ids that are not. */
async function inswapperFiles(store: ModelStore, { stamps, recorded }: VerificationState): Promise<{ files?: EngineResolution['models']; missing: string[] }> {
  const [detector, recogniser] = store.entries(['det_10g', 'w600k_r50']);
  const swappers = store.entries(['inswapper_128', 'inswapper_128_fp16']);
  const missing: string[] = [];
  if (!(await verified(store, detector, stamps, recorded))) missing.push(detector.id);
  if (!(await verified(store, recogniser, stamps, recorded))) missing.push(recogniser.id);
  let swapper: ModelEntry | undefined;
  for (const s of swappers) if (!swapper && (await verified(store, s, stamps, recorded))) swapper = s;
  if (!swapper) missing.push('inswapper_128');
  if (missing.length || !swapper) return { missing };
  const files: NonNullable<EngineResolution['models']> = { detector: store.pathOf(detector), recogniser: store.pathOf(recogniser), swapper: store.pathOf(swapper) };
  // Optional: without it the mouth mask follows FaceMesh's lip line instead.
  const [landmarks] = store.entries(['2d106det']);
  if (await verified(store, landmarks, stamps, recorded)) files.landmarks = store.pathOf(landmarks);
  return { files, missing };
}

/** A FaceFusion swapper's files (detector, ArcFace, converter, swapper) when all are installed and verified; else the ids that are not. */
async function modelSwapperFiles(store: ModelStore, id: string, state: VerificationState): Promise<{ files?: Partial<Record<ModelId, string>>; missing: string[] }> {
  const files: Partial<Record<ModelId, string>> = {};
  const missing: string[] = [];
  for (const entry of store.entries(swapperEngineModels(id))) {
    if (await verified(store, entry, state.stamps, state.recorded)) files[entry.id as ModelId] = store.pathOf(entry);
    else missing.push(entry.id);
  }
  return missing.length > 0 ? { missing } : { files, missing };
}

/** The face enhancers installed and verified, by row id (any engine can run one after its swap). */
async function enhancerFiles(store: ModelStore, state: VerificationState): Promise<Partial<Record<ModelId, string>>> {
  const files: Partial<Record<ModelId, string>> = {};
  const ids = ENHANCER_MODEL_IDS.filter((id) => Object.hasOwn(store.registry, id));
  for (const entry of store.entries(ids)) if (await verified(store, entry, state.stamps, state.recorded)) files[entry.id as ModelId] = store.pathOf(entry);
  return files;
}

/** The engine `auto` prefers when the user sets one: LIVESWAP_ENGINE, when it names an engine. */
export function defaultEngine(env: NodeJS.ProcessEnv = process.env): EngineName | undefined {
  const value = env.LIVESWAP_ENGINE?.trim();
  return value && (ENGINE_NAMES as readonly string[]).includes(value) ? (value as EngineName) : undefined;
}

/**
 * The engine for `choice`, with the files it needs and every installed enhancer. `auto` takes the
 * user's default engine (LIVESWAP_ENGINE) when its models are there, else InSwapper when installed,
 * else mesh, and says why when it could not take the one it preferred.
 */
export async function resolveEngine(choice: EngineChoice, store: ModelStore, env: NodeJS.ProcessEnv = process.env): Promise<EngineResolution> {
  const state = await verificationState(store);
  const resolution = await resolveSwapper(choice, store, state, env);
  const enhancers = await enhancerFiles(store, state);
  const maskModels = await maskModelFiles(store, state);
  return {
    ...resolution,
    ...(Object.keys(enhancers).length > 0 ? { enhancers } : {}),
    ...(Object.keys(maskModels).length > 0 ? { maskModels } : {}),
  };
}

/** The mask models (XSeg occluders, BiSeNet parsers) installed and verified, by row id. */
async function maskModelFiles(store: ModelStore, state: VerificationState): Promise<Partial<Record<ModelId, string>>> {
  const files: Partial<Record<ModelId, string>> = {};
  const ids = MASK_MODEL_IDS.filter((id) => Object.hasOwn(store.registry, id));
  for (const entry of store.entries(ids)) if (await verified(store, entry, state.stamps, state.recorded)) files[entry.id as ModelId] = store.pathOf(entry);
  return files;
}

type VerificationState = Awaited<ReturnType<typeof verificationState>>;

async function resolveSwapper(choice: EngineChoice, store: ModelStore, state: VerificationState, env: NodeJS.ProcessEnv): Promise<EngineResolution> {
  const preferred = choice === 'auto' ? defaultEngine(env) : choice;
  let fallback: string | undefined;
  if (preferred !== undefined && preferred !== 'mesh' && preferred !== 'inswapper') {
    const { files, missing } = await modelSwapperFiles(store, preferred, state);
    if (files) return { engine: preferred, swapperFiles: files };
    const pull = `Run \`liveswap models pull --for ${preferred} --accept-license\` (or \`liveswap models import FILE\` for files you have).`;
    if (choice !== 'auto') throw new LiveswapError('model', `The ${preferred} engine needs models that are not installed or do not verify: ${missing.join(', ')}. ${pull}`);
    fallback = `The default engine ${preferred} (LIVESWAP_ENGINE) needs ${missing.join(', ')}, which are not installed. `;
  }
  const notice = (text: string): string => `${fallback ?? ''}${text}`;
  if (preferred === 'mesh') return { engine: 'mesh' };
  const { files, missing } = await inswapperFiles(store, state);
  if (files) return { engine: 'inswapper', models: files, ...(fallback ? { notice: notice('Using inswapper.') } : {}) };
  if (choice === 'inswapper') {
    throw new LiveswapError(
      'model',
      `The inswapper engine needs models that are not installed or do not verify: ${missing.join(', ')}. Run \`liveswap models pull --accept-license\` (or \`liveswap models import FILE\` for files you have).`,
    );
  }
  return { engine: 'mesh', notice: notice(`Using the built-in mesh engine: the inswapper models are not installed (${missing.join(', ')}); \`liveswap models pull\` adds them.`) };
}

/**
 * Drops the remembered hashes, for when a file they vouch for would not load: it was rewritten in
 * place keeping its size and modification time, so the next resolution hashes every file again.
 */
export async function forgetVerification(store: ModelStore): Promise<void> {
  await rm(join(store.folder, STAMPS), { force: true }).catch(() => undefined);
}

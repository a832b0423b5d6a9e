/**
 * What a valid result of each parser looks like, for the fuzz targets: a parser that answers
 * garbage with NaN sizes or an out-of-file range has failed as surely as one that crashes. Also the
 * type-keeping JSON mutation the TFJS target uses (the converter trusts model.json's types, which
 * come from a pinned package, but not its values).
 */

import fc from 'fast-check';
import { DESCRIPTOR_SIZE } from '../../src/face/embedder.js';
import type { ParsedInput, parseVideoStream } from '../../src/node/media/ffmpeg-probe.js';
import type { FaceMap } from '../../src/pipeline/face-map.js';
import type { ByteRange } from '../../src/server/http-files.js';

const finiteOrUndefined = (n: number | undefined): boolean => n === undefined || Number.isFinite(n);

export function checkProbe(parsed: ParsedInput): string | undefined {
  if (!finiteOrUndefined(parsed.durationSeconds) || (parsed.durationSeconds ?? 0) < 0) return `duration ${parsed.durationSeconds}`;
  if (!finiteOrUndefined(parsed.startSeconds)) return `start ${parsed.startSeconds}`;
  for (const s of parsed.streams) {
    if (!Number.isSafeInteger(s.index) || s.index < 0) return `stream index ${s.index}`;
    if (s.rotation !== undefined && ![0, 90, 180, 270].includes(s.rotation)) return `rotation ${s.rotation}`;
  }
  return undefined;
}

export function checkVideoStream(facts: ReturnType<typeof parseVideoStream>): string | undefined {
  if (facts === undefined) return undefined;
  if (!(Number.isInteger(facts.width) && facts.width > 0 && Number.isInteger(facts.height) && facts.height > 0)) return `size ${facts.width}×${facts.height}`;
  if (facts.fps !== undefined && !(Number.isFinite(facts.fps) && facts.fps > 0)) return `fps ${facts.fps}`;
  return undefined;
}

export function checkFaceMap(map: FaceMap): string | undefined {
  if (!(map.threshold > 0 && map.threshold < 1)) return `threshold ${map.threshold}`;
  const ids = new Set<number>();
  for (const p of map.identities) {
    if (!Number.isInteger(p.id) || p.id < 0 || ids.has(p.id)) return `id ${p.id}`;
    ids.add(p.id);
    if (p.embedding.length !== DESCRIPTOR_SIZE || !p.embedding.every(Number.isFinite)) return `embedding of ${p.embedding.length}`;
    const sources = p.source === null ? [] : Array.isArray(p.source) ? p.source : [p.source];
    if (!sources.every((s) => typeof s === 'string' && s.length > 0)) return `source ${JSON.stringify(p.source)}`;
  }
  return undefined;
}

export function checkRange(range: ByteRange | 'unsatisfiable' | undefined, size: number): string | undefined {
  if (range === undefined || range === 'unsatisfiable') return undefined;
  const { start, end } = range;
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end < size)) return `range ${start}-${end} of a ${size}-byte file`;
  return undefined;
}

/** Numbers a hostile model.json could hold where the converter expects sizes, counts or values. */
const anyNumber = fc.oneof(
  fc.integer({ min: -4, max: 64 }),
  fc.constantFrom(0, -1, 0.5, 1e9, 2 ** 31, 2 ** 53, -(2 ** 31), Number.MAX_VALUE),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
/** Strings: node names and ops of the sample (to rewire the graph), dtypes, base64 and not. */
const anyString = fc.oneof(
  fc.constantFrom('x', 'w', 'b', 'conv', 'biased', 'out', 'x:1', '^x', 'conv:0', 'Const', 'Placeholder', 'Relu', 'Conv2D', 'AddV2', 'MatMul', 'Reshape', 'Pad'),
  fc.constantFrom('float32', 'int32', 'bool', 'string', 'complex64', 'float16', 'uint8', 'uint16', 'DT_FLOAT', 'DT_INT32'),
  fc.constantFrom('U0FNRQ==', 'VkFMSUQ=', 'TkNIVw==', '!!not base64', '-1', '1e9', 'NaN', ''),
  fc.string({ maxLength: 12 }),
);

interface Leaf {
  parent: Record<string, unknown>;
  key: string;
  value: unknown;
}

/** The leaf (or container) a path of choices reaches, with the container that holds it. */
function leafAt(root: unknown, path: readonly number[]): Leaf | undefined {
  let parent: Record<string, unknown> | undefined;
  let key = '';
  let node = root;
  for (const step of path) {
    if (typeof node !== 'object' || node === null) break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    parent = node as Record<string, unknown>;
    key = keys[step % keys.length]!;
    node = parent[key];
  }
  return parent ? { parent, key, value: node } : undefined;
}

/**
 * 1 to 4 values of `seed` replaced by values of the same JSON type: numbers by other numbers,
 * strings by other strings, arrays shortened, lengthened or emptied.
 */
export function sameTypeJson(seed: unknown): fc.Arbitrary<unknown> {
  const edit = fc.record({ path: fc.array(fc.nat(), { minLength: 1, maxLength: 10 }), n: anyNumber, s: anyString, b: fc.boolean(), len: fc.nat({ max: 6 }) });
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    const root = structuredClone(seed);
    for (const { path, n, s, b, len } of edits) {
      const leaf = leafAt(root, path);
      if (!leaf) continue;
      const { parent, key, value } = leaf;
      if (typeof value === 'number') parent[key] = n;
      else if (typeof value === 'string') parent[key] = s;
      else if (typeof value === 'boolean') parent[key] = b;
      else if (Array.isArray(value)) {
        // A shorter list, or one with its first item repeated (a duplicate node, an extra weight).
        const list = value as unknown[];
        const extra = list.length === 0 ? [] : Array.from({ length: Math.max(0, len - list.length) }, (): unknown => structuredClone(list[0]));
        parent[key] = len <= list.length ? list.slice(0, len) : [...list, ...extra];
      }
    }
    return root;
  });
}

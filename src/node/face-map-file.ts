/** Reading a map.json for `liveswap swap --map-faces`: sources resolved against the map's folder. */

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LiveswapError } from '../core/errors.js';
import { parseFaceMap } from '../pipeline/face-map.js';

/** What the video swap needs from a map: each person's photos (none: leave them alone) and descriptor. */
export interface LoadedFaceMap {
  threshold: number;
  identities: { sources: string[]; embedding: Float32Array }[];
}

export async function readFaceMapFile(file: string): Promise<LoadedFaceMap> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LiveswapError('input-missing', `Cannot find the face map ${file}: no such file. Make one with \`liveswap faces scan\`.`, { file, cause });
    throw new LiveswapError('input-unreadable', `Cannot read the face map ${file}: ${(cause as Error).message}`, { file, cause });
  }
  const base = dirname(resolve(file));
  const map = parseFaceMap(text, file, { resolveSource: (path) => resolve(base, path) });
  const identities = map.identities.map((person) => ({
    sources: person.source === null ? [] : ([] as string[]).concat(person.source),
    embedding: Float32Array.from(person.embedding),
  }));
  if (identities.every((person) => person.sources.length === 0)) {
    throw new LiveswapError('usage', `The face map ${file} gives no source photo to anyone: set "source" for at least one identity (e.g. "source": "photo.jpg").`, { file });
  }
  return { threshold: map.threshold, identities };
}

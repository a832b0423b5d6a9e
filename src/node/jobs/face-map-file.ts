/** A map.json as `liveswap swap --map-faces` uses it: each person's photos and descriptor. */

import { LiveswapError } from '../../core/errors.js';
import { readFaceMap } from './faces-scan.js';

/** What the video swap needs from a map: each person's photos (none: leave them alone) and descriptor. */
export interface LoadedFaceMap {
  threshold: number;
  identities: { sources: string[]; embedding: Float32Array }[];
}

/** Reads the map (sources resolved against its folder); a map that swaps nobody is a usage error. */
export async function readFaceMapFile(file: string): Promise<LoadedFaceMap> {
  const map = await readFaceMap(file);
  const identities = map.identities.map((person) => ({
    sources: person.source === null ? [] : ([] as string[]).concat(person.source),
    embedding: Float32Array.from(person.embedding),
  }));
  if (identities.every((person) => person.sources.length === 0)) {
    throw new LiveswapError('usage', `The face map ${file} gives no source photo to anyone: set "source" for at least one identity (e.g. "source": "photo.jpg").`, { file });
  }
  return { threshold: map.threshold, identities };
}

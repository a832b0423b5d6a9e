/**
 * Where the liveswap package itself lives, found from this file's location so the same code works
 * from dist/ (installed or built) and from src/ (run through tsx).
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Manifest {
  name?: string;
  version?: string;
}

function readManifest(path: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** The folder holding liveswap's package.json, searched upwards from this module. */
export function ownPackageRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readManifest(manifest)?.name === 'liveswap') return dir;
  }
  throw new Error(`Could not find liveswap's package.json above ${start}; the installation looks incomplete.`);
}

export function ownVersion(): string {
  return readManifest(join(ownPackageRoot(), 'package.json'))?.version ?? '0.0.0';
}

/** The bundled face photos used by the demo (shipped with the package, see SOURCES.md there). */
export function bundledPhotosDir(): string {
  return join(ownPackageRoot(), 'test', 'fixtures', 'faces');
}

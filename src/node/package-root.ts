/** Finds an installed npm package's folder, even when its `exports` hide package.json. */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LiveswapError } from '../core/errors.js';

const require = createRequire(import.meta.url);

export function packageRoot(name: string): string {
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

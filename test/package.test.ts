/** The package as users see it: its entry points, its bin, its exports and the .npmrc guard. */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as library from '../src/index.js';

const root = new URL('../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  type: string;
  bin: Record<string, string>;
  exports: Record<string, { types: string; default: string }>;
  engines: { node: string };
  scripts: Record<string, string>;
};

test('ESM package for Node ≥ 20 with a liveswap bin built from src/cli/main.ts', () => {
  assert.equal(manifest.type, 'module');
  assert.equal(manifest.engines.node, '>=20');
  assert.equal(manifest.bin.liveswap, 'dist/cli/main.js');
  assert.match(readFileSync(new URL('src/cli/main.ts', root), 'utf8'), /^#!\/usr\/bin\/env node\n/);
  assert.deepEqual(manifest.exports['.'], { types: './dist/index.d.ts', default: './dist/index.js' });
});

test('the two README commands exist as scripts', () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  assert.match(readme, /npm install && npm run demo\nnpm test\n/);
  assert.ok(manifest.scripts.demo && manifest.scripts.test && manifest.scripts['bench:still']);
});

test('.npmrc keeps onnxruntime-node from downloading at install', () => {
  assert.match(readFileSync(new URL('.npmrc', root), 'utf8'), /^onnxruntime-node-install=skip$/m);
});

test('the library exports the swapper, image I/O, options and errors', () => {
  for (const name of ['createNodeSwapper', 'readImage', 'writeImage', 'resolveSwapOptions', 'LiveswapError', 'EXIT_CODES', 'createImage'] as const) {
    assert.equal(typeof library[name], name === 'EXIT_CODES' ? 'object' : 'function', name);
  }
  assert.deepEqual([...library.ENGINES], ['auto', 'mesh', 'inswapper']);
});

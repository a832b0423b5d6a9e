/**
 * The package as users see it: its entry points (Node, the platform-free core, the browser), its
 * bin, its exports and the .npmrc guard.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { test } from 'node:test';
import ts from 'typescript';
import * as library from '../src/index.js';
import { FACEFUSION_SWAPPER_IDS } from '../src/models/model-spec-facefusion.js';

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
  // auto, the two built-in engines, then FaceFusion's swappers (rows of the model table).
  assert.deepEqual([...library.ENGINES], ['auto', 'mesh', 'inswapper', ...FACEFUSION_SWAPPER_IDS]);
  assert.ok(FACEFUSION_SWAPPER_IDS.includes('hyperswap_1a_256'));
});

/** Each export and the source file it is built from. */
const ENTRIES = { '.': 'src/index.ts', './core': 'src/core/index.ts', './browser': 'src/browser/index.ts', './client': 'src/client/index.ts' } as const;

test('exports the Node library, the platform-free core, the browser entry and the SDK, each with types', () => {
  assert.deepEqual(Object.keys(manifest.exports), Object.keys(ENTRIES));
  for (const [name, source] of Object.entries(ENTRIES)) {
    const built = source.replace(/^src\//, './dist/').replace(/\.ts$/, '');
    assert.deepEqual(manifest.exports[name], { types: `${built}.d.ts`, default: `${built}.js` }, name);
    assert.ok(existsSync(new URL(source, root)), source);
  }
});

/** Bare module names reachable from some source files through their relative imports (static, re-export and dynamic). */
function externalModules(starts: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = (file: URL): void => {
    if (seen.has(file.href)) return;
    seen.add(file.href);
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (fileName.startsWith('.')) visit(new URL(fileName.replace(/\.js$/, '.ts'), file));
      else external.add(fileName);
    }
  };
  for (const start of starts) visit(new URL(start, root));
  return external;
}

const NODE_BUILTINS = new Set(builtinModules);
const isNodeOnly = (name: string): boolean =>
  name.startsWith('node:') ||
  NODE_BUILTINS.has(name.split('/')[0]!) ||
  /^(sharp|onnxruntime-node|@contentauth\/|@ffmpeg-installer\/|fastify|@fastify\/|commander|yauzl)/.test(name);

test('liveswap/core imports nothing outside src/core, and liveswap/browser (with its worker) no Node-only module', () => {
  assert.deepEqual([...externalModules([ENTRIES['./core']])], []);
  const browser = [...externalModules([ENTRIES['./browser'], 'src/browser/live-worker.ts'])];
  assert.deepEqual(browser.filter(isNodeOnly), [], `the browser entry reaches ${browser.join(', ')}`);
  assert.ok(
    browser.some((name) => name.startsWith('onnxruntime-web')),
    'the browser entry runs on onnxruntime-web',
  );
  // The client starts its worker by the emitted file name, which dist/browser holds.
  assert.match(readFileSync(new URL('src/browser/live-client.ts', root), 'utf8'), /new URL\('\.\/live-worker\.js', import\.meta\.url\)/);
});

test('liveswap/client (the SDK, for Node and browsers) needs nothing but openapi-fetch', () => {
  assert.deepEqual([...externalModules([ENTRIES['./client']])], ['openapi-fetch']);
});

const built = existsSync(new URL('dist/index.js', root));

test(
  'after a build, liveswap, liveswap/core and liveswap/browser resolve to built files with their types',
  { skip: built ? false : 'dist/ is not built (npm run build; npm ci runs it)' },
  async () => {
    for (const name of Object.keys(ENTRIES)) {
      const specifier = name === '.' ? 'liveswap' : `liveswap/${name.slice(2)}`;
      const resolved = import.meta.resolve(specifier);
      assert.equal(resolved, new URL(manifest.exports[name]!.default, root).href, specifier);
      assert.ok(existsSync(new URL(resolved)), `${specifier}: ${resolved} is missing; dist/ predates the exports, run npm run build`);
      assert.ok(existsSync(new URL(manifest.exports[name]!.types, root)), `${specifier}: no ${manifest.exports[name]!.types}`);
    }
    assert.ok(existsSync(new URL('dist/browser/live-worker.js', root)), 'the worker the browser entry starts is built beside it');
    // The core runs in Node as it is; a name typed as string keeps the type check from needing dist/.
    const coreName: string = 'liveswap/core';
    const core = (await import(coreName)) as typeof import('../src/core/index.js');
    assert.equal(core.createImage(2, 1, 3).data.length, 6);
    assert.equal(new core.LiveswapError('model', 'x').kind, 'model');
  },
);

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CORE = fileURLToPath(new URL('../../src/core/', import.meta.url));

describe('src/core is platform-free', () => {
  const files = readdirSync(CORE).filter((f) => f.endsWith('.ts'));

  it('finds the core modules', () => {
    assert.ok(files.includes('warp.ts') && files.includes('filters.ts'), files.join(', '));
  });

  for (const file of files) {
    it(`${file} imports only relative core modules and uses no platform globals`, () => {
      const text = readFileSync(join(CORE, file), 'utf8');
      for (const m of text.matchAll(/(?:import|export)[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = m[1] ?? m[2];
        assert.ok(spec.startsWith('./') && !spec.includes('..'), `${file} imports ${spec}`);
      }
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      for (const name of ['require(', 'process.', 'Buffer.', 'document.', 'window.', 'navigator.', 'HTMLCanvasElement', 'OffscreenCanvas']) {
        assert.ok(!code.includes(name), `${file} uses ${name}`);
      }
    });
  }
});

/**
 * Builds the browser app (web/) into dist/web, which `liveswap ui` serves: the main page at `/`,
 * the relay viewer at `/output`, everything else under `/assets/`.
 */

import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const page = (name: string): string => fileURLToPath(new URL(`./web/${name}`, import.meta.url));

/**
 * onnxruntime-web names its .wasm with `new URL('ort-wasm-….wasm', import.meta.url)`, which Vite
 * would copy into assets (27 MB). The worker points `ort.env.wasm.wasmPaths` at the server's copy,
 * so the reference is marked for Vite to leave alone.
 */
function leaveOrtWasmAlone(): Plugin {
  return {
    name: 'liveswap:leave-ort-wasm-alone',
    enforce: 'pre',
    transform(code, id) {
      if (!/[\\/]onnxruntime-web[\\/]dist[\\/]/.test(id)) return null;
      const changed = code.replace(/new URL\(\s*(["'`]ort-wasm[^"'`]*\.wasm["'`])/g, 'new URL(/* @vite-ignore */ $1');
      return changed === code ? null : { code: changed, map: null };
    },
  };
}

/**
 * src/browser names its worker by the emitted file (`new URL('./live-worker.js', import.meta.url)`),
 * so that the published dist/browser works as it is; building from source, Vite is pointed at the
 * TypeScript file beside it, as TypeScript's own resolution does for imports.
 */
function sourceWorkerUrls(): Plugin {
  return {
    name: 'liveswap:source-worker-urls',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('.ts') || !code.includes('import.meta.url')) return null;
      const changed = code.replace(/new URL\(\s*(["'])(\.{1,2}\/[^"']+)\.js\1(\s*,\s*import\.meta\.url)/g, (whole, quote: string, path: string, rest: string) =>
        existsSync(fileURLToPath(new URL(`${path}.ts`, pathToFileURL(id)))) ? `new URL(${quote}${path}.ts${quote}${rest}` : whole,
      );
      return changed === code ? null : { code: changed, map: null };
    },
  };
}

export default defineConfig({
  root: 'web',
  base: '/',
  publicDir: false,
  plugins: [sourceWorkerUrls(), leaveOrtWasmAlone()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: { index: page('index.html'), output: page('output.html') },
    },
  },
  worker: {
    format: 'es',
    plugins: () => [leaveOrtWasmAlone()],
  },
});

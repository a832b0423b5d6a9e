/**
 * ESLint for the TypeScript in src/, test/, bench/, tools/ and web/: typescript-eslint's type-aware
 * rules (promises that nobody awaits or catches are errors) and import-x's cycle check. Layout is
 * Prettier's job (.prettierrc), so no stylistic rule is on here. Each file is typed by the first of the
 * tsconfig projects that includes it: the Node one, the browser one (src/browser and web/), the
 * browser e2e one, and the one for unit tests of the browser code (test/browser).
 */

import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const PROJECTS = ['./tsconfig.json', './web/tsconfig.json', './test/e2e/tsconfig.json', './test/browser/tsconfig.json'];

export default defineConfig(
  {
    ignores: [
      'dist/**',
      'dist-check/**',
      'node_modules/**',
      'coverage/**',
      'out/**',
      '.dev/**',
      '.scratch/**',
      '.liveswap/**',
      'liveswap-demo/**',
      'bench/results/**',
      'test/fixtures/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { project: PROJECTS, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    settings: {
      // Imports name the emitted .js; the resolver finds the .ts, and import-x parses it as TypeScript to follow its imports.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: PROJECTS, noWarnOnMultipleProjects: true })],
    },
    rules: {
      // node:test's describe/it/test return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // test/architecture.test.ts checks circles between src/ files too; this one also covers test/, bench/ and web/.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // Messages print boxes and point lists as `${[x, y]}` on purpose.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowArray: true }],
      // `value!` on indexed reads in hot loops keeps files ready for noUncheckedIndexedAccess (STYLE.md); while tsconfig has it
      // off, this rule calls each such `!` unnecessary (about 400 hits), so it stays off until that setting is turned on.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    // Test fakes implement async interfaces with plain bodies.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // The worker and the page run in the browser.
    files: ['src/browser/**/*.ts', 'web/**/*.ts', 'test/browser/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Config files outside the tsconfig projects: checked without type information.
    files: ['*.js', '*.mjs', 'vite.config.ts'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { parserOptions: { project: null, projectService: false }, globals: { ...globals.node } },
  },
);

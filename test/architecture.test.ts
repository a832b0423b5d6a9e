/**
 * The platform-free layers (core, face, swap, compose, models, pipeline) must run unchanged in Node
 * and in the browser: no Node built-ins, no sharp, ffmpeg or onnxruntime-node, no DOM globals, and
 * no reaching into src/node, src/browser, src/cli or src/server. Parsed with the TypeScript
 * compiler, so comments and strings never count and property names are told apart from globals.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const PLATFORM_FREE = ['core', 'face', 'swap', 'compose', 'models', 'pipeline', 'eval'];
const PLATFORM_LAYERS = ['node', 'browser', 'cli', 'server'];

const DOM_GLOBALS = ['document', 'window', 'navigator', 'location', 'localStorage', 'fetch', 'HTMLCanvasElement', 'HTMLImageElement', 'HTMLVideoElement', 'OffscreenCanvas', 'ImageData', 'ImageBitmap', 'createImageBitmap'];
const NODE_GLOBALS = ['process', 'Buffer', '__dirname', '__filename'];
const BANNED_GLOBALS = new Set([...DOM_GLOBALS, ...NODE_GLOBALS]);
const NODE_BUILTINS = new Set(builtinModules);

interface Violation {
  line: number;
  what: string;
}

function bannedModule(spec: string, file: string): string | undefined {
  if (spec.startsWith('.')) {
    const target = relative(SRC, resolve(dirname(file), spec)).split(sep)[0];
    return target !== undefined && PLATFORM_LAYERS.includes(target) ? `imports the platform layer src/${target} ('${spec}')` : undefined;
  }
  if (spec.startsWith('node:') || NODE_BUILTINS.has(spec) || NODE_BUILTINS.has(spec.split('/')[0]!)) return `imports the Node built-in '${spec}'`;
  if (spec === 'sharp' || spec.startsWith('sharp/')) return `imports sharp ('${spec}')`;
  if (/ffmpeg/i.test(spec)) return `imports ffmpeg ('${spec}')`;
  if (spec === 'onnxruntime-node' || spec.startsWith('onnxruntime-node/')) return `imports onnxruntime-node ('${spec}')`;
  return undefined;
}

/** The module named by an import/export/require/import() node, if it is a literal. */
function moduleSpecifier(node: ts.Node): string | undefined {
  if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
    return node.moduleSpecifier.text;
  }
  if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
    return node.moduleReference.expression.text;
  }
  if (ts.isCallExpression(node)) {
    const callee = node.expression;
    const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
    const arg = node.arguments[0];
    if ((isRequire || callee.kind === ts.SyntaxKind.ImportKeyword) && arg && ts.isStringLiteralLike(arg)) return arg.text;
  }
  if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
    return node.argument.literal.text;
  }
  return undefined;
}

function declaredNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    const named = node as ts.Node & { name?: ts.Node };
    const isDeclaration =
      ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node) ||
      ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isEnumDeclaration(node) || ts.isImportSpecifier(node) ||
      ts.isImportClause(node) || ts.isNamespaceImport(node) || ts.isBindingElement(node) || ts.isTypeParameterDeclaration(node);
    if (isDeclaration && named.name && ts.isIdentifier(named.name)) names.add(named.name.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

/** A banned name used as a global: not a property name, not declared in this file. */
function globalUse(node: ts.Identifier, declared: Set<string>): boolean {
  if (!BANNED_GLOBALS.has(node.text)) return false;
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) {
    return ts.isIdentifier(parent.expression) && ['globalThis', 'self', 'window'].includes(parent.expression.text);
  }
  if (declared.has(node.text)) return false;
  if (ts.isQualifiedName(parent) && parent.right === node) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertySignature(parent) || ts.isMethodDeclaration(parent) || ts.isMethodSignature(parent)) && parent.name === node) {
    return false;
  }
  if (ts.isImportSpecifier(parent) || ts.isExportSpecifier(parent)) return false;
  return true;
}

/** Every platform dependency in one TypeScript source text. */
function findViolations(text: string, file: string): Violation[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const declared = declaredNames(source);
  const found: Violation[] = [];
  const at = (node: ts.Node): number => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const visit = (node: ts.Node): void => {
    const spec = moduleSpecifier(node);
    const problem = spec === undefined ? undefined : bannedModule(spec, file);
    if (problem) found.push({ line: at(node), what: problem });
    if (ts.isIdentifier(node) && globalUse(node, declared)) found.push({ line: at(node), what: `uses the platform global '${node.text}'` });
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function tsFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return []; // a layer that does not exist yet
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('architecture', () => {
  it('keeps core, face, swap, compose, models and pipeline free of platform code', () => {
    const files = PLATFORM_FREE.flatMap((layer) => tsFiles(join(SRC, layer)));
    assert.ok(files.length > 0, 'found the platform-free sources');
    const problems = files.flatMap((file) =>
      findViolations(readFileSync(file, 'utf8'), file).map((v) => `src/${relative(SRC, file)}:${v.line} ${v.what}`),
    );
    assert.deepEqual(problems, [], `platform code in platform-free layers:\n${problems.join('\n')}`);
  });

  it('catches a planted bad snippet and ignores comments, strings and property names', () => {
    const planted = [
      "// import fs from 'fs'; document.body",
      '/* const w = window.innerWidth; */',
      "import { readFile } from 'node:fs/promises';",
      "import path from 'path';",
      "import sharp from 'sharp';",
      "export { InferenceSession } from 'onnxruntime-node';",
      "const ffmpeg = await import('@ffmpeg-installer/ffmpeg');",
      "const cp = require('child_process');",
      "type Cpu = import('os').CpuInfo;",
      "import { builtinModel } from '../node/model-cache.js';",
      'const canvas = new OffscreenCanvas(1, 1);',
      'const body = document.body;',
      'const w = globalThis.window;',
      "const response = await fetch('model.onnx');",
      'const pixels: ImageData | undefined = undefined;',
      'const env = process.env.HOME;',
      "const words = 'document window fetch process';",
      'const options = { window: 3, navigator: 1 }; options.window = 4;',
      'function slide(window: number): number { return window * 2; }',
      "import { cropImage } from '../core/image.js';",
    ].join('\n');
    const found = findViolations(planted, join(SRC, 'core', 'planted.ts'));
    assert.deepEqual(
      found.map((v) => v.line),
      [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
      found.map((v) => `${v.line} ${v.what}`).join('\n'),
    );
    assert.match(found.find((v) => v.line === 10)!.what, /src\/node/);
    assert.deepEqual(findViolations("import { clampRect } from './image.js';\nconst x = clampRect;", join(SRC, 'core', 'ok.ts')), []);
  });
});

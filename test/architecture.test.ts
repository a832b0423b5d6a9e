/**
 * The layout of docs/architecture.md, enforced. The platform-free layers (core, models, provenance,
 * face, compose, swap, eval, pipeline) run unchanged in Node and in the browser: no Node built-ins,
 * no sharp, ffmpeg or onnxruntime-node, no DOM globals, no reaching into the platform layers. Every
 * relative import stays in its folder or points to a lower rung of the layer order (and, inside
 * src/node, of the wing order), and no import circle exists. Parsed with the TypeScript compiler,
 * so comments and strings never count and property names are told apart from globals.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const PLATFORM_FREE = ['core', 'models', 'provenance', 'face', 'compose', 'swap', 'eval', 'pipeline'];

/** The layer order: a folder may import its own files and folders on lower rungs only. */
const LAYER_RUNGS: readonly (readonly string[])[] = [
  ['core'],
  ['models', 'provenance'],
  ['face'],
  ['compose'],
  ['swap'],
  ['eval'],
  ['pipeline'],
  ['node', 'browser', 'client'],
  ['server', 'cli'],
  ['index.ts'],
];
/** The same inside src/node, for its wings. */
const NODE_WING_RUNGS: readonly (readonly string[])[] = [['files'], ['media', 'models'], ['provenance'], ['jobs'], ['eval', 'service', 'live']];
/** Imports across one rung that the map allows: the CLI starts the server. */
const SAME_RUNG_ALLOWED = new Set(['cli -> server']);
const PLATFORM_LAYERS = ['node', 'browser', 'client', 'cli', 'server'];

const DOM_GLOBALS = [
  'document',
  'window',
  'navigator',
  'location',
  'localStorage',
  'fetch',
  'HTMLCanvasElement',
  'HTMLImageElement',
  'HTMLVideoElement',
  'OffscreenCanvas',
  'ImageData',
  'ImageBitmap',
  'createImageBitmap',
];
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
      ts.isVariableDeclaration(node) ||
      ts.isParameter(node) ||
      ts.isFunctionDeclaration(node) ||
      ts.isClassDeclaration(node) ||
      ts.isInterfaceDeclaration(node) ||
      ts.isTypeAliasDeclaration(node) ||
      ts.isEnumDeclaration(node) ||
      ts.isImportSpecifier(node) ||
      ts.isImportClause(node) ||
      ts.isNamespaceImport(node) ||
      ts.isBindingElement(node) ||
      ts.isTypeParameterDeclaration(node);
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
  if (
    (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertySignature(parent) || ts.isMethodDeclaration(parent) || ts.isMethodSignature(parent)) &&
    parent.name === node
  ) {
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

function rungOf(rungs: readonly (readonly string[])[], folder: string): number {
  return rungs.findIndex((rung) => rung.includes(folder));
}

/** Why an import from `file` to `target` (both absolute .ts paths under src/) breaks the order, if it does. */
function layerViolation(file: string, target: string): string | undefined {
  const [from, ...fromRest] = relative(SRC, file).split(sep);
  const [to, ...toRest] = relative(SRC, target).split(sep);
  if (from === undefined || to === undefined) return undefined;
  if (to.startsWith('..')) return `reaches outside src/ ('${relative(SRC, target)}')`;
  const check = (rungs: readonly (readonly string[])[], a: string, b: string, where: string): string | undefined => {
    if (a === b) return undefined;
    const ra = rungOf(rungs, a);
    const rb = rungOf(rungs, b);
    if (ra < 0 || rb < 0) return `${where}${ra < 0 ? a : b} is not in the layer order of docs/architecture.md`;
    if (rb < ra || SAME_RUNG_ALLOWED.has(`${a} -> ${b}`)) return undefined;
    return rb === ra ? `${where}${a} imports ${b}, a folder on the same rung` : `${where}${a} imports ${b}, a higher layer`;
  };
  const problem = check(LAYER_RUNGS, from, to, '');
  if (problem || from !== 'node' || to !== 'node') return problem;
  const [wingFrom] = fromRest;
  const [wingTo] = toRest;
  if (wingFrom === undefined || wingTo === undefined || fromRest.length < 2 || toRest.length < 2) {
    return 'src/node holds its files in wings: node/<wing>/<file>.ts';
  }
  return check(NODE_WING_RUNGS, wingFrom, wingTo, 'node/');
}

/** The .ts file a relative module specifier names (imports are written with .js). */
function resolveImport(file: string, spec: string): string {
  return resolve(dirname(file), spec).replace(/\.js$/, '.ts');
}

/** Relative imports of one source text, with their lines. */
function relativeImports(text: string, file: string): { line: number; spec: string }[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: { line: number; spec: string }[] = [];
  const visit = (node: ts.Node): void => {
    const spec = moduleSpecifier(node);
    if (spec?.startsWith('.')) found.push({ line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, spec });
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every import circle in a graph (Tarjan's strongly connected components), each as a path of its files. */
function importCircles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) circles.push(component.reverse());
  };
  for (const node of graph.keys()) if (!index.has(node)) connect(node);
  return circles;
}

function importGraph(files: readonly string[], read: (file: string) => string): Map<string, string[]> {
  return new Map(files.map((file) => [file, relativeImports(read(file), file).map((i) => resolveImport(file, i.spec))]));
}

describe('architecture', () => {
  it('keeps core, models, provenance, face, compose, swap, eval and pipeline free of platform code', () => {
    const files = PLATFORM_FREE.flatMap((layer) => tsFiles(join(SRC, layer)));
    assert.ok(files.length > 0, 'found the platform-free sources');
    const problems = files.flatMap((file) => findViolations(readFileSync(file, 'utf8'), file).map((v) => `src/${relative(SRC, file)}:${v.line} ${v.what}`));
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
  it('keeps every relative import in its folder or on a lower rung of the layer order', () => {
    const files = tsFiles(SRC);
    const problems = files.flatMap((file) =>
      relativeImports(readFileSync(file, 'utf8'), file).flatMap(({ line, spec }) => {
        const problem = layerViolation(file, resolveImport(file, spec));
        return problem ? [`src/${relative(SRC, file)}:${line} ${problem} ('${spec}')`] : [];
      }),
    );
    assert.deepEqual(problems, [], `imports against the layer order:\n${problems.join('\n')}`);
  });

  it('catches a planted upward import, a same-rung import and a flat src/node file', () => {
    const at = (path: string): string => join(SRC, ...path.split('/'));
    assert.match(layerViolation(at('compose/paste.ts'), at('swap/engine.ts')) ?? '', /compose imports swap, a higher layer/);
    assert.match(layerViolation(at('server/ui-server.ts'), at('cli/main.ts')) ?? '', /server imports cli, a folder on the same rung/);
    assert.match(layerViolation(at('node/files/output.ts'), at('node/jobs/swapper.ts')) ?? '', /node\/files imports jobs, a higher layer/);
    assert.match(layerViolation(at('node/media/ffmpeg-read.ts'), at('node/models/model-store.ts')) ?? '', /same rung/);
    assert.match(layerViolation(at('node/provenance/verify.ts'), at('node/jobs/swapper.ts')) ?? '', /higher layer/);
    assert.match(layerViolation(at('node/jobs/swapper.ts'), at('node/flat.ts')) ?? '', /wings/);
    assert.match(layerViolation(at('face/align.ts'), at('nowhere/x.ts')) ?? '', /not in the layer order/);
    assert.equal(layerViolation(at('swap/mesh-engine.ts'), at('compose/patch.ts')), undefined);
    assert.equal(layerViolation(at('cli/main.ts'), at('server/ui-server.ts')), undefined);
    assert.equal(layerViolation(at('node/eval/eval-runner.ts'), at('node/jobs/swapper.ts')), undefined);
    assert.equal(layerViolation(at('pipeline/still.ts'), at('pipeline/video.ts')), undefined);
  });

  it('has no import circle', () => {
    const files = tsFiles(SRC);
    const circles = importCircles(importGraph(files, (file) => readFileSync(file, 'utf8')));
    const named = circles.map((c) => c.map((file) => relative(SRC, file)).join(' → '));
    assert.deepEqual(named, [], `import circles:\n${named.join('\n')}`);
  });

  it('catches a planted circle, long or short, and passes a tree', () => {
    const texts = new Map([
      ['/s/a.ts', "import { b } from './b.js';"],
      ['/s/b.ts', "import type { C } from './c.js';"],
      ['/s/c.ts', "export { a } from './a.js';\nimport { d } from './d.js';"],
      ['/s/d.ts', "const e = await import('./e.js');"],
      ['/s/e.ts', "import { e } from './e.js';"],
      ['/s/f.ts', "import { d } from './d.js';"],
    ]);
    const circles = importCircles(importGraph([...texts.keys()], (file) => texts.get(file)!));
    assert.deepEqual(circles, [['/s/e.ts'], ['/s/a.ts', '/s/b.ts', '/s/c.ts']]);
    texts.set('/s/c.ts', "import { d } from './d.js';");
    texts.set('/s/e.ts', 'export const e = 1;');
    assert.deepEqual(importCircles(importGraph([...texts.keys()], (file) => texts.get(file)!)), []);
  });
});

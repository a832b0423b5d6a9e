/**
 * The Dockerfile and compose.yaml, checked statically: no container engine runs where liveswap is
 * developed and tested, so the image is never built or started here. What is checked: compose.yaml
 * passes `docker-compose config -q` (Debian's 1.29.2, an offline schema check) and refuses to start
 * without a Redis password; the Dockerfile keeps the install steps the build depends on; every
 * COPY'd file exists and is not left out by .dockerignore; every ENTRYPOINT, CMD and compose
 * `command` names a real `liveswap` command with real flags (read from the CLI's own commander
 * program); every package the CLI loads survives `npm prune --omit=dev`; and the HEALTHCHECK's
 * script, pointed at a live API server, succeeds on its health route.
 */

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
// A dependency of @fastify/swagger, so always installed; only this test reads YAML.
import { parse as parseYaml } from 'yaml';
import ts from 'typescript';
import { createProgram } from '../../src/cli/program.js';
import { REDIS_URL_VARIABLE } from '../../src/node/service/redis.js';
import { createApiServer } from '../../src/server/api/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const DOCKERIGNORE = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
const COMPOSE_TEXT = readFileSync(join(ROOT, 'compose.yaml'), 'utf8');

/** One Dockerfile instruction, continuation lines joined. */
interface Instruction {
  keyword: string;
  args: string;
  /** The stage it belongs to (the FROM's `AS` name). */
  stage: string;
}

function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = '';
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) continue;
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(pending) ?? [];
    if (keyword.toUpperCase() === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? '';
    instructions.push({ keyword: keyword.toUpperCase(), args, stage });
    pending = '';
  }
  return instructions;
}

const INSTRUCTIONS = parseDockerfile(DOCKERFILE);
const of = (keyword: string, stage?: string): Instruction[] => INSTRUCTIONS.filter((i) => i.keyword === keyword && (stage === undefined || i.stage === stage));
const jsonArgs = (instruction: Instruction | undefined): string[] => JSON.parse(instruction?.args ?? 'null') as string[];

/** Whether .dockerignore leaves a repository path out of the build context (last matching pattern wins, as Docker's). */
function ignoredByDocker(path: string): boolean {
  const patterns = DOCKERIGNORE.split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const body = (negated ? pattern.slice(1) : pattern).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(
      `^${body
        .split(/(\*\*\/|\*\*|\*)/)
        .map((piece) => (piece === '**/' ? '(?:.*/)?' : piece === '**' ? '.*' : piece === '*' ? '[^/]*' : piece.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
        .join('')}$`,
    );
    // A pattern matches the path or a folder above it; a negation re-includes that path and what is under it.
    if (negated ? prefixes.some((p) => regex.test(p)) : prefixes.some((p) => regex.test(p))) ignored = !negated;
  }
  return ignored;
}

/** The `liveswap` subcommand named by argv[0]; checks each flag is one of its options (and takes its value). */
function checkLiveswapArgs(argv: readonly string[], where: string): Command {
  const program = createProgram({ out: () => undefined, err: () => undefined });
  const [name, ...rest] = argv;
  const command = program.commands.find((c) => c.name() === name || c.aliases().includes(name ?? ''));
  assert.ok(command, `${where}: "${name}" is not a liveswap command (have ${program.commands.map((c) => c.name()).join(', ')})`);
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    assert.ok(flag.startsWith('-'), `${where}: "${flag}" is not a flag of liveswap ${name} (it takes no positional arguments here)`);
    const option = command.options.find((o) => o.long === flag || o.short === flag);
    assert.ok(option, `${where}: liveswap ${name} has no option ${flag} (has ${command.options.map((o) => o.long).join(', ')})`);
    if (option.required || option.optional) {
      const value = rest[i + 1];
      assert.ok(value !== undefined && !value.startsWith('-'), `${where}: ${flag} needs a value`);
      i++;
    }
  }
  return command;
}

function dockerCompose(args: string[], env: Record<string, string | undefined>): { status: number | null; output: string } | undefined {
  const run = spawnSync('docker-compose', args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Why the compose check cannot run here; under CI a missing docker-compose is a failure, since .ci/run installs it. */
function composeUnavailable(): string | undefined {
  if (dockerCompose(['version'], {}) !== undefined) return undefined;
  const why = 'docker-compose is not installed (apt-get install docker-compose)';
  if (process.env.CI === 'true') throw new Error(`${why}; .ci/run should have installed it`);
  return why;
}

describe('Dockerfile', () => {
  it('builds on a configurable Node 20 image in two stages', () => {
    assert.match(DOCKERFILE, /^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    const froms = of('FROM');
    assert.deepEqual(
      froms.map((f) => f.args),
      ['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS runtime'],
    );
  });

  it('installs without scripts, then makes the bundled ffmpeg executable (the two lines the build depends on)', () => {
    const runs = of('RUN', 'build').map((r) => r.args);
    const install = runs.findIndex((r) => /^npm ci --ignore-scripts\b/.test(r));
    const chmod = runs.indexOf('chmod u+x node_modules/@ffmpeg-installer/linux-x64/ffmpeg');
    const build = runs.findIndex((r) => /\bnpm run build\b/.test(r));
    assert.ok(install >= 0, 'RUN npm ci --ignore-scripts');
    assert.ok(chmod > install, 'RUN chmod u+x node_modules/@ffmpeg-installer/linux-x64/ffmpeg, after the install');
    assert.ok(build > chmod && /npm prune --omit=dev/.test(runs[build]!), 'npm run build, then npm prune --omit=dev');
    if (process.platform === 'linux' && process.arch === 'x64') {
      assert.ok(existsSync(join(ROOT, 'node_modules/@ffmpeg-installer/linux-x64/ffmpeg')), 'the ffmpeg the chmod names is where the package installs it');
    }
    // The install step needs the lock file and the .npmrc that keeps onnxruntime-node from downloading.
    const firstCopy = of('COPY', 'build')[0]!;
    for (const name of ['package.json', 'package-lock.json', '.npmrc']) assert.ok(firstCopy.args.split(/\s+/).includes(name), `the first COPY takes ${name}`);
  });

  it('copies only files that exist and that .dockerignore keeps', () => {
    // Made inside the image by `npm ci` and `npm run build`.
    const built = new Set(['node_modules', 'dist']);
    for (const copy of of('COPY')) {
      const words = copy.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const sources = words.slice(0, -1);
      const from = /--from=(\S+)/.exec(copy.args)?.[1];
      for (const source of sources) {
        const path = from ? source.replace(/^\/app\//, '') : source;
        if (path === '.' || (from && built.has(path.split('/')[0]!))) continue;
        assert.ok(existsSync(join(ROOT, path)), `COPY ${copy.args}: ${path} is not in the repository`);
        assert.ok(!ignoredByDocker(path), `COPY ${copy.args}: .dockerignore leaves ${path} out`);
      }
    }
    for (const name of ['node_modules', 'dist', '.git', '.scratch', '.dev']) assert.ok(ignoredByDocker(name), `.dockerignore leaves out ${name}`);
    assert.ok(ignoredByDocker('test/video.mp4') && ignoredByDocker('test/core/image.test.ts'), 'test media and tests stay out');
    assert.ok(!ignoredByDocker('src/cli/main.ts') && !ignoredByDocker('web/index.html') && !ignoredByDocker('test/fixtures/faces/grace_hopper.jpg'));
  });

  it('runs as node with LIVESWAP_HOME on a volume, port 8080, under tini', () => {
    const runtime = (k: string): Instruction[] => of(k, 'runtime');
    assert.match(
      runtime('RUN')
        .map((r) => r.args)
        .join('\n'),
      /apt-get install .*\btini\b.*\bca-certificates\b/,
    );
    assert.deepEqual(
      runtime('USER').map((u) => u.args),
      ['node'],
    );
    const env = runtime('ENV')
      .map((e) => e.args)
      .join(' ');
    assert.match(env, /\bLIVESWAP_HOME=\/data\b/);
    assert.match(env, /\bNODE_ENV=production\b/);
    assert.deepEqual(
      runtime('VOLUME').map((v) => v.args),
      ['/data'],
    );
    assert.deepEqual(
      runtime('EXPOSE').map((e) => e.args),
      ['8080'],
    );
  });

  it('starts dist/cli/main.js, the built liveswap bin, with a real command and flags', () => {
    assert.deepEqual(jsonArgs(of('ENTRYPOINT').at(-1)), ['tini', '--', 'node', 'dist/cli/main.js']);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    assert.equal(manifest.bin.liveswap, 'dist/cli/main.js');
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
    assert.deepEqual([build.compilerOptions.rootDir, build.compilerOptions.outDir], ['src', 'dist'], 'src/cli/main.ts is built to dist/cli/main.js');
    assert.ok(existsSync(join(ROOT, 'src/cli/main.ts')));
    const cmd = jsonArgs(of('CMD').at(-1));
    assert.deepEqual(cmd, ['serve', '--host', '0.0.0.0', '--port', '8080']);
    checkLiveswapArgs(cmd, 'Dockerfile CMD');
  });
});

/** Packages the compiled CLI loads at run time (type-only imports are erased), from src/cli/main.ts through its relative imports. */
function runtimePackages(start: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const take = (specifier: string): void => {
      if (specifier.startsWith('.')) visit(join(file, '..', specifier.replace(/\.js$/, '.ts')));
      else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier.split('/')[0]!)) {
        packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
      }
    };
    const walk = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier)) {
        const named = node.importClause?.namedBindings;
        const onlyTypes = !node.importClause?.name && named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
        if (!onlyTypes) take(node.moduleSpecifier.text);
      } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        take(node.moduleSpecifier.text);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
        take(node.arguments[0].text);
      }
      ts.forEachChild(node, walk);
    };
    walk(source);
  };
  visit(start);
  return packages;
}

describe('the pruned image', () => {
  it('has every package the CLI loads at run time: npm prune --omit=dev keeps them all', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const needed = [...runtimePackages(join(ROOT, 'src/cli/main.ts'))].sort();
    assert.ok(needed.includes('fastify') && needed.includes('commander'), `the walk reaches the server and the CLI (${needed.join(', ')})`);
    const missing = needed.filter((name) => !(name in manifest.dependencies));
    assert.deepEqual(missing, [], `loaded at run time but not a production dependency (gone after npm prune --omit=dev): ${missing.join(', ')}`);
  });
});

describe('the HEALTHCHECK against a live API server', () => {
  let home: string;
  let server: Awaited<ReturnType<typeof createApiServer>>;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'liveswap-docker-health-'));
    server = await createApiServer({ home, host: '127.0.0.1', port: 0, workers: 1, logger: false });
  });
  after(async () => {
    await server?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('asks /v1/health on 127.0.0.1:8080 with node -e, and that script exits 0 against the server', async () => {
    const healthcheck = of('HEALTHCHECK', 'runtime')[0];
    assert.ok(healthcheck, 'the runtime stage has a HEALTHCHECK');
    const argv = JSON.parse(/\bCMD\s+(\[.*\])$/.exec(healthcheck.args)?.[1] ?? 'null') as string[];
    assert.deepEqual(argv.slice(0, 2), ['node', '-e']);
    const script = argv[2]!;
    assert.match(script, /http:\/\/127\.0\.0\.1:8080\/v1\/health/);
    const url = new URL('/v1/health', server.url).href;
    // Run asynchronously: the server answers from this process's event loop.
    const run = (target: string) => promisify(execFile)(process.execPath, ['-e', script.replace('http://127.0.0.1:8080/v1/health', target)], { timeout: 15_000 });
    await run(url).catch((error: Error & { stderr?: string }) => assert.fail(`the health check failed against ${url}: ${error.stderr ?? error.message}`));
    // And it fails when the route answers an error.
    await assert.rejects(run(new URL('/v1/no-such-route', server.url).href), (error: { code?: number }) => error.code === 1);
  });
});

describe('compose.yaml', () => {
  const unavailable = composeUnavailable();

  it('passes docker-compose config -q, and refuses to run without a Redis password', { skip: unavailable ?? false }, () => {
    const ok = dockerCompose(['-f', 'compose.yaml', 'config', '-q'], { REDIS_PASSWORD: 'compose0check0password' })!;
    assert.equal(ok.status, 0, ok.output);
    const none = dockerCompose(['-f', 'compose.yaml', 'config', '-q'], { REDIS_PASSWORD: undefined })!;
    assert.notEqual(none.status, 0, 'compose.yaml must not fall back to a default password');
    assert.match(none.output, /REDIS_PASSWORD/);
  });

  interface Service {
    image?: string;
    build?: string;
    command?: string[];
    environment?: Record<string, string>;
    ports?: string[];
    volumes?: string[];
    depends_on?: Record<string, { condition: string }>;
    healthcheck?: { test?: string[]; disable?: boolean };
    deploy?: { replicas?: number };
  }
  const compose = parseYaml(COMPOSE_TEXT) as { services: Record<string, Service>; volumes: Record<string, unknown> };

  it('runs Redis 7 persistent, without eviction, with a password, and checks its health with it', () => {
    const redis = compose.services.redis!;
    assert.equal(redis.image, 'redis:7');
    const command = (redis.command ?? []).join(' ');
    for (const part of ['--appendonly yes', '--maxmemory-policy noeviction', '--requirepass']) assert.ok(command.includes(part), `redis command has ${part}`);
    const check = (redis.healthcheck?.test ?? []).join(' ');
    assert.match(check, /redis-cli .*-a .*\bping\b/);
  });

  it('runs the API on 127.0.0.1:8080 and two workers, with real liveswap commands, on the shared volume, after Redis is healthy', () => {
    const { api, worker } = compose.services;
    assert.ok(api && worker);
    for (const [name, service] of Object.entries({ api, worker })) {
      assert.equal(service.build, '.', `${name} is built from the Dockerfile`);
      assert.ok(service.command, `${name} names its command`);
      checkLiveswapArgs(service.command, `compose ${name}`);
      assert.deepEqual(service.depends_on, { redis: { condition: 'service_healthy' } }, name);
      assert.ok(service.volumes?.includes('liveswap-data:/data'), `${name} mounts liveswap-data on LIVESWAP_HOME (/data)`);
      assert.match(service.environment?.[REDIS_URL_VARIABLE] ?? '', /^redis:\/\/:\$\{REDIS_PASSWORD\}@redis:6379$/, `${name} reaches Redis through ${REDIS_URL_VARIABLE}`);
    }
    assert.equal(api.command![0], 'serve');
    assert.deepEqual(api.ports, ['127.0.0.1:8080:8080']);
    assert.equal(worker.command![0], 'worker');
    assert.equal(worker.deploy?.replicas, 2);
    assert.equal(worker.ports, undefined);
    assert.equal(worker.healthcheck?.disable, true, "a worker opens no port, so the image's API health check is off for it");
    assert.ok('liveswap-data' in compose.volumes);
  });
});

/**
 * The server behind `liveswap ui`: the built browser app, the models it runs (built-in and, when
 * installed, inswapper and FaceFusion's swappers, enhancers, occluders and parsers, with the
 * command that installs each one missing), onnxruntime-web's wasm files, `/api/info`, the provenance routes that
 * feed the audit log, the WebSocket relay that feeds the output page to OBS, and server-side
 * processing for a page that chose it (ui-live.ts). Every answer is cross-origin isolated (wasm
 * threads need it).
 */

import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import fastifyWebsocket from '@fastify/websocket';
import fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ownPackageRoot, ownVersion } from '../node/files/package-info.js';
import { LiveswapError } from '../core/errors.js';
import type { ServerInfo } from '../pipeline/live-options.js';
import { defaultHome } from '../node/models/model-cache.js';
import { ModelStore } from '../node/models/model-store.js';
import { packageRoot } from '../node/files/package-root.js';
import { loadWatermarkKey } from '../node/provenance/output-provenance.js';
import { checkLabelText, DEFAULT_LABEL_TEXT } from '../provenance/label.js';
import { DEFAULT_UI_HOST, DEFAULT_UI_PORT } from './defaults.js';
import { IMMUTABLE, REVALIDATE, resolveInside, sendFile } from './http-files.js';
import { BUILTIN_PREFIX, INSWAPPER_PREFIX, ModelFiles, STORE_PREFIX } from './model-files.js';
import { hostHeaderOf, hostPolicy, type HostPolicy } from './origin.js';
import { addProvenanceRoutes } from './provenance-routes.js';
import { FrameRelay, MAX_FRAME_BYTES } from './relay.js';
import { addUiLiveRoutes } from './ui-live.js';

export const RELAY_PATHS = { publish: '/api/relay/publish', watch: '/api/relay/watch' } as const;
const ORT_PATH = '/ort/';
const ORT_FILE = /^ort[\w.-]*\.(wasm|mjs)$/;

export interface UiServerOptions {
  /** Model cache root (default: LIVESWAP_HOME or the user's cache folder). */
  home?: string;
  /** Address to listen on (default 127.0.0.1). Anything but loopback exposes the app to the network. */
  host?: string;
  /** Port (default 7860); 0 takes any free port. */
  port?: number;
  /** The built browser app (default: dist/web in the liveswap package). */
  webRoot?: string;
  /** The downloadable models (default: the store in `home`). */
  store?: ModelStore;
  /** Reported by /api/info (default: liveswap's package.json). */
  version?: string;
  /** The user's own watermark key file (default: the key under `home`, made on first start). */
  watermarkKeyFile?: string;
  /** The label text the page starts with (default "AI-generated"); checked with checkLabelText. */
  labelText?: string;
}

export interface UiServer {
  /** The app's page, e.g. http://127.0.0.1:7860/ */
  url: string;
  /** The output page for OBS's browser source, e.g. http://127.0.0.1:7860/output */
  outputUrl: string;
  /** The watermark key in use: its file, and whether this start made it. */
  watermarkKey: { path: string; created: boolean };
  info(): Promise<ServerInfo>;
  close(): Promise<void>;
}

export function defaultWebRoot(): string {
  return join(ownPackageRoot(), 'dist', 'web');
}

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

export async function createUiServer(options: UiServerOptions = {}): Promise<UiServer> {
  const webRoot = resolve(options.webRoot ?? defaultWebRoot());
  const index = join(webRoot, 'index.html');
  if (!existsSync(index)) {
    throw new LiveswapError('usage', `The web app is not built: ${index} is missing. Run \`npm run build\` in the liveswap folder, then \`liveswap ui\` again.`, { file: index });
  }
  const home = options.home ?? defaultHome();
  const store = options.store ?? new ModelStore({ home });
  const host = options.host ?? DEFAULT_UI_HOST;
  const version = options.version ?? ownVersion();
  const labelText = checkLabelText(options.labelText ?? DEFAULT_LABEL_TEXT);
  const key = await loadWatermarkKey(home, options.watermarkKeyFile);
  // The key goes to the page so its worker can watermark frames. That is safe as served here: the
  // server answers loopback names only (Host check), state-changing requests and WebSockets only
  // from its own pages (Origin check), and the key is the user's own. Bound beyond loopback
  // (--host), anyone who reaches the port could read it; `liveswap ui` warns about that.
  const watermarkKey = Buffer.from(key.key).toString('hex');
  const ortDir = join(packageRoot('onnxruntime-web'), 'dist');
  const models = await ModelFiles.load(home, store);
  const relay = new FrameRelay();

  const info = async (): Promise<ServerInfo> => {
    const [inswapper, stored] = await Promise.all([models.inswapper(), models.storeState()]);
    return {
      version,
      engines: { mesh: true, inswapper: inswapper.urls !== undefined },
      ...(inswapper.notice ? { inswapperNotice: inswapper.notice } : {}),
      models: { ...models.builtinUrls, ...(inswapper.urls ? { inswapper: inswapper.urls } : {}), files: stored.files },
      choices: stored.choices,
      ortWasmPath: ORT_PATH,
      relay: { ...RELAY_PATHS },
      provenance: { watermarkKey, labelText },
    };
  };

  const app = fastify({
    logger: false,
    forceCloseConnections: true,
    // A malformed URL or header is answered before any hook runs, so its headers are set here.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      reply
        .code(error.statusCode ?? 400)
        .headers(SECURITY_HEADERS)
        .send({ error: error.message });
    },
  });
  // Known once listening (port 0 picks one); no request arrives before, and the guards refuse any while it is unset.
  const guard: { policy?: HostPolicy } = {};
  await app.register(fastifyWebsocket, {
    options: { maxPayload: MAX_FRAME_BYTES },
    preClose(done) {
      relay.closeAll();
      this.websocketServer.close();
      done();
    },
  });
  addGuards(app, () => guard.policy);
  addRoutes(app, { webRoot, ortDir, models, relay, info });
  const allotted = addProvenanceRoutes(app, { home, labelText });
  // Server-side processing for the page ("process on: the server"), marked with the page's session's asset id.
  const serverLive = addUiLiveRoutes(app, { home, key, labelText, allotted, inswapper: async () => (await models.inswapper()).urls !== undefined });

  try {
    await app.listen({ host, port: options.port ?? DEFAULT_UI_PORT });
  } catch (error) {
    await app.close().catch(() => undefined);
    throw listenError(error, host, options.port ?? DEFAULT_UI_PORT);
  }
  const port = (app.server.address() as AddressInfo).port;
  guard.policy = hostPolicy(host, port);
  const url = `http://${hostHeaderOf(browsableHost(host), port)}/`;
  return {
    url,
    outputUrl: `${url}output`,
    watermarkKey: { path: key.path, created: key.created },
    info,
    close: async () => {
      relay.closeAll();
      await serverLive.close();
      await app.close();
    },
  };
}

/** Host checks, the Origin check of WebSockets and of requests that change state, and the headers every answer carries. */
function addGuards(app: FastifyInstance, policy: () => HostPolicy | undefined): void {
  app.addHook('onRequest', async (request, reply) => {
    const current = policy();
    const hostHeader = request.headers.host;
    if (!current?.hostAllowed(hostHeader)) {
      return reply.code(403).send({ error: `Requests must name this server by a loopback address, not ${JSON.stringify(hostHeader ?? '')}.` });
    }
    if (request.ws && !current.originAllowed(request.headers.origin, hostHeader)) {
      return reply.code(403).send({ error: "WebSocket connections are accepted from this server's own pages only." });
    }
    // A page elsewhere may POST here (a CSRF); browsers name its origin, so it is refused.
    const changesState = request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS';
    if (changesState && !current.originAllowed(request.headers.origin, hostHeader)) {
      return reply.code(403).send({ error: "Requests that change anything are accepted from this server's own pages only." });
    }
    return undefined;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });
  app.setNotFoundHandler(async (request, reply) => reply.code(404).send({ error: `Not found: ${request.method} ${request.url.split('?')[0]}` }));
  app.setErrorHandler(async (error: FastifyError, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    return reply.code(status).send({ error: error.message });
  });
}

interface RouteContext {
  webRoot: string;
  ortDir: string;
  models: ModelFiles;
  relay: FrameRelay;
  info(): Promise<ServerInfo>;
}

function addRoutes(app: FastifyInstance, context: RouteContext): void {
  const { webRoot, ortDir, models, relay } = context;
  const notFound = { error: 'Not found.' };
  app.get('/', (request, reply) => sendFile(request, reply, join(webRoot, 'index.html'), { cacheControl: REVALIDATE }));
  app.get('/output', (request, reply) => sendFile(request, reply, join(webRoot, 'output.html'), { cacheControl: REVALIDATE }));
  app.get('/api/info', async (_request, reply) => reply.header('Cache-Control', 'no-store').send(await context.info()));

  app.get<{ Params: { name: string } }>(`${BUILTIN_PREFIX}:name`, (request, reply) => {
    const path = models.builtinPath(request.params.name);
    if (!path) return reply.code(404).send(notFound);
    // The name holds the content hash, so it is the ETag too.
    return sendFile(request, reply, path, { contentType: 'application/octet-stream', cacheControl: IMMUTABLE, etag: `"${request.params.name}"` });
  });

  app.get<{ Params: { name: string } }>(`${INSWAPPER_PREFIX}:name`, async (request, reply) => {
    const name = request.params.name;
    const path = models.inswapperPath(name);
    if (!path) return reply.code(404).send(notFound);
    return sendFile(request, reply, path, { contentType: 'application/octet-stream', cacheControl: REVALIDATE, ranges: true });
  });

  // FaceFusion's files, as inswapper's: only those the latest resolution found installed and verified.
  app.get<{ Params: { name: string } }>(`${STORE_PREFIX}:name`, async (request, reply) => {
    const path = models.storePath(request.params.name);
    if (!path) return reply.code(404).send(notFound);
    return sendFile(request, reply, path, { contentType: 'application/octet-stream', cacheControl: REVALIDATE, ranges: true });
  });

  app.get<{ Params: { name: string } }>(`${ORT_PATH}:name`, (request, reply) => {
    const name = request.params.name;
    if (!ORT_FILE.test(name)) return reply.code(404).send(notFound);
    const contentType = name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8';
    return sendFile(request, reply, join(ortDir, name), { contentType, cacheControl: REVALIDATE });
  });

  // A plain GET on a relay path is told to upgrade; the upgrade itself goes to the wsHandler.
  const upgradeRequired = async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
    reply.code(426).header('Upgrade', 'websocket').send({ error: 'This is a WebSocket endpoint.' });
  app.route({ method: 'GET', url: RELAY_PATHS.publish, handler: upgradeRequired, wsHandler: (socket) => relay.addPublisher(socket) });
  app.route({ method: 'GET', url: RELAY_PATHS.watch, handler: upgradeRequired, wsHandler: (socket) => relay.addWatcher(socket) });

  // Everything else the build wrote: Vite's hashed /assets/* forever, the rest revalidated.
  app.get('/*', async (request, reply) => {
    const path = await resolveInside(webRoot, request.url);
    if (!path) return reply.code(404).send({ error: `Not found: GET ${request.url.split('?')[0]}` });
    const cacheControl = request.url.startsWith('/assets/') ? IMMUTABLE : REVALIDATE;
    return sendFile(request, reply, path, { cacheControl });
  });
}

/** Where a browser on this machine reaches a server bound to every interface. */
function browsableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new LiveswapError(
      'usage',
      `Port ${port} on ${host} is already in use (is another \`liveswap ui\` running?). Choose another port with --port, e.g. --port ${port === 65535 ? 7861 : port + 1}, or --port 0 for any free one.`,
      { cause: error },
    );
  }
  if (code === 'EACCES') {
    return new LiveswapError('usage', `Not allowed to listen on port ${port}${port < 1024 ? ' (ports below 1024 need special rights)' : ''}. Choose another port with --port.`, {
      cause: error,
    });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new LiveswapError(
      'usage',
      `Cannot listen on ${host}: it is not an address of this machine. Use --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface).`,
      { cause: error },
    );
  }
  return error;
}

/**
 * `liveswap live --output output`: the /output page of the web app (an OBS browser source, a second
 * screen) served by the live run itself, fed with the swapped frames as JPEGs over the same
 * WebSocket relay `liveswap ui` uses. The page shows pictures only (OBS takes the sound from an
 * RTMP output or the input itself). Frames are encoded off the swap's thread (sharp's pool), one at
 * a time: a frame that comes while the previous one is still being encoded is skipped, so the page
 * always gets the freshest picture and nothing queues. Served on loopback only.
 */

import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import sharp from 'sharp';
import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import type { LiveSink, OutputStatus } from '../node/live/live-output.js';
import { IMMUTABLE, REVALIDATE, resolveInside, sendFile } from './http-files.js';
import { hostHeaderOf, hostPolicy, type HostPolicy } from './origin.js';
import { FrameRelay, MAX_FRAME_BYTES } from './relay.js';
import { defaultWebRoot, RELAY_PATHS } from './ui-server.js';

/** The port `--output output` listens on unless `output:PORT` names another (the app's own is 7860). */
export const DEFAULT_OUTPUT_PAGE_PORT = 7861;
/** JPEG quality of the relayed frames: what the web app's relay sends. */
const JPEG_QUALITY = 85;

export interface OutputPageOptions {
  /** 0 takes any free port. */
  port: number;
  /** The built browser app (default: dist/web in the liveswap package). */
  webRoot?: string;
  /** The name the status line shows. */
  name?: string;
}

export interface OutputPage {
  /** The page to add to OBS as a browser source, e.g. http://127.0.0.1:7861/output */
  url: string;
  /** The live run's output: frames in, JPEGs out to every watching page. */
  sink: LiveSink;
  /** Pages watching now. */
  readonly watchers: number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Starts the page's server on loopback; the run's frames go to {@link OutputPage.sink}. */
export async function startOutputPage(options: OutputPageOptions): Promise<OutputPage> {
  const webRoot = resolve(options.webRoot ?? defaultWebRoot());
  const page = join(webRoot, 'output.html');
  if (!existsSync(page)) {
    throw new LiveswapError('usage', `--output output needs the built web app, and ${page} is missing. Run \`npm run build\` in the liveswap folder, then try again.`, {
      file: page,
    });
  }
  const relay = new FrameRelay();
  const server = await loopbackServer({ allow: ['GET', 'HEAD'], maxPayload: MAX_FRAME_BYTES, what: 'the output page' });
  const { app } = server;
  app.get('/output', (request, reply) => sendFile(request, reply, page, { cacheControl: REVALIDATE }));
  app.get('/', (_request, reply) => reply.redirect('/output'));
  app.get('/api/info', async (_request, reply) => reply.header('Cache-Control', 'no-store').send({ relay: { watch: RELAY_PATHS.watch } }));
  const upgradeRequired = async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
    reply.code(426).header('Upgrade', 'websocket').send({ error: 'This is a WebSocket endpoint.' });
  app.route({ method: 'GET', url: RELAY_PATHS.watch, handler: upgradeRequired, wsHandler: (socket) => relay.addWatcher(socket) });
  app.get('/assets/*', async (request, reply) => {
    const path = await resolveInside(webRoot, request.url);
    if (!path) return reply.code(404).send({ error: `Not found: GET ${request.url.split('?')[0]}` });
    return sendFile(request, reply, path, { cacheControl: IMMUTABLE });
  });
  const port = await server.listen(options.port, 'output');
  const url = `http://${hostHeaderOf(HOST, port)}/output`;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    relay.closeAll();
    await server.close();
  };
  return {
    url,
    sink: new PageSink(relay, options.name ?? url, close),
    get watchers() {
      return relay.watcherCount;
    },
    close,
  };
}

/** The live run's side: each frame JPEG-encoded (one at a time, the freshest wins) and relayed. */
class PageSink implements LiveSink {
  readonly status: OutputStatus;
  private encoding: Promise<void> | undefined;

  constructor(
    private readonly relay: FrameRelay,
    name: string,
    private readonly close: () => Promise<void>,
  ) {
    this.status = { name, kind: 'page', state: 'live', frames: 0, skipped: 0, reconnects: 0 };
  }

  write(image: Image): Promise<void> {
    if (this.encoding) {
      this.status.skipped++;
      return Promise.resolve();
    }
    // Nobody watching: nothing to encode (the page gets the next frame as soon as it connects).
    if (this.relay.watcherCount === 0) return Promise.resolve();
    this.encoding = sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
      raw: { width: image.width, height: image.height, channels: image.channels },
    })
      .jpeg({ quality: JPEG_QUALITY })
      .toBuffer()
      .then((jpeg) => {
        this.relay.publish(jpeg);
        this.status.frames++;
      })
      .catch((error: unknown) => {
        this.status.error = error instanceof Error ? error.message : String(error);
      })
      .finally(() => {
        this.encoding = undefined;
      });
    return Promise.resolve();
  }

  audio(): void {
    // The page shows pictures only.
  }

  endAudio(): void {}

  async finish(): Promise<void> {
    await this.encoding;
    this.status.state = 'finished';
    await this.close();
  }

  async abort(): Promise<void> {
    this.status.state = 'failed';
    await this.close();
  }
}

export interface LoopbackServer {
  app: FastifyInstance;
  /** Listens on 127.0.0.1 at `port` (0: any free one) and returns the port; `flag` names the output in messages. */
  listen(port: number, flag: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * A small server on loopback for what `liveswap live` shows to viewers: it answers only requests
 * that name it by a loopback address (a re-pointed name is refused: DNS rebinding), accepts
 * WebSockets and the methods in `allow` other than GET/HEAD only from its own pages or from
 * programs that send no Origin (players, OBS), so a web page elsewhere cannot watch the stream.
 */
export async function loopbackServer(options: { allow: readonly string[]; maxPayload?: number; what: string }): Promise<LoopbackServer> {
  const app = fastify({ logger: false, forceCloseConnections: true });
  await app.register(fastifyWebsocket, { options: { maxPayload: options.maxPayload ?? 64 * 1024 } });
  const guard: { policy?: HostPolicy } = {};
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host;
    if (!guard.policy?.hostAllowed(host)) return reply.code(403).send({ error: `Requests must name this server by a loopback address, not ${JSON.stringify(host ?? '')}.` });
    if (!options.allow.includes(request.method)) return reply.code(405).send({ error: `${request.method} is not taken here (${options.what}).` });
    const readOnly = request.method === 'GET' || request.method === 'HEAD';
    if ((request.ws || !readOnly) && !guard.policy.originAllowed(request.headers.origin, host)) {
      return reply.code(403).send({ error: "Accepted from this server's own pages, or from programs that send no Origin, only." });
    }
    return undefined;
  });
  app.setErrorHandler(async (error: FastifyError, _request, reply) => reply.code(error.statusCode ?? 500).send({ error: error.message }));
  app.setNotFoundHandler(async (request, reply) => reply.code(404).send({ error: `Not found: ${request.method} ${request.url.split('?')[0]}` }));
  return {
    app,
    async listen(port, flag) {
      try {
        await app.listen({ host: HOST, port });
      } catch (error) {
        await app.close().catch(() => undefined);
        const code = (error as NodeJS.ErrnoException | undefined)?.code;
        if (code === 'EADDRINUSE') {
          throw new LiveswapError('usage', `--output ${flag}: port ${port} is already in use; name another with --output ${flag}:PORT (0 for any free port).`, { cause: error });
        }
        throw error;
      }
      const bound = (app.server.address() as AddressInfo).port;
      guard.policy = hostPolicy(HOST, bound);
      return bound;
    },
    close: () => app.close(),
  };
}

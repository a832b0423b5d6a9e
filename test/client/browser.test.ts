/**
 * The SDK in a browser: Debian's Chromium (playwright-core) runs src/client, compiled file by file
 * and loaded as ES modules with an import map for openapi-fetch, against a live API server. The
 * page is served at the API's own origin (playwright answers the /sdk/ paths), so no CORS is
 * involved. It reads the consent statement, adds an identity, swaps an image, uploads a clip in
 * chunks (Blob slices), follows the job's server-sent events through fetch streaming to `done`,
 * and downloads the MP4: what a browser app would do. Skipped with a notice where Chromium is missing.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import ts from 'typescript';
import { startTestApi, type TestApi } from '../api/api-helpers.js';
import { browserSkipReason, launchChromium } from '../helpers/browser.js';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { homeWithModels, warmModels } from '../helpers/video-jobs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const skip = browserSkipReason();

/** What the page reports back. */
interface PageResult {
  error?: string;
  statementVersion?: string;
  faces?: number[];
  imageType?: string;
  imageBytes?: number;
  watermarkId?: string;
  progress?: number[];
  events?: string[];
  finalState?: string;
  mp4Head?: string;
  mp4Bytes?: number;
  errorKind?: string;
}

/** The page's script: the whole flow through the SDK, as a browser app would run it. */
const PAGE_SCRIPT = `
import { createLiveswapClient, LiveswapApiError } from '/sdk/client/index.js';
const token = new URLSearchParams(location.search).get('token');
const result = {};
try {
  const client = createLiveswapClient({ baseUrl: location.origin, token });
  const statement = await client.consentStatement();
  result.statementVersion = statement.version;
  const photo = await (await fetch('/sdk/files/astronaut.png')).blob();
  const identity = await client.createIdentity([photo], { subject: 'self', attested: true, statementVersion: statement.version });
  result.faces = identity.faces;
  const target = await (await fetch('/sdk/files/grace_hopper.jpg')).blob();
  const swapped = await client.swapImage(target, identity.id, { engine: 'mesh', accept: 'image/webp' });
  result.imageType = swapped.contentType;
  result.imageBytes = swapped.image.byteLength;
  result.watermarkId = swapped.watermarkId;
  const clip = await (await fetch('/sdk/files/clip.mp4')).blob();
  result.progress = [];
  const upload = await client.uploadVideo(clip, { chunkSize: 16384, onProgress: (sent) => result.progress.push(sent), filename: 'clip.mp4' });
  const job = await client.submitVideo({ identityId: identity.id, uploadId: upload.id, swap: { engine: 'mesh' }, encoding: { audio: false, preset: 'ultrafast' } });
  result.events = [];
  for await (const event of job.events()) {
    result.events.push(event.type);
    if (event.type === 'done') result.finalState = event.job.state;
  }
  const mp4 = await job.download();
  result.mp4Bytes = mp4.byteLength;
  result.mp4Head = new TextDecoder().decode(mp4.subarray(4, 8));
  try {
    await client.job('no-such-job').status();
  } catch (error) {
    result.errorKind = error instanceof LiveswapApiError ? error.status + ' ' + error.kind : String(error);
  }
} catch (error) {
  result.error = String(error && error.stack || error);
}
window.__result = result;
`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>SDK</title>
<script type="importmap">{"imports":{"openapi-fetch":"/sdk/openapi-fetch.mjs"}}</script>
<script type="module">${PAGE_SCRIPT}</script>`;

/** A src/client file compiled to JavaScript for the browser (types stripped, imports kept). */
async function clientModule(name: string): Promise<string> {
  const source = await readFile(join(ROOT, 'src/client', name.replace(/\.js$/, '.ts')), 'utf8');
  return ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText;
}

describe('the SDK in Chromium', { skip: skip ?? false }, () => {
  let api: TestApi<'app'>;
  let work: string;
  let browser: Browser;
  let clip: Buffer;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'liveswap-client-browser-'));
    const [, clipPath] = await Promise.all([warmModels(), makeClip({ frames: 25, fps: 25, noise: 20, dir: work, name: 'clip' })]);
    clip = await readFile(clipPath);
    api = await startTestApi(
      { app: { scopes: ['swap:image', 'swap:video', 'identities:write', 'uploads', 'jobs:read'] } },
      { home: await homeWithModels(join(work, 'home')), workers: 1 },
    );
    browser = await launchChromium({ camera: false, allowCamera: false });
  });

  after(async () => {
    await browser?.close();
    await api?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('runs the whole flow: consent, identity, image swap, chunked upload, events to done, MP4 download', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // Only the /sdk/ paths are answered here; every API call goes to the real server.
    await page.route(`${api.server.url}/sdk/**`, async (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/sdk/page.html') return route.fulfill({ contentType: 'text/html', body: PAGE });
      if (path === '/sdk/openapi-fetch.mjs') {
        return route.fulfill({ contentType: 'text/javascript', body: await readFile(join(ROOT, 'node_modules/openapi-fetch/dist/index.mjs'), 'utf8') });
      }
      if (path.startsWith('/sdk/client/')) return route.fulfill({ contentType: 'text/javascript', body: await clientModule(path.slice('/sdk/client/'.length)) });
      if (path === '/sdk/files/clip.mp4') return route.fulfill({ contentType: 'video/mp4', body: clip });
      if (path.startsWith('/sdk/files/')) return route.fulfill({ body: await readFile(join(FIXTURES, path.slice('/sdk/files/'.length))) });
      return route.fulfill({ status: 404, body: 'not here' });
    });
    await page.goto(`${api.server.url}/sdk/page.html?token=${encodeURIComponent(api.tokens.app)}`);
    // Strings, not functions: they run in the page, where this file's Node types do not apply.
    await page.waitForFunction('"__result" in window', undefined, { timeout: 45_000 });
    const result = (await page.evaluate('window.__result')) as PageResult;
    assert.deepEqual(pageErrors, []);
    assert.equal(result.error, undefined, result.error);
    assert.match(result.statementVersion ?? '', /\S/);
    assert.deepEqual(result.faces, [1]);
    assert.equal(result.imageType, 'image/webp');
    assert.ok((result.imageBytes ?? 0) > 1000);
    assert.match(result.watermarkId ?? '', /\S/);
    assert.equal(result.progress?.at(-1), clip.byteLength);
    assert.ok((result.progress?.length ?? 0) >= Math.ceil(clip.byteLength / 16384), 'one progress call per chunk');
    assert.equal(result.events?.[0], 'state');
    assert.equal(result.events?.at(-1), 'done');
    assert.equal(result.finalState, 'completed');
    assert.equal(result.mp4Head, 'ftyp');
    assert.ok((result.mp4Bytes ?? 0) > 1000);
    assert.equal(result.errorKind, '404 not-found');
  });
});

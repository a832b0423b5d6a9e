/**
 * The live app end to end in headless Chromium: the real server, the built app, the worker on
 * onnxruntime-web (wasm), and a fake camera playing a clip made from a fixture photo. The saved
 * files are checked for the provenance marks (label, watermark) and their audit-log lines.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import sharp from 'sharp';
import type { Image } from '../../src/core/image.js';
import { cosineSimilarity, FaceEmbedder } from '../../src/face/embedder.js';
import type { Face } from '../../src/face/face.js';
import type { InferenceSession } from '../../src/models/runtime.js';
import { runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { builtinModel } from '../../src/node/models/model-cache.js';
import { ModelStore } from '../../src/node/models/model-store.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { watermarkKeyPath } from '../../src/node/provenance/output-provenance.js';
import { assembleEngine } from '../../src/pipeline/engines.js';
import type { ProvenanceSessionReply } from '../../src/pipeline/live-options.js';
import { findLabel } from '../../src/provenance/label.js';
import { formatWatermarkId } from '../../src/provenance/payload.js';
import { WatermarkDetector } from '../../src/provenance/watermark.js';
import { createUiServer, type UiServer } from '../../src/server/ui-server.js';
import { auditLog, freshHome } from '../helpers/live-home.js';
import { browserSkipReason, buildWebApp, fakeCameraClip, launchChromium, newContext } from '../helpers/browser.js';
import { framedPhoto } from '../helpers/clips.js';
import { arcfaceStandin, inswapperStandin, scrfdStandin, standinStore } from '../helpers/standin-models.js';
import { blockMeanAbsDiff, decodeRgb, FIXTURES, TEST_HOME, loadFixture, meanAbsDiff } from '../helpers/fixtures.js';

const skip = browserSkipReason();
const SOURCE = join(FIXTURES, 'grace_hopper.jpg');

/** Console errors and uncaught exceptions of a page, for the no-console-errors checks. */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

async function messageOf(page: Page, kind: string): Promise<string> {
  const locator = page.locator(`#messages .message[data-kind="${kind}"]`);
  await locator.first().waitFor({ state: 'visible', timeout: 30_000 });
  return (await locator.first().textContent()) ?? '';
}

/** A canvas or the camera's <video> as a PNG, read inside the page. */
async function grab(page: Page, selector: string): Promise<Image> {
  const url = await page.evaluate((sel) => {
    const element = document.querySelector(sel) as HTMLCanvasElement | HTMLVideoElement;
    const width = element instanceof HTMLVideoElement ? element.videoWidth : element.width;
    const height = element instanceof HTMLVideoElement ? element.videoHeight : element.height;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d')!.drawImage(element, 0, 0);
    return canvas.toDataURL('image/png');
  }, selector);
  return decodeRgb(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
}

async function waitForFps(page: Page): Promise<number> {
  await page
    .waitForFunction(() => Number(document.querySelector('#fps')?.getAttribute('data-fps') ?? 0) > 0, undefined, { timeout: 60_000 })
    .catch(async (error: Error) => {
      // Say what the page said: a frame error or a model message is the usual reason.
      throw new Error(`${error.message}; the page shows: ${(await page.textContent('#messages'))?.trim() || 'no message'}`);
    });
  return Number(await page.locator('#fps').getAttribute('data-fps'));
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Clicks #snapshot and returns the downloaded PNG's bytes (downloaded only after its audit line is written). */
async function snapshot(page: Page): Promise<Buffer> {
  const download = page.waitForEvent('download');
  await page.click('#snapshot');
  const bytes = await readFile(await (await download).path());
  assert.equal(await page.locator('#snapshot-link').getAttribute('data-audit'), 'logged');
  return bytes;
}

/** The watermark id the still decodes to with `key`, or undefined when none is found. */
function watermarkIn(image: Image, key: Uint8Array): string | undefined {
  const detector = new WatermarkDetector(key);
  detector.add(image);
  const found = detector.detection();
  return found.found && found.payload ? formatWatermarkId(found.payload.assetId) : undefined;
}

async function startCamera(page: Page): Promise<void> {
  await page.selectOption('#target-kind', 'camera');
  await page.click('#start');
}

describe('live app in Chromium', { skip }, () => {
  let server: UiServer;
  let dir: string;
  let clip: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let home: string;
  let key: Uint8Array;
  /** What the session route answered the main page, latest last. */
  const sessions: ProvenanceSessionReply[] = [];

  before(async () => {
    const webRoot = await buildWebApp();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-e2e-'));
    home = await freshHome(dir);
    server = await createUiServer({ home, store: new ModelStore({ home: TEST_HOME }), port: 0, webRoot });
    key = Uint8Array.from(Buffer.from((await readFile(watermarkKeyPath(home), 'utf8')).trim(), 'hex'));
    clip = await fakeCameraClip(dir);
    browser = await launchChromium({ camera: clip, allowCamera: true });
    context = await newContext(browser, true);
    page = await context.newPage();
    errors = collectErrors(page);
    page.on('response', (response: Response) => {
      if (response.url().endsWith('/api/provenance/session') && response.ok()) void response.json().then((body: ProvenanceSessionReply) => sessions.push(body));
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads without console errors and says which engine and backend run', async () => {
    await page.goto(server.url);
    await page.waitForFunction(() => document.body.dataset.engine === 'ready', undefined, { timeout: 60_000 });
    assert.match((await page.textContent('#engine-status')) ?? '', /mesh/);
    assert.match((await page.textContent('#engine-status')) ?? '', /wasm/);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'COOP/COEP make the page cross-origin isolated');
    assert.deepEqual(errors, []);
  });

  it('accepts a source photo and shows the face found in it', async () => {
    await page.setInputFiles('#source-input', SOURCE);
    await page.locator('#sources .source .source-face').first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#sources .source').count(), 1);
    assert.equal(await page.locator('#sources .source-face').count(), 1);
  });

  it('shows the camera with the source face swapped in, with FPS and per-stage timings', async (t) => {
    await startCamera(page);
    await waitForFps(page);
    assert.match((await page.textContent('#fps')) ?? '', /\d+(\.\d+)?\s*fps/);
    await page.setChecked('#show-timings', true);
    await page.waitForFunction(() => document.querySelector('#timings')?.getAttribute('data-timings'), undefined, { timeout: 10_000 });
    const timings = JSON.parse((await page.locator('#timings').getAttribute('data-timings'))!) as Record<string, number>;
    for (const stage of ['read', 'detect', 'warp', 'mark', 'total']) assert.ok(Number.isFinite(timings[stage]), `timing ${stage} shown`);
    t.diagnostic(`per frame at 640×360: mark ${timings.mark} ms of ${timings.total} ms`);

    const preview = await grab(page, '#preview');
    const camera = await grab(page, '#camera-video');
    assert.equal(preview.width, camera.width);
    assert.equal(preview.height, camera.height);
    await compareFaces(preview, camera);
    assert.deepEqual(errors, []);
  });

  it('records a playable video file', async () => {
    await page.click('#record');
    await page.waitForTimeout(2500);
    await page.click('#record');
    const link = page.locator('#recording-link');
    await link.waitFor({ state: 'visible', timeout: 15_000 });
    const name = await link.getAttribute('download');
    assert.match(name ?? '', /\.(webm|mp4)$/);
    const base64 = await page.evaluate(async () => {
      const href = (document.querySelector('#recording-link') as HTMLAnchorElement).href;
      const bytes = new Uint8Array(await (await fetch(href)).arrayBuffer());
      let text = '';
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(text);
    });
    const file = join(dir, name!);
    await writeFile(file, Buffer.from(base64, 'base64'));
    const decoded = await runFfmpeg(['-hide_banner', '-i', file, '-f', 'null', '-']);
    assert.equal(decoded.code, 0, decoded.stderr);
    const frames = Number([...decoded.stderr.matchAll(/frame=\s*(\d+)/g)].at(-1)?.[1] ?? 0);
    assert.ok(frames >= 10, `the recording decodes to ${frames} frames`);
    assert.equal(await link.getAttribute('data-audit'), 'logged');
    const recorded = sha256(await readFile(file));
    const saved = (await auditLog(home)).find((entry) => entry.kind === 'live-recording' && entry.output?.sha256 === recorded);
    assert.ok(saved, 'the recording is in the audit log by its SHA-256');
    assert.equal(saved.watermarkId, sessions.at(-1)?.watermarkId);
  });

  it("takes a PNG snapshot carrying the label, the session's watermark and an audit line", async () => {
    const file = await snapshot(page);
    const meta = await sharp(file).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 640);
    assert.equal(meta.height, 360);
    const image = await decodeRgb(file);
    const label = findLabel(image);
    assert.ok(label, 'the visible label is found');
    assert.equal(label.text, 'AI-generated');
    assert.equal(label.corner, 'bottom-right');

    const session = sessions.at(-1);
    assert.ok(session, 'the page asked the server for a session');
    assert.equal(await page.locator('#watermark-id').getAttribute('data-watermark-id'), session.watermarkId, "the page shows the session's id");
    assert.equal(watermarkIn(image, key), session.watermarkId, "the snapshot's watermark names the session");

    const log = await auditLog(home);
    const started = log.find((entry) => entry.kind === 'live-session' && entry.watermarkId === session.watermarkId);
    assert.ok(started, 'the session is in the audit log');
    assert.deepEqual(started.label, { shown: true, text: 'AI-generated' });
    assert.equal(started.options.engine, 'mesh');
    const saved = log.filter((entry) => entry.kind === 'live-snapshot' && entry.output?.sha256 === sha256(file));
    assert.equal(saved.length, 1, 'one audit line names the downloaded file by its SHA-256');
    assert.equal(saved[0]!.watermarkId, session.watermarkId);
    assert.deepEqual(saved[0]!.label, { shown: true, text: 'AI-generated' });
    const grace = sha256(await readFile(SOURCE));
    assert.deepEqual(saved[0]!.sources, [{ sha256: grace }], 'the source photo by its hash, no path');
  });

  it('with the label turned off: no label, still the watermark, and the choice in the audit log', async () => {
    await page.setChecked('#label', false);
    assert.match(await messageOf(page, 'label'), /audit log/);
    // Frames already on their way keep the label; wait for one made after the change.
    const end = Date.now() + 15_000;
    while (findLabel(await grab(page, '#preview')) !== undefined) {
      assert.ok(Date.now() < end, 'the preview lost its label after #label was unchecked');
      await page.waitForTimeout(100);
    }
    const file = await snapshot(page);
    const image = await decodeRgb(file);
    assert.equal(findLabel(image), undefined);
    assert.equal(watermarkIn(image, key), sessions.at(-1)?.watermarkId);
    const saved = (await auditLog(home)).find((entry) => entry.kind === 'live-snapshot' && entry.output?.sha256 === sha256(file));
    assert.ok(saved, 'the unlabelled snapshot is logged');
    assert.deepEqual(saved.label, { shown: false });
    await page.setChecked('#label', true);
    assert.equal(await page.locator('#messages .message[data-kind="label"]').count(), 0, 'the notice goes when the label is back');
  });

  it('the /output page shows the processed frames', async () => {
    const output = await context.newPage();
    const outputErrors = collectErrors(output);
    await output.goto(server.outputUrl);
    await output.waitForFunction(() => Number(document.body.dataset.frames ?? 0) >= 3, undefined, { timeout: 30_000 });
    assert.equal(await output.locator('#waiting').isVisible(), false);
    assert.deepEqual(outputErrors, []);
    await output.close();
  });

  it('says so when the camera is unplugged, and keeps working', async () => {
    await page.evaluate(() => {
      const stream = (document.querySelector('#camera-video') as HTMLVideoElement).srcObject as MediaStream;
      const [track] = stream.getVideoTracks();
      track.stop();
      track.dispatchEvent(new Event('ended')); // what the browser fires when a device goes away
    });
    assert.match(await messageOf(page, 'camera-ended'), /camera/i);
    await startCamera(page);
    await waitForFps(page);
  });

  it('switching from the camera to an image: no face followed on the camera is painted on the picture', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#faces-list .tracked-face.swapped').length > 0, undefined, { timeout: 30_000 });
    const cameraTracks = await page.$$eval('#faces-list .tracked-face', (items) => items.map((item) => (item as HTMLElement).dataset.track));
    // 480×360, grey where the camera's face was (x 266–332, y 50–124 of 640×360), a face at the bottom left.
    const face = await sharp(join(FIXTURES, 'astronaut.png')).resize(240, 240).png().toBuffer();
    const picture = await sharp({ create: { width: 480, height: 360, channels: 3, background: '#3c3c3c' } })
      .composite([{ input: face, left: 10, top: 110 }])
      .png()
      .toBuffer();
    await page.selectOption('#target-kind', 'image');
    await page.setInputFiles('#image-input', { name: 'corner.png', mimeType: 'image/png', buffer: picture });
    // The still is processed once; a camera frame still in flight may be shown before it, never after.
    await page.waitForFunction(
      () => (document.querySelector('#preview') as HTMLCanvasElement).width === 480 && document.querySelectorAll('#faces-list .tracked-face').length > 0,
      undefined,
      { timeout: 30_000 },
    );
    await page.waitForTimeout(500);
    const tracks = await page.$$eval('#faces-list .tracked-face', (items) =>
      items.map((item) => ({ track: (item as HTMLElement).dataset.track, swapped: item.classList.contains('swapped') })),
    );
    assert.deepEqual(
      tracks.filter((t) => cameraTracks.includes(t.track)),
      [],
      `camera tracks ${cameraTracks.join(',')}, picture tracks ${tracks.map((t) => t.track).join(',')}`,
    );
    assert.deepEqual(
      tracks.map((t) => t.swapped),
      [true],
      "the picture's face is swapped on its first render",
    );
    const shown = await grab(page, '#preview');
    const original = await decodeRgb(picture);
    assert.equal(shown.width, 480);
    const stale = meanAbsDiff(shown, original, 240, 20, 380, 160);
    const swapped = meanAbsDiff(shown, original, 80, 130, 150, 210);
    assert.ok(stale < 2, `where the camera face was, the picture is unchanged but for the watermark (mean difference ${stale.toFixed(2)})`);
    assert.ok(swapped > 4, `the picture's face is painted (mean difference ${swapped.toFixed(2)})`);
    await startCamera(page);
    await waitForFps(page);
  });

  it('tells a non-image and a photo without a face apart', async () => {
    await page.setInputFiles('#source-input', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
    assert.match(await messageOf(page, 'not-image'), /notes\.txt/);
    const wall = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    await page.setInputFiles('#source-input', { name: 'wall.png', mimeType: 'image/png', buffer: wall });
    assert.match(await messageOf(page, 'no-face'), /wall\.png/);
    assert.deepEqual(
      errors.filter((e) => !/Failed to load resource/.test(e)),
      [],
    );
  });

  describe('bad cameras and models', () => {
    it('camera permission denied', async () => {
      const denied = await launchChromium({ camera: clip, allowCamera: false });
      try {
        const p = await (await newContext(denied, false)).newPage();
        await p.goto(server.url);
        await startCamera(p);
        assert.match(await messageOf(p, 'camera-denied'), /permission|denied|allow/i);
      } finally {
        await denied.close();
      }
    });

    it('no camera at all', async () => {
      const none = await launchChromium({ camera: false, allowCamera: true });
      try {
        const p = await (await newContext(none, true)).newPage();
        await p.goto(server.url);
        await startCamera(p);
        assert.match(await messageOf(p, 'no-camera'), /camera/i);
      } finally {
        await none.close();
      }
    });

    it('WebGPU asked for: used when the browser has an adapter, else wasm with a notice', async () => {
      const ctx = await newContext(browser, true);
      const p = await ctx.newPage();
      await p.goto(server.url);
      await p.waitForFunction(() => document.body.dataset.engine === 'ready', undefined, { timeout: 60_000 });
      await p.selectOption('#backend', 'webgpu');
      await p.waitForFunction(() => document.body.dataset.engine === 'ready' && /webgpu|WebGPU/.test(document.querySelector('#engine-status')?.textContent ?? ''), undefined, {
        timeout: 60_000,
      });
      const status = (await p.textContent('#engine-status')) ?? '';
      assert.ok(/· webgpu/.test(status) || /WebGPU is not available/.test(status), status);
      await ctx.close();
    });

    it('an audit log that refuses: no engine without a session; a saved file says it is not logged', async () => {
      const ctx = await newContext(browser, true);
      const refuse = { status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'Cannot append to the audit log' }) };
      await ctx.route('**/api/provenance/output', (route) => route.fulfill(refuse));
      const p = await ctx.newPage();
      await p.goto(server.url);
      await p.waitForFunction(() => document.body.dataset.engine === 'ready', undefined, { timeout: 60_000 });
      const download = p.waitForEvent('download');
      await p.click('#snapshot');
      await download;
      assert.match(await messageOf(p, 'provenance'), /snapshot was not written to the audit log: .*Cannot append.*still carries the label and the watermark/);
      assert.equal(await p.locator('#snapshot-link').getAttribute('data-audit'), 'failed');

      await ctx.route('**/api/provenance/session', (route) => route.fulfill(refuse));
      await p.reload();
      assert.match(await messageOf(p, 'provenance'), /engine was not started because the audit log did not take the new session/);
      assert.equal(await p.evaluate(() => document.body.dataset.engine), 'failed');
      await ctx.close();
    });

    it('a model that fails to load', async () => {
      const ctx = await newContext(browser, true);
      await ctx.route('**/models/builtin/facemesh-*', (route) =>
        route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.from('this is not an ONNX model') }),
      );
      const p = await ctx.newPage();
      const pageErrors: string[] = [];
      p.on('pageerror', (error) => pageErrors.push(error.message));
      await p.goto(server.url);
      // The worker's failure names the model, and the page says so.
      assert.match(await messageOf(p, 'model'), /the model facemesh-[^ ]+ did not load/);
      // The page still works: a source can be picked and the controls answer.
      await p.setChecked('#many-faces', true);
      assert.equal(await p.isChecked('#many-faces'), true);
      assert.deepEqual(pageErrors, []);
      await ctx.close();
    });
  });
});

describe('the inswapper engine in Chromium, with its models on the server (stand-in files)', { skip }, () => {
  let server: UiServer;
  let dir: string;
  let browser: Browser;
  let cameraBox: [number, number, number, number];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-e2e-inswapper-'));
    // The stand-in detector reports one fixed face wherever it looks: put it where the camera's face is.
    const camera = await framedPhoto('astronaut.png', 640, 360);
    const runtime = createNodeRuntime({ threads: 1 });
    const sessions = await Promise.all((['blazeface', 'facemesh'] as const).map(async (id) => runtime.load((await builtinModel(id, TEST_HOME)).bytes, id)));
    const [face] = await assembleEngine({ detector: sessions[0]!, mesh: sessions[1]! }).finder.analyze(camera);
    await Promise.all(sessions.map((s) => s.close()));
    cameraBox = face!.box.map(Math.round) as [number, number, number, number];
    // A 640-wide frame fills SCRFD's 640 canvas at scale 1; its points are pixel-centred.
    const centred = (v: ArrayLike<number>) => Array.from(v, (x) => x - 0.5);
    const box = centred([face!.box[0], face!.box[1], face!.box[0] + face!.box[2], face!.box[1] + face!.box[3]]) as [number, number, number, number];
    const store = await standinStore(join(dir, 'home'), {
      det_10g: scrfdStandin([{ box, kps5: centred(face!.kps5), score: 0.92 }]),
      w600k_r50: arcfaceStandin(),
      inswapper_128: inswapperStandin(),
    });
    server = await createUiServer({ home: await freshHome(join(dir, 'app')), store, port: 0, webRoot: await buildWebApp() });
    browser = await launchChromium({ camera: await fakeCameraClip(dir), allowCamera: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads the models from the server, swaps the camera face and keeps the page free of errors', async () => {
    const page = await (await newContext(browser, true)).newPage();
    const errors = collectErrors(page);
    await page.goto(server.url);
    await page.waitForFunction(() => document.body.dataset.engine === 'ready', undefined, { timeout: 60_000 });
    assert.equal(await page.locator('#engine option[value="inswapper"]').isDisabled(), false, 'offered when the server has the models');
    await page.selectOption('#engine', 'inswapper');
    await page.waitForFunction(() => document.body.dataset.engine === 'ready' && /inswapper/.test(document.querySelector('#engine-status')?.textContent ?? ''), undefined, {
      timeout: 120_000,
    });
    await page.setInputFiles('#source-input', SOURCE);
    await page.locator('#sources .source-face').first().waitFor({ timeout: 60_000 });
    await startCamera(page);
    await waitForFps(page);
    const [x, y, w, h] = cameraBox;
    const faceChange = (preview: Image, camera: Image) =>
      meanAbsDiff(preview, camera, x + Math.round(w * 0.3), y + Math.round(h * 0.35), x + Math.round(w * 0.7), y + Math.round(h * 0.7));
    // The first frames after the engine switch may still be on their way: look again a few times.
    let preview = await grab(page, '#preview');
    let camera = await grab(page, '#camera-video');
    for (let attempt = 0; attempt < 4 && faceChange(preview, camera) <= 6; attempt++) {
      await page.waitForTimeout(250);
      preview = await grab(page, '#preview');
      camera = await grab(page, '#camera-video');
    }
    const inside = faceChange(preview, camera);
    // Block means: the fake camera sways by a pixel, and the preview shows a frame a moment older.
    const outside = blockMeanAbsDiff(preview, camera, 0, 0, Math.max(1, x - w), camera.height);
    assert.ok(inside > 6, `the stand-in swapper's output is pasted on the face (mean difference ${inside.toFixed(1)})`);
    // The invisible watermark changes every pixel a little (≈0.9 mean difference on this frame), hence 5, not 4.
    assert.ok(outside < 5, `the rest is the camera's (mean difference ${outside.toFixed(1)})`);
    assert.deepEqual(errors, []);
  });
});

/**
 * The preview's face region differs from the camera's there and nowhere much else, and reads as
 * the source person more than the camera's face does (FaceRes, independent of the swap).
 */
async function compareFaces(preview: Image, camera: Image): Promise<void> {
  const runtime = createNodeRuntime({ threads: 1 });
  const sessions: InferenceSession[] = [];
  const load = async (id: 'blazeface' | 'facemesh' | 'faceres') => {
    const model = await builtinModel(id, TEST_HOME);
    const session = await runtime.load(model.bytes, model.path);
    sessions.push(session);
    return session;
  };
  try {
    const engine = assembleEngine({ detector: await load('blazeface'), mesh: await load('facemesh') });
    const embedder = FaceEmbedder.create(await load('faceres'));
    const [cameraFace] = await engine.finder.analyze(camera);
    const [previewFace] = await engine.finder.analyze(preview);
    const [sourceFace] = await engine.finder.analyze(await loadFixture('grace_hopper.jpg'));
    assert.ok(cameraFace && previewFace && sourceFace, 'faces found in the camera frame, the preview and the source');
    const [x, y, w, h] = cameraFace.box.map(Math.round) as [number, number, number, number];
    const inside = meanAbsDiff(preview, camera, x + Math.round(w * 0.2), y + Math.round(h * 0.3), x + Math.round(w * 0.8), y + Math.round(h * 0.8));
    // Block means: the fake camera sways by a pixel, and the preview shows a frame a moment older.
    const outside = blockMeanAbsDiff(preview, camera, 0, 0, Math.max(1, x - w), camera.height);
    assert.ok(inside > 6, `the face region changed (mean difference ${inside.toFixed(1)})`);
    // The invisible watermark changes every pixel a little (≈0.9 mean difference on this frame), hence 5, not 4.
    assert.ok(outside < 5, `the picture outside the face is the camera's (mean difference ${outside.toFixed(1)})`);
    const embed = (image: Image, face: Face) => embedder.embed(image, face);
    const source = await embed(await loadFixture('grace_hopper.jpg'), sourceFace);
    const before = cosineSimilarity(await embed(camera, cameraFace), source);
    const afterSwap = cosineSimilarity(await embed(preview, previewFace), source);
    assert.ok(afterSwap > before + 0.05, `the preview face is closer to the source (cosine ${before.toFixed(3)} → ${afterSwap.toFixed(3)})`);
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
}

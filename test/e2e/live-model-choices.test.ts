/**
 * FaceFusion's models in the live app, end to end in headless Chromium: stand-in ONNX files with
 * the rows' exact inputs and outputs (a hyperswap_1a_256 swapper, gfpgan_1.4, xseg_1, and the SCRFD
 * and ArcFace it needs) in a temporary model home, the real `liveswap ui` server, the built app and
 * its worker on onnxruntime-web (wasm), and a fake camera. The page offers what is installed and
 * greys the rest with the command that installs it; the camera's frames come out swapped and
 * labelled; on the camera's picture as an image target (no sway, so pixels compare exactly) XSeg's
 * covered part stays the picture's, the enhancer and a pixel boost change the face as they should,
 * and an enhancer that will not load is turned off while the engine goes on; the page logs no error.
 */

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Image } from '../../src/core/image.js';
import { MODEL_SPECS } from '../../src/models/model-spec.js';
import { builtinModel } from '../../src/node/models/model-cache.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { assembleEngine } from '../../src/pipeline/engines.js';
import { findLabel } from '../../src/provenance/label.js';
import { createUiServer, type UiServer } from '../../src/server/ui-server.js';
import { browserSkipReason, buildWebApp, fakeCameraClip, launchChromium, newContext } from '../helpers/browser.js';
import { framedPhoto } from '../helpers/clips.js';
import { enhancerStandin, swapperStandin } from '../helpers/facefusion-standins.js';
import { blockMeanAbsDiff, decodeRgb, encodePng, FIXTURES, meanAbsDiff, TEST_HOME } from '../helpers/fixtures.js';
import { closeE2e, collectPageErrors } from '../helpers/e2e-page.js';
import { freshHome } from '../helpers/live-home.js';
import { arcfaceStandin, scrfdStandin, standinStore } from '../helpers/standin-models.js';
import { xsegStandin } from '../masks/mask-standins.js';

const skip = browserSkipReason();
const SOURCE = join(FIXTURES, 'grace_hopper.jpg');
/** What the XSeg stand-in reports covered in its 256×256 crop (hyperswap's arcface_128 crop): from below the nose down, over the mouth and chin. */
const COVERED = [0, 150, 256, 256] as const;

/** Rectangles [x0, y0, x1, y1) of the camera's face, from its five points: around the eyes (never covered) and around the mouth (covered). */
interface FaceAreas {
  eyes: [number, number, number, number];
  mouth: [number, number, number, number];
}

function areasOf(kps5: ArrayLike<number>): FaceAreas {
  const [lex, ley, rex, rey, , , lmx, lmy, rmx, rmy] = Array.from(kps5);
  const eyeY = (ley! + rey!) / 2;
  const mouthY = (lmy! + rmy!) / 2;
  const d = mouthY - eyeY;
  const round = (box: number[]) => box.map(Math.round) as [number, number, number, number];
  return {
    eyes: round([lex!, eyeY - 0.1 * d, rex!, eyeY + 0.3 * d]),
    mouth: round([lmx! + 0.1 * (rmx! - lmx!), mouthY - 0.1 * d, rmx! - 0.1 * (rmx! - lmx!), mouthY + 0.25 * d]),
  };
}

/** A canvas or the camera's <video> as pixels, read inside the page. */
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

/** The preview and the camera, grabbed together. */
interface Grabbed {
  preview: Image;
  camera: Image;
}

async function frames(page: Page): Promise<Grabbed> {
  return { preview: await grab(page, '#preview'), camera: await grab(page, '#camera-video') };
}

/** Grabs until `done` holds for what was measured (a change of settings reaches the preview a frame or two later), or fails saying what was last seen. */
async function until<G, T>(page: Page, take: () => Promise<G>, measure: (grabbed: G) => T, done: (value: T) => boolean, what: string): Promise<T> {
  const end = Date.now() + 30_000;
  for (;;) {
    const value = measure(await take());
    if (done(value)) return value;
    if (Date.now() > end) {
      throw new Error(`${what}: last seen ${JSON.stringify(value)}; the page shows: ${(await page.textContent('#messages'))?.trim() || 'no message'}`);
    }
    await page.waitForTimeout(200);
  }
}

async function waitForFrames(page: Page): Promise<void> {
  await page
    .waitForFunction(() => Number(document.querySelector('#fps')?.getAttribute('data-fps') ?? 0) > 0, undefined, { timeout: 60_000 })
    .catch(async (error: Error) => {
      throw new Error(`${error.message}; the page shows: ${(await page.textContent('#messages'))?.trim() || 'no message'}`);
    });
}

describe("FaceFusion's swappers, enhancers and XSeg in Chromium (stand-in files)", { skip }, () => {
  let server: UiServer;
  let dir: string;
  let browser: Browser;
  let areas: FaceAreas;
  let camera: Image;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-e2e-models-'));
    // The stand-in detector reports one fixed face wherever it looks: put it where the camera's face is.
    camera = await framedPhoto('astronaut.png', 640, 360);
    const runtime = createNodeRuntime({ threads: 1 });
    const sessions = await Promise.all((['blazeface', 'facemesh'] as const).map(async (id) => runtime.load((await builtinModel(id, TEST_HOME)).bytes, id)));
    const [face] = await assembleEngine({ detector: sessions[0]!, mesh: sessions[1]! }).finder.analyze(camera);
    await Promise.all(sessions.map((s) => s.close()));
    assert.ok(face, 'the camera picture has a face');
    areas = areasOf(face.kps5);
    // A 640-wide frame fills SCRFD's 640 canvas at scale 1; its points are pixel-centred.
    const centred = (v: ArrayLike<number>) => Array.from(v, (x) => x - 0.5);
    const box = centred([face.box[0], face.box[1], face.box[0] + face.box[2], face.box[1] + face.box[3]]) as [number, number, number, number];
    const files = {
      det_10g: scrfdStandin([{ box, kps5: centred(face.kps5), score: 0.92 }]),
      w600k_r50: arcfaceStandin(),
      // Paints one colour from the source's embedding over the whole crop.
      hyperswap_1a_256: swapperStandin(MODEL_SPECS.hyperswap_1a_256, 'source'),
      // Returns a near-white face whatever comes in (0.9 in −1..1), so its effect cannot be missed.
      'gfpgan_1.4': enhancerStandin(MODEL_SPECS['gfpgan_1.4'], 0, 0.9),
      xseg_1: xsegStandin('xseg_1', COVERED),
      // Installed and verified, but no model: it cannot load.
      gpen_bfr_256: new TextEncoder().encode('not an ONNX model'),
    };
    const store = await standinStore(join(dir, 'home'), files);
    server = await createUiServer({ home: await freshHome(join(dir, 'app')), store, port: 0, webRoot: await buildWebApp() });
    browser = await launchChromium({ camera: await fakeCameraClip(dir), allowCamera: true });
  });

  after(() => closeE2e({ browser, server, dir }));

  it('offers the installed swapper, enhancer and XSeg, greys the rest with the pull command, and swaps the camera with each', async () => {
    const page = await (await newContext(browser, true)).newPage();
    const errors: string[] = [];
    collectPageErrors(page, errors);
    // Full resolution on every frame (the stand-in detector reports the face where it is at full size), and
    // the mouth swapped with the rest (the live app keeps the target's mouth by default), so XSeg's part shows.
    await page.addInitScript(() => localStorage.setItem('liveswap.settings', JSON.stringify({ targetFps: 0, mouthMask: false })));
    const steps: string[] = [];
    let last = Date.now();
    const step = (name: string) => {
      steps.push(`${name} ${((Date.now() - last) / 1000).toFixed(1)} s`);
      last = Date.now();
    };
    await page.goto(server.url);
    // The menus are filled once the server said what it has (the mesh engine is still starting meanwhile).
    await page.locator('#engine option[value="hyperswap_1a_256"]').waitFor({ state: 'attached', timeout: 60_000 });

    // What is installed is offered; the rest is greyed and names the command that installs it.
    const enabled = async (selector: string) => !(await page.locator(selector).isDisabled());
    assert.equal(await enabled('#engine option[value="hyperswap_1a_256"]'), true);
    assert.equal(await enabled('#face-enhancer option[value="gfpgan_1.4"]'), true);
    assert.equal(await enabled('#occlusion-mask option[value="xseg_1"]'), true);
    for (const [selector, pull] of [
      ['#engine option[value="simswap_256"]', 'liveswap models pull --for simswap_256'],
      ['#engine option[value="inswapper"]', 'liveswap models pull --for inswapper'],
      ['#face-enhancer option[value="codeformer"]', 'liveswap models pull --for codeformer'],
      ['#occlusion-mask option[value="xseg_2"]', 'liveswap models pull --for xseg_2'],
      ['#face-parser option[value="bisenet_resnet_34"]', 'liveswap models pull --for bisenet_resnet_34'],
    ] as const) {
      const option = page.locator(selector);
      assert.equal(await option.isDisabled(), true, `${selector} is greyed`);
      assert.equal(await option.getAttribute('data-pull'), pull);
      assert.match((await option.getAttribute('title')) ?? '', new RegExp(pull.replaceAll('-', '\\-')));
      assert.match((await option.textContent()) ?? '', /not installed/);
    }
    assert.equal(await page.locator('#model-hint').isHidden(), false);
    assert.match((await page.textContent('#model-hint-list li[data-model="simswap_256"]')) ?? '', /liveswap models pull --for simswap_256/);
    assert.equal(await page.locator('#pixel-boost').isDisabled(), true, 'no pixel boost for mesh');
    assert.equal(await page.locator('#face-enhancer-weight-field').isHidden(), true, "the fidelity is CodeFormer's");

    step('page');
    await page.selectOption('#engine', 'hyperswap_1a_256');
    await page.waitForFunction(() => document.body.dataset.engine === 'ready' && /hyperswap_1a_256/.test(document.querySelector('#engine-status')?.textContent ?? ''), undefined, {
      timeout: 120_000,
    });
    const boosts = await page.locator('#pixel-boost option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual(boosts, ['0', '512', '768', '1024'], "hyperswap's 256 crop takes its multiples");
    step('hyperswap engine');
    await page.setInputFiles('#source-input', SOURCE);
    await page.locator('#sources .source-face').first().waitFor({ timeout: 60_000 });
    step('source photo');

    // The camera: swapped frames come out, labelled. (Block means: the fake camera sways by a pixel,
    // and the preview shows a frame a moment older than the camera's.)
    await page.selectOption('#target-kind', 'camera');
    await page.click('#start');
    await waitForFrames(page);
    const eyesChange = (f: Grabbed) => blockMeanAbsDiff(f.preview, f.camera, ...areas.eyes, 2);
    const live = await until(
      page,
      () => frames(page),
      eyesChange,
      (v) => v > 8,
      'the stand-in swapper paints the camera face',
    );
    assert.ok(findLabel(await grab(page, '#preview')), 'the swapped frames carry the label');
    await page.click('#stop');
    step('camera');

    // The masks, the enhancer and the boost on a still picture (the camera's, without its sway), each
    // measured against that picture.
    await page.selectOption('#target-kind', 'image');
    await page.setInputFiles('#image-input', { name: 'camera.png', mimeType: 'image/png', buffer: await encodePng(camera) });
    const still = () => grab(page, '#preview');
    const both = (preview: Image) => ({ eyes: meanAbsDiff(preview, camera, ...areas.eyes), mouth: meanAbsDiff(preview, camera, ...areas.mouth) });
    // The swapper: the whole face changes.
    const swapped = await until(page, still, both, (v) => v.eyes > 8 && v.mouth > 8, 'the stand-in swapper paints the face');
    assert.ok(findLabel(await still()), 'the still carries the label');

    // XSeg: what it reports covered (the mouth and chin) stays the picture's; the eyes stay swapped.
    await page.selectOption('#occlusion-mask', 'xseg_1');
    const occluded = await until(page, still, both, (v) => v.mouth < 3 && Math.abs(v.eyes - swapped.eyes) < 2, 'XSeg keeps the covered mouth');
    const occludedFrame = await still();
    step('still and XSeg');

    // The enhancer: the (near-white) enhanced face over the swapped one, at 100 %.
    await page.selectOption('#face-enhancer', 'gfpgan_1.4');
    await page.locator('#face-enhancer-blend').fill('100');
    assert.equal(await page.textContent('#face-enhancer-blend-value'), '100 %');
    const enhanced = await until(
      page,
      still,
      (preview) => meanAbsDiff(preview, occludedFrame, ...areas.eyes),
      (v) => v > 20,
      'the enhancer changes the swapped face',
    );

    // A pixel boost: the same swapper in 2×2 tiles. The stand-in paints one colour, so the tiled face
    // is the unboosted one (the enhancer off again), with the mouth still covered.
    await page.selectOption('#pixel-boost', '512');
    await page.selectOption('#face-enhancer', 'none');
    const boosted = await until(page, still, both, (v) => Math.abs(v.eyes - occluded.eyes) < 2 && v.mouth < 3, 'the boosted swap paints the face as the plain one');
    assert.ok(findLabel(await still()), 'the label stays on every frame');

    step('enhancer and boost');
    // An enhancer that will not load is turned off with a message; the engine goes on.
    await page.selectOption('#face-enhancer', 'gpen_bfr_256');
    const said = page.locator('#messages .message[data-kind="model"]');
    await said.waitFor({ timeout: 30_000 });
    assert.match((await said.textContent()) ?? '', /gpen_bfr_256 did not load, so it is turned off and the swap goes on/);
    assert.equal(await page.inputValue('#face-enhancer'), 'none');
    assert.equal(await page.evaluate(() => document.body.dataset.engine), 'ready');

    // Settings are kept for the next visit.
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('liveswap.settings') ?? '{}') as Record<string, unknown>);
    assert.equal(stored.engine, 'hyperswap_1a_256');
    assert.equal(stored.occlusionMask, 'xseg_1');
    assert.equal(stored.faceEnhancerBlend, 100);
    assert.equal(stored.faceEnhancer, 'none');
    assert.equal(stored.pixelBoost, 512);
    const round = (v: Record<string, number>) => JSON.stringify(Object.fromEntries(Object.entries(v).map(([k, x]) => [k, Math.round(x * 10) / 10])));
    step('broken enhancer');
    process.stdout.write(
      `# face change (mean abs diff, 0-255): camera eyes ${live.toFixed(1)}; still: swapped ${round(swapped)}, XSeg ${round(occluded)}, enhanced ${enhanced.toFixed(1)}, boosted ${round(boosted)}\n# steps: ${steps.join(', ')}\n`,
    );
    assert.deepEqual(errors, []);
  });
});

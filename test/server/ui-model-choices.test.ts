/**
 * What `liveswap ui` tells its page about FaceFusion's models, over real sockets: each swapper,
 * enhancer, occluder and parser is listed as installed (its files served under /models/store/, as
 * verified) or not (with the command that installs it); only listed files are served, nothing
 * outside them by any spelling of the name; a file pulled while the server runs shows up on the
 * next /api/info. Also the pixel boosts an engine can tile, the server-side session's wire settings that carry them, and a server-side session
 * (`process on: the server`) swapping with a FaceFusion swapper, XSeg and a pixel boost.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MODEL_SPECS } from '../../src/models/model-spec.js';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';
import { FrameSession, LIVE_JPEG_QUALITY } from '../../src/node/live/frame-session.js';
import { decodeImage, encodeImage } from '../../src/node/media/image-io.js';
import { loadWatermarkKey, OutputProvenance } from '../../src/node/provenance/output-provenance.js';
import { effectivePixelBoost, pixelBoostsFor, type ServerInfo } from '../../src/pipeline/live-options.js';
import type { LiveServerMessage } from '../../src/pipeline/live-wire.js';
import { parseClientMessage } from '../../src/pipeline/live-wire.js';
import { createUiServer, type UiServer } from '../../src/server/ui-server.js';
import { framedPhoto } from '../helpers/clips.js';
import { swapperStandin } from '../helpers/facefusion-standins.js';
import { loadFixture, meanAbsDiff, TEST_HOME } from '../helpers/fixtures.js';
import { arcfaceStandin, scrfdStandin, standinStore } from '../helpers/standin-models.js';
import { xsegStandin } from '../masks/mask-standins.js';

/** A GET with the path sent exactly as written (fetch would normalise `..` and `%2e%2e`). */
function get(server: UiServer, path: string): Promise<{ status: number; body: Buffer }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe("ui server: FaceFusion's models for the page", () => {
  let dir: string;
  let server: UiServer;
  let store: Awaited<ReturnType<typeof standinStore>>;
  const files: Record<string, Buffer> = {
    det_10g: randomBytes(3000),
    w600k_r50: randomBytes(2000),
    hyperswap_1a_256: randomBytes(4000),
    simswap_256: randomBytes(1000),
    'gfpgan_1.4': randomBytes(500),
    xseg_1: randomBytes(700),
    bisenet_resnet_18: randomBytes(600),
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-ui-models-'));
    const webRoot = join(dir, 'web');
    await mkdir(webRoot, { recursive: true });
    await writeFile(join(webRoot, 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(join(dir, 'outside.onnx'), 'not served');
    store = await standinStore(join(dir, 'home'), files);
    server = await createUiServer({ webRoot, home: TEST_HOME, store, port: 0 });
  });
  after(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists every row, installed with its bytes or missing with the command that installs it', async () => {
    const info = JSON.parse((await get(server, '/api/info')).body.toString()) as ServerInfo;
    const choices = info.choices!;
    assert.deepEqual(
      choices.swappers.map((c) => c.id),
      [
        'hyperswap_1a_256',
        'hyperswap_1b_256',
        'hyperswap_1c_256',
        'simswap_256',
        'simswap_unofficial_512',
        'ghost_1_256',
        'ghost_2_256',
        'ghost_3_256',
        'blendswap_256',
        'uniface_256',
        'hififace_unofficial_256',
      ],
    );
    assert.deepEqual(choices.swappers[0], { id: 'hyperswap_1a_256', installed: true, bytes: 9000 });
    // simswap_256's own file is there, its converter is not.
    assert.deepEqual(
      choices.swappers.find((c) => c.id === 'simswap_256'),
      { id: 'simswap_256', installed: false, pull: 'liveswap models pull --for simswap_256', missing: ['crossface_simswap'] },
    );
    assert.deepEqual(
      choices.enhancers.filter((c) => c.installed).map((c) => [c.id, c.bytes]),
      [['gfpgan_1.4', 500]],
    );
    assert.equal(choices.enhancers.find((c) => c.id === 'codeformer')?.pull, 'liveswap models pull --for codeformer');
    assert.deepEqual(
      choices.occluders.map((c) => [c.id, c.installed, c.pull ?? null]),
      [
        ['xseg_1', true, null],
        ['xseg_2', false, 'liveswap models pull --for xseg_2'],
        ['xseg_3', false, 'liveswap models pull --for xseg_3'],
        ['all', false, 'liveswap models pull xseg_2 xseg_3'],
      ],
    );
    assert.deepEqual(
      choices.parsers.map((c) => [c.id, c.installed]),
      [
        ['bisenet_resnet_18', true],
        ['bisenet_resnet_34', false],
      ],
    );
    assert.deepEqual(Object.keys(info.models.files ?? {}).sort(), Object.keys(files).sort());
    assert.equal(info.models.files?.hyperswap_1a_256, '/models/store/hyperswap_1a_256.onnx');
  });

  it('serves the listed files and nothing else', async () => {
    for (const [id, bytes] of Object.entries(files)) {
      const answer = await get(server, `/models/store/${store.entries([id])[0]!.file}`);
      assert.equal(answer.status, 200, id);
      assert.ok(answer.body.equals(bytes), id);
    }
    for (const path of [
      '/models/store/codeformer.onnx',
      '/models/store/..%2Foutside.onnx',
      '/models/store/%2e%2e%2f%2e%2e%2foutside.onnx',
      '/models/store/',
      '/models/store/.verified.json',
    ]) {
      assert.equal((await get(server, path)).status, 404, path);
    }
  });

  it('shows a file installed while the server runs on the next /api/info', async () => {
    const codeformer = store.entries(['codeformer'])[0]!;
    assert.equal((await get(server, `/models/store/${codeformer.file}`)).status, 404);
    // The stand-in registry pins a one-byte file for rows without one.
    await writeFile(store.pathOf(codeformer), Buffer.from([0]));
    const info = JSON.parse((await get(server, '/api/info')).body.toString()) as ServerInfo;
    assert.equal(info.choices?.enhancers.find((c) => c.id === 'codeformer')?.installed, true);
    assert.equal((await get(server, `/models/store/${codeformer.file}`)).status, 200);
  });
});

describe("the page's model settings", () => {
  it('offers the boosts each engine can tile, and leaves out one it cannot', () => {
    assert.deepEqual(pixelBoostsFor('mesh'), []);
    assert.deepEqual(pixelBoostsFor('inswapper'), [256, 384, 512, 768, 1024]);
    assert.deepEqual(pixelBoostsFor('hyperswap_1a_256'), [512, 768, 1024]);
    assert.deepEqual(pixelBoostsFor('simswap_unofficial_512'), [1024]);
    assert.equal(effectivePixelBoost('simswap_unofficial_512', 768), undefined);
    assert.equal(effectivePixelBoost('simswap_256', 768), 768);
    assert.equal(effectivePixelBoost('mesh', 512), undefined);
  });

  it('carries the masks, the enhancer and the boost to a server-side session, checked', () => {
    const message = parseClientMessage(
      JSON.stringify({
        type: 'settings',
        settings: {
          maskRegions: ['nose', 'nose'],
          keepRegions: null,
          maskStrength: 0.5,
          faceParser: 'bisenet_resnet_34',
          occlusionMask: 'xseg_2',
          faceEnhancer: 'gpen_bfr_512',
          faceEnhancerBlend: 40,
          faceEnhancerWeight: 0.25,
          pixelBoost: 768,
        },
      }),
    );
    assert.deepEqual(message, {
      type: 'settings',
      settings: {
        maskRegions: ['nose'],
        keepRegions: null,
        maskStrength: 0.5,
        faceParser: 'bisenet_resnet_34',
        occlusionMask: 'xseg_2',
        faceEnhancer: 'gpen_bfr_512',
        faceEnhancerBlend: 40,
        faceEnhancerWeight: 0.25,
        pixelBoost: 768,
      },
    });
    const junk = parseClientMessage(
      JSON.stringify({ type: 'settings', settings: { maskRegions: ['ears'], maskStrength: 2, faceParser: 'x', occlusionMask: 'xseg_9', faceEnhancer: 1, pixelBoost: 300 } }),
    );
    assert.deepEqual(junk, { type: 'settings', settings: {} });
  });
});

describe('server-side processing with the same settings', () => {
  it("swaps with a FaceFusion swapper and keeps XSeg's covered part, as the browser does", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'liveswap-ui-models-server-'));
    const camera = await framedPhoto('astronaut.png', 640, 360);
    const mesh = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
    const [face] = await mesh.analyze(camera);
    await mesh.close();
    assert.ok(face);
    const centred = (v: ArrayLike<number>) => Array.from(v, (x) => x - 0.5);
    const box = centred([face.box[0], face.box[1], face.box[0] + face.box[2], face.box[1] + face.box[3]]) as [number, number, number, number];
    const store = await standinStore(join(dir, 'home'), {
      det_10g: scrfdStandin([{ box, kps5: centred(face.kps5), score: 0.92 }]),
      w600k_r50: arcfaceStandin(),
      hyperswap_1a_256: swapperStandin(MODEL_SPECS.hyperswap_1a_256, 'source'),
      // Covered from below the nose down, in hyperswap's 256 crop.
      xseg_1: xsegStandin('xseg_1', [0, 150, 256, 256]),
    });
    const swapper = await createNodeSwapper({ home: TEST_HOME, store, engine: 'hyperswap_1a_256' });
    const sent: { message: LiveServerMessage; picture?: Buffer }[] = [];
    const key = await loadWatermarkKey(join(dir, 'home'));
    const provenance = new OutputProvenance(join(dir, 'home'), key, 7, { label: true }, 'video');
    const session = new FrameSession({
      swapper,
      acceptSources: true,
      labelOptional: true,
      provenance,
      maxPixels: 1e7,
      send: (message, picture) => sent.push({ message, picture }),
    });
    try {
      await session.receiveSource(await encodeImage(await loadFixture('grace_hopper.jpg'), 'png'));
      const [lex, ley, rex, rey, , , lmx, lmy, rmx, rmy] = Array.from(face.kps5);
      const d = (lmy! + rmy!) / 2 - (ley! + rey!) / 2;
      const eyes = [lex!, (ley! + rey!) / 2 - 0.1 * d, rex!, (ley! + rey!) / 2 + 0.3 * d].map(Math.round) as [number, number, number, number];
      const mouth = [lmx! + 2, (lmy! + rmy!) / 2 - 0.1 * d, rmx! - 2, (lmy! + rmy!) / 2 + 0.25 * d].map(Math.round) as [number, number, number, number];
      const frame = await encodeImage(camera, 'png');
      const swapOnce = async (): Promise<{ eyes: number; mouth: number }> => {
        const before = sent.length;
        session.receiveFrame(frame);
        for (let i = 0; i < 600 && !sent.slice(before).some((s) => s.picture); i++) await new Promise((r) => setTimeout(r, 50));
        const back = sent.slice(before).find((s) => s.picture);
        assert.ok(back?.picture, `a frame came back: ${JSON.stringify(sent.slice(before).map((s) => s.message))}`);
        const picture = await decodeImage(back.picture, 'the frame', { maxPixels: 1e7 });
        return { eyes: meanAbsDiff(picture, camera, ...eyes), mouth: meanAbsDiff(picture, camera, ...mouth) };
      };
      session.updateSettings({ mouthMask: false });
      const swapped = await swapOnce();
      assert.ok(swapped.eyes > 8 && swapped.mouth > 8, `the face is swapped (${JSON.stringify(swapped)})`);
      session.updateSettings({ occlusionMask: 'xseg_1', pixelBoost: 512 });
      const occluded = await swapOnce();
      // The frames come back as JPEG (and watermarked): the camera's own picture through JPEG is the measure of "unchanged".
      const jpeg = await decodeImage(await encodeImage(camera, 'jpeg', { quality: LIVE_JPEG_QUALITY }), 'the camera as JPEG', { maxPixels: 1e7 });
      const noise = meanAbsDiff(jpeg, camera, ...mouth);
      assert.ok(
        occluded.mouth < noise + 2 && occluded.eyes > 8,
        `XSeg's covered mouth stays the camera's (JPEG alone: ${noise.toFixed(1)}), the eyes swapped (${JSON.stringify(occluded)}, without XSeg ${JSON.stringify(swapped)})`,
      );
    } finally {
      await session.close();
      await swapper.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

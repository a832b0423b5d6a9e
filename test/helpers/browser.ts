/**
 * Browser tests: Debian's chromium driven by playwright-core, a fake camera fed from a clip made
 * from the fixture photos, and the web app built into a temporary folder and served by the real
 * `liveswap ui` server. Without chromium the tests are skipped with a notice that says so.
 */

import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';
import { lastLines, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { framedPhoto } from './clips.js';
import { encodePng } from './fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The Chromium binary: LIVESWAP_CHROMIUM, or Debian's / the usual install paths. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.LIVESWAP_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p): p is string => Boolean(p) && existsSync(p!));
}

let noticeShown = false;

/** Why browser tests cannot run here (printed once, visibly), or undefined when they can. */
export function browserSkipReason(): string | undefined {
  if (chromiumPath()) return undefined;
  const reason = "chromium not found (install Debian's chromium, or set LIVESWAP_CHROMIUM): browser tests skipped";
  if (!noticeShown) {
    noticeShown = true;
    process.stderr.write(`\n*** ${reason} ***\n\n`);
  }
  return reason;
}

/** Flags that keep Chromium quiet on a machine with no network, as root, without a GPU. */
const QUIET = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface LaunchChoice {
  /** A .y4m file the fake camera plays (looped); false: no camera device at all. */
  camera: string | false;
  /** Accept camera permission prompts automatically (else they are denied). */
  allowCamera: boolean;
}

export async function launchChromium({ camera, allowCamera }: LaunchChoice): Promise<Browser> {
  const args = [...QUIET];
  if (camera) args.push('--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera}`);
  if (allowCamera) args.push('--use-fake-ui-for-media-stream');
  else args.push('--deny-permission-prompts');
  const options: LaunchOptions = { executablePath: chromiumPath(), headless: true, args };
  return chromium.launch(options);
}

/** A fresh context (its own storage, cache and permissions). */
export function newContext(browser: Browser, allowCamera: boolean): Promise<BrowserContext> {
  return browser.newContext({ permissions: allowCamera ? ['camera'] : [], viewport: { width: 1280, height: 900 } });
}

/**
 * A camera clip for Chromium's fake device: the photo fitted into width×height, held for `seconds`
 * with a slight drift so frames differ, as raw Y4M (what the fake device reads).
 */
export async function fakeCameraClip(dir: string, photo = 'astronaut.png', width = 640, height = 360, seconds = 2, fps = 30): Promise<string> {
  const still = join(dir, 'camera-still.png');
  await writeFile(still, await encodePng(await framedPhoto(photo, width, height)));
  const clip = join(dir, 'camera.y4m');
  // A one-pixel sway (pad then crop at a moving offset) keeps the face moving a little, as on a webcam.
  const filter = `pad=${width + 4}:${height + 4}:2:2:color=0x3c3c3c,crop=${width}:${height}:'2+sin(t*3)':'2+cos(t*2)',format=yuv420p`;
  const run = await runFfmpeg([
    '-loglevel',
    'error',
    '-y',
    '-loop',
    '1',
    '-framerate',
    String(fps),
    '-i',
    still,
    '-t',
    String(seconds),
    '-vf',
    filter,
    '-pix_fmt',
    'yuv420p',
    '-f',
    'yuv4mpegpipe',
    clip,
  ]);
  if (run.code !== 0) throw new Error(`fakeCameraClip: ffmpeg failed: ${lastLines(run.stderr)}`);
  return clip;
}

let built: Promise<string> | undefined;

/** Builds the web app once per test process into a temporary folder, so tests never serve a stale build. */
export function buildWebApp(): Promise<string> {
  built ??= (async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'liveswap-web-'));
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    return outDir;
  })();
  return built;
}

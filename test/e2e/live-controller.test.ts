/**
 * The adaptive quality controller in the live app, in headless Chromium: with a frame-rate target
 * the machine cannot hold (120 fps from a 60 fps camera, set as a visitor's stored setting), the
 * worker's controller steps down — searching for faces and detecting them less often, then working
 * at a lower resolution — to the
 * bottom of its ladder, and the page's stats say so: the target, the rate, dropped frames per
 * second and what the controller changed and why.
 */

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createUiServer, type UiServer } from '../../src/server/ui-server.js';
import { browserSkipReason, buildWebApp, fakeCameraClip, launchChromium, newContext } from '../helpers/browser.js';
import { closeE2e, collectPageErrors } from '../helpers/e2e-page.js';
import { FIXTURES, TEST_HOME } from '../helpers/fixtures.js';

const skip = browserSkipReason();

describe('live app: adaptive quality in Chromium', { skip }, () => {
  let server: UiServer;
  let dir: string;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    const webRoot = await buildWebApp();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-e2e-controller-'));
    server = await createUiServer({ home: TEST_HOME, port: 0, webRoot });
    browser = await launchChromium({ camera: await fakeCameraClip(dir, 'astronaut.png', 640, 360, 2, 60), allowCamera: true });
    const context = await newContext(browser, true);
    // A visitor who asked for more than the machine can give.
    await context.addInitScript(() => localStorage.setItem('liveswap.settings', JSON.stringify({ targetFps: 120, showFps: true })));
    page = await context.newPage();
    collectPageErrors(page, errors);
  });

  after(() => closeE2e({ browser, server, dir }));

  it('steps down under an overloaded frame budget and the stats show what it changed', async () => {
    await page.goto(server.url);
    await page.waitForFunction(() => document.body.dataset.engine === 'ready', undefined, { timeout: 120_000 });
    await page.setInputFiles('#source-input', join(FIXTURES, 'grace_hopper.jpg'));
    await page.locator('#sources .source-face').first().waitFor({ timeout: 60_000 });
    await page.selectOption('#target-kind', 'camera');
    await page.click('#start');
    const fps = page.locator('#fps');
    await page.waitForFunction(() => document.querySelector('#fps')?.getAttribute('data-target') === '120', undefined, { timeout: 60_000 });
    // Four rungs down (two at a time when far short of the target): the bottom of the ladder.
    await page
      .waitForFunction(() => Number(document.querySelector('#fps')?.getAttribute('data-level') ?? 0) >= 4, undefined, { timeout: 60_000 })
      .catch(async (error: Error) => {
        throw new Error(`${error.message}; the stats say: ${await fps.textContent()}; the page shows: ${(await page.textContent('#messages'))?.trim() || 'no message'}`);
      });
    const controller = (await fps.getAttribute('data-controller')) ?? '';
    // Far short of 120 fps the controller steps two rungs at a time, so the last step comes from 100 % (or from 75 % when one step was a single rung).
    assert.match(controller, /^down: face search every 4 → 6 frames, detection 2× → 3× less often, working resolution (100|75) → 50 % \(/);
    assert.match(controller, /fps < 120 target, processing busy \d+ %/);
    const text = (await fps.textContent()) ?? '';
    assert.match(text, /^\d+ of 120 fps · \d+ dropped\/s · quality 1\/5: face search every 4 → 6 frames/);
    assert.match((await fps.getAttribute('title')) ?? '', /^Adaptive quality: .+, because .+\.$/);
    assert.ok(Number(await fps.getAttribute('data-dropped-per-second')) >= 0);
    assert.deepEqual(errors, []);
  });
});

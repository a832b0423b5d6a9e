/**
 * What the live app's Chromium tests share around a page: the page's errors gathered for the test to
 * assert on, and the browser, ui server and temporary folder closed after the run.
 */

import { rm } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import type { UiServer } from '../../src/server/ui-server.js';

/** Pushes the page's uncaught errors and console errors onto `errors`. */
export function collectPageErrors(page: Page, errors: string[]): void {
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
}

/** Closes the browser and the ui server and removes the folder; any may be missing when `before` failed. */
export async function closeE2e(parts: { browser?: Browser; server?: UiServer; dir?: string }): Promise<void> {
  await parts.browser?.close();
  await parts.server?.close();
  if (parts.dir) await rm(parts.dir, { recursive: true, force: true });
}

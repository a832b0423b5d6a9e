/**
 * `liveswap ui`: serves the live face-swap app and its OBS output page until Ctrl-C. Stopping it
 * is the normal way to end it, so a signal closes the server and exits 0.
 */

import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { invalidOption, LiveswapError } from '../core/errors.js';
import type { ServerInfo } from '../pipeline/live-options.js';
import { checkLabelText } from '../provenance/label.js';
import { DEFAULT_UI_HOST, DEFAULT_UI_PORT } from '../server/defaults.js';
import type { UiServer, UiServerOptions } from '../server/ui-server.js';
import type { Terminal } from './errors.js';
import { addFlags, type FlagsOf } from './option-table.js';
import { stopped } from './until-stopped.js';

export type UiFlags = FlagsOf<'ui'>;

export interface UiDeps {
  /** Starts the server (default: createUiServer, loaded on demand). */
  start?: (options: UiServerOptions) => Promise<UiServer>;
  /** Opens a URL in the system browser; rejects when it cannot. */
  openUrl?: (url: string) => Promise<void>;
  /** Ends serving when aborted (default: SIGINT or SIGTERM). */
  signal?: AbortSignal;
}

export function createUiCommand(run: (flags: UiFlags) => Promise<void>): Command {
  return addFlags(new Command('ui'), 'ui')
    .description('Serve the live face-swap app in the browser (camera in, swapped video out, with an output page for OBS).')
    .action(async (flags: UiFlags) => run(flags));
}

export function parsePort(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_UI_PORT;
  const port = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(port) || port > 65535) throw invalidOption('--port', 'a whole number from 0 to 65535', raw);
  return port;
}

function parseLabelText(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    return checkLabelText(raw);
  } catch (error) {
    throw new LiveswapError('usage', `--label-text: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function parseHost(raw: string | undefined): string {
  if (raw === undefined) return DEFAULT_UI_HOST;
  const host = raw.trim();
  if (host === '' || /[\s/]/.test(host)) throw invalidOption('--host', 'an IP address or host name such as 127.0.0.1 or 0.0.0.0', raw);
  return host;
}

export async function runUi(flags: UiFlags, terminal: Terminal, deps: UiDeps = {}): Promise<void> {
  const port = parsePort(flags.port);
  const host = parseHost(flags.host);
  const labelText = parseLabelText(flags.labelText);
  const { isLoopbackHost } = await import('../server/origin.js');
  const start = deps.start ?? (await import('../server/ui-server.js')).createUiServer;
  const server = await start({
    host,
    port,
    ...(flags.webRoot !== undefined ? { webRoot: flags.webRoot } : {}),
    ...(flags.watermarkKey !== undefined ? { watermarkKeyFile: flags.watermarkKey } : {}),
    ...(labelText !== undefined ? { labelText } : {}),
  });
  try {
    const info = await server.info();
    terminal.out(`liveswap ui: ${server.url}`);
    terminal.out(`Output page for OBS (browser source): ${server.outputUrl}`);
    terminal.out(engineLine(info));
    terminal.out(
      `Every frame is labelled "${info.provenance.labelText}" and watermarked (key ${server.watermarkKey.path}${server.watermarkKey.created ? ', made now' : ''}); saved recordings and snapshots are logged in the audit log.`,
    );
    if (!isLoopbackHost(host)) {
      terminal.err(
        `liveswap: warning: listening on ${host}: the app, the models and your watermark key are reachable from the network, by anyone who can reach this machine on port ${new URL(server.url).port}. Use --host 127.0.0.1 to keep them on this machine.`,
      );
    }
    terminal.out('Press Ctrl-C to stop.');
    if (flags.open) {
      await (deps.openUrl ?? openInBrowser)(server.url).catch((error: unknown) => {
        terminal.err(`liveswap: could not open a browser (${error instanceof Error ? error.message : String(error)}); open ${server.url} yourself.`);
      });
    }
    await stopped(deps.signal);
  } finally {
    await server.close();
  }
}

/**
 * The start-up line that says what the page can run: mesh and inswapper as before, then the
 * FaceFusion swappers and the enhancer, occlusion and parser models installed and verified.
 */
export function engineLine(info: ServerInfo): string {
  const base =
    info.engines.inswapper && info.models.inswapper
      ? `Engines: mesh and inswapper (${(info.models.inswapper.bytes / 1e6).toFixed(0)} MB of models to load in the browser).`
      : // The notice already names the mesh engine and says how to add inswapper.
        (info.inswapperNotice ?? 'Engine: mesh.');
  const choices = info.choices;
  if (!choices) return base;
  const installed = (list: readonly { id: string; installed: boolean }[]): string[] => list.filter((choice) => choice.installed).map((choice) => choice.id);
  const extras: [string, string[]][] = [
    ['swappers', installed(choices.swappers)],
    ['enhancers', installed(choices.enhancers)],
    ['occlusion', installed(choices.occluders)],
    ['parsers', installed(choices.parsers)],
  ];
  const listed = extras.filter(([, ids]) => ids.length > 0).map(([kind, ids]) => `${kind} ${ids.join(', ')}`);
  return listed.length === 0 ? base : `${base} Also installed: ${listed.join('; ')}.`;
}

/** The platform's "open this URL" command, detached so the browser outlives nothing of ours. */
export function browserCommand(url: string, platform: NodeJS.Platform = process.platform): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // `start` takes its first quoted argument as a window title, hence the empty one.
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', url] };
  return { command: 'xdg-open', args: [url] };
}

/** Rejects when the opener is missing or fails quickly; a browser that takes long is not waited for. */
export function openInBrowser(url: string): Promise<void> {
  const { command, args } = browserCommand(url);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { detached: true, stdio: 'ignore', windowsVerbatimArguments: process.platform === 'win32' });
    const timer = setTimeout(() => {
      child.unref();
      resolve();
    }, 3000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new LiveswapError('usage', `${command}: ${error.message}`, { cause: error }));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      child.unref();
      if (code === 0) resolve();
      else reject(new LiveswapError('usage', `${command} exited with code ${code}`));
    });
  });
}

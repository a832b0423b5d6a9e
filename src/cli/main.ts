#!/usr/bin/env node
/**
 * The `liveswap` command: catches Ctrl-C and SIGTERM before anything else is loaded, parses the
 * command line, runs a subcommand and turns any failure into a one-line message and the exit code
 * of its kind (see EXIT_CODES). The only file that writes process.env.
 *
 * Signals: the first one aborts the signal the command's job was given; work that cannot be
 * cancelled midway (a model load, an image encode) finishes, the job then stops before publishing,
 * removes its temporaries and the command exits 130. A command that takes no signal, or a second
 * signal, stops the process at once: this process's temporaries are removed and it exits 130.
 */

import { LiveswapError } from '../core/errors.js';
import { removeOwnTemporaries, removeStaleTemporaries } from '../node/files/output.js';
import { processTerminal, reportFailure, type Terminal } from './errors.js';
import type { Interrupts } from './program.js';

const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const INTERRUPTED_CODE = 130;

/** The state of one run's interrupts; `install` hooks it to the process's signals. */
function createInterrupts(terminal: Terminal): Interrupts & { install(): void; readonly received: string | undefined; readonly mode: 'job' | 'serve' | undefined } {
  const controller = new AbortController();
  let mode: 'job' | 'serve' | undefined;
  let received: string | undefined;
  const onSignal = (name: string): void => {
    if (received === undefined && mode !== undefined) {
      received = name;
      if (mode === 'job') terminal.err(`liveswap: interrupted (${name}); stopping. Press Ctrl-C again to stop at once.`);
      controller.abort(new LiveswapError('interrupted', `Interrupted by ${name} before the work was finished; nothing was saved.`));
      return;
    }
    // No command that stops cleanly is running, or this is the second signal: stop now.
    terminal.err(`liveswap: interrupted (${name}); stopped at once, nothing was saved.`);
    removeOwnTemporaries();
    process.exit(INTERRUPTED_CODE);
  };
  return {
    signal: controller.signal,
    cooperate: (m) => (mode = m),
    install: () => {
      for (const name of INTERRUPT_SIGNALS) process.on(name, () => onSignal(name));
    },
    get received() {
      return received;
    },
    get mode() {
      return mode;
    },
  };
}

export async function main(argv: readonly string[], terminal: Terminal = processTerminal): Promise<number> {
  const interrupts = createInterrupts(terminal);
  interrupts.install();
  // onnxruntime-node otherwise writes telemetry files (mat-debug-<pid>.log, .ses) into the temp
  // folder and reads /etc/machine-id on every run; it reads this when its first session is made.
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  const json = argv.includes('--json');
  const debug = process.env.LIVESWAP_DEBUG === '1';
  let code = 0;
  try {
    // What a run killed outright (SIGKILL) left in the temp folder; outputs' folders are tidied when written.
    await removeStaleTemporaries();
    const { createProgram } = await import('./program.js');
    await createProgram(terminal, (c) => (code = c), interrupts).parseAsync([...argv]);
    return code;
  } catch (error) {
    // Once interrupted, whatever failed next (an ffmpeg that got the same Ctrl-C) was the interrupt.
    const interrupted = interrupts.received !== undefined && interrupts.mode === 'job';
    const reported = interrupted && !(error instanceof LiveswapError && error.kind === 'interrupted') ? (interrupts.signal.reason as unknown) : error;
    return reportFailure(reported, { json, debug, terminal });
  }
}

const code = await main(process.argv);
process.exitCode = code;
// libwebrtc's bindings (liveswap live's WHEP output) crash when Node tears down by itself: once they
// are loaded, the process leaves through process.exit, after what it wrote has been flushed.
if ((await import('../node/live/webrtc-viewers.js')).webrtcLoaded()) {
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
  process.exit(code);
}
// If a native library keeps a handle open after the work is done, do not hang the shell.
setTimeout(() => process.exit(code), 2000).unref();

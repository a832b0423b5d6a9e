/**
 * The program behind the `liveswap` command: every subcommand, with the terminal, the exit-code
 * hook and the interrupt signal injected. Kept apart from main.ts so main can catch signals before
 * any of this is loaded.
 */

import { Command } from 'commander';
import { createBenchCommand, runBenchCommand } from './bench-command.js';
import { createDemoCommand, runDemo } from './demo-command.js';
import { createEvalCommand, runEvalCommand } from './eval-command.js';
import { createFacesCommand, runFacesScan } from './faces-command.js';
import { createModelsCommand } from './models-command.js';
import type { Terminal } from './errors.js';
import { ownVersion } from '../node/files/package-info.js';
import { createSwapCommand, runSwap } from './swap-command.js';
import { createTalkCommand, runTalk } from './talk-command.js';
import { createServeCommand, runServe } from './serve-command.js';
import { createUiCommand, runUi } from './ui-command.js';
import { createVerifyCommand, runVerify } from './verify-command.js';
import { createAuditCommand, runAudit } from './audit-command.js';
import { createTokensCommand, runTokensCreate, runTokensList, runTokensRevoke } from './tokens-command.js';
import { createProtectCommand, runProtectAdd, runProtectList, runProtectRemove } from './protect-command.js';
import { createWorkerCommand, runWorker } from './worker-command.js';
import { createLiveCommand, runLiveCommand } from './live-command.js';

/**
 * What the commands learn of Ctrl-C and SIGTERM: the signal aborts when one arrives, and a command
 * that stops cleanly on it says so with `cooperate` (otherwise main stops the process at once).
 */
export interface Interrupts {
  signal: AbortSignal;
  /** `job`: the signal cancels work (exit 130); `serve`: it is the normal way to end (exit 0, no message). */
  cooperate(mode: 'job' | 'serve'): void;
}

/**
 * `setExit` lets a command that succeeded still say something with its exit code (verify's
 * verdicts); `interrupts` is main's (tests leave it out and no command sees a signal).
 */
export function createProgram(terminal: Terminal, setExit: (code: number) => void = () => undefined, interrupts?: Interrupts): Command {
  const cancellable = (mode: 'job' | 'serve'): AbortSignal | undefined => {
    interrupts?.cooperate(mode);
    return interrupts?.signal;
  };
  const program = new Command('liveswap')
    .description('Real-time face swap from one photo. Start with `liveswap demo`.')
    .version(ownVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => terminal.out(text),
      writeErr: (text) => terminal.err(text),
      outputError: (text, write) => write(text.replace(/^error: /, 'liveswap: ')),
    });
  // addCommand does not pass the exit override and output settings on by itself.
  program.addCommand(createSwapCommand((flags) => runSwap(flags, terminal, undefined, cancellable('job'))).copyInheritedSettings(program));
  program.addCommand(createTalkCommand((flags) => runTalk(flags, terminal, cancellable('job'))).copyInheritedSettings(program));
  program.addCommand(createDemoCommand((flags) => runDemo(flags, terminal)).copyInheritedSettings(program));
  program.addCommand(createEvalCommand((flags) => runEvalCommand(flags, terminal)).copyInheritedSettings(program));
  program.addCommand(createBenchCommand((flags) => runBenchCommand(flags, terminal)).copyInheritedSettings(program));
  program.addCommand(createModelsCommand(terminal).copyInheritedSettings(program));
  program.addCommand(createFacesCommand((video, flags) => runFacesScan(video, flags, terminal)).copyInheritedSettings(program));
  program.addCommand(createUiCommand((flags) => runUi(flags, terminal, withSignal(cancellable('serve')))).copyInheritedSettings(program));
  program.addCommand(createServeCommand((flags) => runServe(flags, terminal, withSignal(cancellable('serve')))).copyInheritedSettings(program));
  program.addCommand(createVerifyCommand((files, flags) => runVerify(files, flags, terminal), setExit).copyInheritedSettings(program));
  program.addCommand(createAuditCommand((flags) => runAudit(flags, terminal, undefined, setExit)).copyInheritedSettings(program));
  program.addCommand(
    createTokensCommand({
      create: (flags) => runTokensCreate(flags, terminal),
      list: (flags) => runTokensList(flags, terminal),
      revoke: (id, flags) => runTokensRevoke(id, flags, terminal),
    }).copyInheritedSettings(program),
  );
  program.addCommand(
    createProtectCommand({
      add: (photos, flags) => runProtectAdd(photos, flags, terminal),
      list: (flags) => runProtectList(flags, terminal),
      remove: (id, flags) => runProtectRemove(id, flags, terminal),
    }).copyInheritedSettings(program),
  );
  program.addCommand(createLiveCommand((flags) => runLiveCommand(flags, { terminal, ...withSignal(cancellable('serve')) })).copyInheritedSettings(program));
  program.addCommand(createWorkerCommand((flags) => runWorker(flags, terminal, cancellable('serve'))).copyInheritedSettings(program));
  return program;
}

function withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

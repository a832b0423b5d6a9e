#!/usr/bin/env node
/**
 * The `liveswap` command: parses the command line, runs a subcommand and turns any failure into a
 * one-line message and the exit code of its kind (see EXIT_CODES).
 */

import { Command } from 'commander';
import { createBenchCommand, runBenchCommand } from './bench-command.js';
import { createDemoCommand, runDemo } from './demo-command.js';
import { createEvalCommand, runEvalCommand } from './eval-command.js';
import { createFacesCommand, runFacesScan } from './faces-command.js';
import { createModelsCommand } from './models-command.js';
import { processTerminal, reportFailure, type Terminal } from './errors.js';
import { ownVersion } from '../node/files/package-info.js';
import { createSwapCommand, runSwap } from './swap-command.js';
import { createUiCommand, runUi } from './ui-command.js';
import { createVerifyCommand, runVerify } from './verify-command.js';
import { createAuditCommand, runAudit } from './audit-command.js';

/** `setExit` lets a command that succeeded still say something with its exit code (verify's verdicts). */
export function createProgram(terminal: Terminal, setExit: (code: number) => void = () => undefined): Command {
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
  program.addCommand(createSwapCommand((flags) => runSwap(flags, terminal)).copyInheritedSettings(program));
  program.addCommand(createDemoCommand((flags) => runDemo(flags, terminal)).copyInheritedSettings(program));
  program.addCommand(createEvalCommand((flags) => runEvalCommand(flags, terminal)).copyInheritedSettings(program));
  program.addCommand(createBenchCommand((flags) => runBenchCommand(flags, terminal)).copyInheritedSettings(program));
  program.addCommand(createModelsCommand(terminal).copyInheritedSettings(program));
  program.addCommand(createFacesCommand((video, flags) => runFacesScan(video, flags, terminal)).copyInheritedSettings(program));
  program.addCommand(createUiCommand((flags) => runUi(flags, terminal)).copyInheritedSettings(program));
  program.addCommand(createVerifyCommand((files, flags) => runVerify(files, flags, terminal), setExit).copyInheritedSettings(program));
  program.addCommand(createAuditCommand((flags) => runAudit(flags, terminal)).copyInheritedSettings(program));
  return program;
}

export async function main(argv: readonly string[], terminal: Terminal = processTerminal): Promise<number> {
  const json = argv.includes('--json');
  const debug = process.env.LIVESWAP_DEBUG === '1';
  let code = 0;
  try {
    await createProgram(terminal, (c) => (code = c)).parseAsync([...argv]);
    return code;
  } catch (error) {
    return reportFailure(error, { json, debug, terminal });
  }
}

const code = await main(process.argv);
process.exitCode = code;
// If a native library keeps a handle open after the work is done, do not hang the shell.
setTimeout(() => process.exit(code), 2000).unref();

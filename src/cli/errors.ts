/**
 * How the command reports failure: one line on stderr, a JSON object on stdout when --json was
 * asked for, and an exit code per error kind so scripts can branch on the class of failure.
 */

import { CommanderError } from 'commander';
import { EXIT_CODES, LiveswapError, type ErrorKind } from '../core/errors.js';

export interface Terminal {
  out(text: string): void;
  err(text: string): void;
  /** Rewrites one status line in place (stderr is a terminal); absent where output is kept as lines. '' clears it. */
  status?(text: string): void;
}

export const processTerminal: Terminal = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  ...(process.stderr.isTTY ? { status: (text: string) => process.stderr.write(`\r\x1b[2K${text}`) } : {}),
};

export interface FailureContext {
  json: boolean;
  /** Show stacks of unexpected errors (LIVESWAP_DEBUG=1). */
  debug: boolean;
  terminal: Terminal;
}

function jsonError(kind: ErrorKind, message: string, file: string | undefined): string {
  return JSON.stringify({ error: { kind, message, file: file ?? null } });
}

/**
 * Reports an error thrown anywhere in a command and returns the exit code. Commander has already
 * printed its own usage messages; only the JSON form and the code are added for those.
 */
export function reportFailure(error: unknown, context: FailureContext): number {
  const { terminal } = context;
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return 0; // --help, --version
    if (context.json) terminal.out(jsonError('usage', error.message.replace(/^error: /, ''), undefined));
    return EXIT_CODES.usage;
  }
  if (error instanceof LiveswapError) {
    terminal.err(`liveswap: ${error.message}`);
    if (context.debug && error.cause !== undefined) terminal.err(`cause: ${describeCause(error.cause)}`);
    if (context.json) terminal.out(jsonError(error.kind, error.message, error.file));
    return EXIT_CODES[error.kind];
  }
  const message = error instanceof Error ? error.message : String(error);
  terminal.err(`liveswap: unexpected error: ${message}`);
  if (context.debug && error instanceof Error && error.stack) terminal.err(error.stack);
  else terminal.err('This is a bug; please report it. Set LIVESWAP_DEBUG=1 to see the stack trace.');
  if (context.json) terminal.out(jsonError('internal', message, undefined));
  return EXIT_CODES.internal;
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.stack ?? cause.message;
  return String(cause);
}

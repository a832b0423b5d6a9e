/**
 * Errors users can act on. Each carries a stable `kind`; the CLI maps kinds to exit codes and the
 * HTTP API to status codes, so callers can branch on the class of failure, not on message text.
 */

export const ERROR_KINDS = [
  'usage', // bad flag or option value
  'input-missing', // a named input file does not exist
  'input-unreadable', // exists but cannot be read or decoded (corrupt, truncated)
  'input-unsupported', // a format we do not accept
  'input-too-large', // over the pixel limit
  'no-face', // no face where one is needed
  'output', // cannot write the output (missing directory, permissions, disk full, same as input)
  'model', // a model file is missing, damaged or incompatible
  'interrupted', // stopped by the user (Ctrl-C) or a signal before it finished
  'internal', // a bug: please report
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Exit codes of the `liveswap` command, one per error kind (documented in the README). */
export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = {
  internal: 1,
  usage: 2,
  'input-missing': 3,
  'input-unreadable': 4,
  'input-unsupported': 5,
  'input-too-large': 6,
  'no-face': 7,
  output: 8,
  model: 9,
  interrupted: 130,
};

export class LiveswapError extends Error {
  readonly kind: ErrorKind;
  /** The file the error is about, when there is one. */
  readonly file: string | undefined;

  constructor(kind: ErrorKind, message: string, options: { file?: string | undefined; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LiveswapError';
    this.kind = kind;
    this.file = options.file;
  }
}

/** One helper for option validation, so messages are uniform and testable. */
export function invalidOption(name: string, expected: string, actual: unknown): LiveswapError {
  return new LiveswapError('usage', `Expected ${expected} for ${name} but received ${JSON.stringify(actual)}`);
}

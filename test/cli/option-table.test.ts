/**
 * The flag table against what the commands declare and what the schema holds: every row shows in
 * the help of each of its commands, no command declares a flag of its own, every option the CLI can
 * set has a row, and the defaults help prints are the mode defaults.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { createAuditCommand } from '../../src/cli/audit-command.js';
import { createBenchCommand } from '../../src/cli/bench-command.js';
import { createDemoCommand } from '../../src/cli/demo-command.js';
import { createEvalCommand } from '../../src/cli/eval-command.js';
import { createFacesCommand } from '../../src/cli/faces-command.js';
import { createModelsCommand } from '../../src/cli/models-command.js';
import { createProtectCommand } from '../../src/cli/protect-command.js';
import { createTokensCommand } from '../../src/cli/tokens-command.js';
import {
  COMMANDS,
  CLI_DEFAULTS,
  describeDefault,
  FLAG_TABLE,
  flagRows,
  helpDefault,
  helpText,
  OPTIONS_WITHOUT_FLAGS,
  type CommandName,
  type FlagRow,
} from '../../src/cli/option-table.js';
import { createSwapCommand } from '../../src/cli/swap-command.js';
import { createServeCommand } from '../../src/cli/serve-command.js';
import { createUiCommand } from '../../src/cli/ui-command.js';
import { createLiveCommand } from '../../src/cli/live-command.js';
import { createVerifyCommand } from '../../src/cli/verify-command.js';
import { DEFAULT_SAMPLE_FPS } from '../../src/node/jobs/faces-scan.js';
import { LIVE_DEFAULTS, STILL_DEFAULTS, VIDEO_DEFAULTS } from '../../src/pipeline/options.js';

const noop = async (): Promise<void> => undefined;
const silent = { out: () => undefined, err: () => undefined };

function subcommand(parent: Command, name: string): Command {
  const found = parent.commands.find((c) => c.name() === name);
  assert.ok(found, `no subcommand ${name}`);
  return found;
}

/** Each command as main.ts builds it. */
function build(name: CommandName): Command {
  const models = (): Command => createModelsCommand(silent);
  switch (name) {
    case 'swap':
      return createSwapCommand(noop);
    case 'eval':
      return createEvalCommand(noop);
    case 'bench':
      return createBenchCommand(noop);
    case 'demo':
      return createDemoCommand(noop);
    case 'ui':
      return createUiCommand(noop);
    case 'serve':
      return createServeCommand(noop);
    case 'live':
      return createLiveCommand(noop);
    case 'faces scan':
      return subcommand(createFacesCommand(noop), 'scan');
    case 'verify':
      return createVerifyCommand(
        async () => 0,
        () => undefined,
      );
    case 'audit':
      return createAuditCommand(noop);
    case 'tokens create':
    case 'tokens list':
    case 'tokens revoke':
      return subcommand(createTokensCommand({ create: noop, list: noop, revoke: noop }), name.slice('tokens '.length));
    case 'protect add':
    case 'protect list':
    case 'protect remove':
      return subcommand(createProtectCommand({ add: noop, list: noop, remove: noop }), name.slice('protect '.length));
    default:
      return subcommand(models(), name.slice('models '.length));
  }
}

const flat = (text: string): string => text.replace(/\s+/g, ' ');

describe('flag table', () => {
  it('every row is in the help of each of its commands, with its text', () => {
    for (const name of COMMANDS) {
      const help = flat(build(name).helpInformation());
      for (const row of flagRows(name)) {
        assert.ok(help.includes(row.flag), `${name} --help lacks ${row.flag}`);
        if (row.short) assert.ok(help.includes(`${row.short}, ${row.flag}`), `${name} --help lacks ${row.short}`);
        assert.ok(help.includes(flat(helpText(row, name))), `${name} --help lacks the text of ${row.flag}`);
        if (row.parse === 'negatable') assert.ok(help.includes(`--no-${row.flag.slice(2)}`), `${name} --help lacks --no-${row.flag.slice(2)}`);
      }
    }
  });

  it('commands declare no flag outside the table', () => {
    for (const name of COMMANDS) {
      const declared = build(name)
        .options.map((o) => o.long)
        .filter((f) => f !== '--help');
      const fromTable = flagRows(name).flatMap((row) => (row.parse === 'negatable' ? [row.flag, `--no-${row.flag.slice(2)}`] : [row.flag]));
      assert.deepEqual(declared, fromTable, name);
    }
  });

  it('rows are well formed: one row per flag, choices only for choice lists, a text for each command', () => {
    const flags = (FLAG_TABLE as readonly FlagRow[]).map((row) => row.flag);
    assert.equal(new Set(flags).size, flags.length, 'a flag has two rows');
    for (const row of FLAG_TABLE as readonly FlagRow[]) {
      assert.equal(row.parse === 'choice', row.choices !== undefined, `${row.flag}: choices go with the choice parser`);
      assert.equal(row.parse === 'negatable', row.off !== undefined, `${row.flag}: a negatable switch describes its --no- form`);
      for (const name of row.commands) assert.notEqual(helpText(row, name).replace(/^video: /, ''), '', `${row.flag} has no text for ${name}`);
    }
  });

  it('every option of the schema has a row, or is listed as set by no flag', () => {
    const groups = { paint: STILL_DEFAULTS.paint, tracking: VIDEO_DEFAULTS.tracking, marks: STILL_DEFAULTS.marks };
    for (const [group, defaults] of Object.entries(groups) as [keyof typeof groups, object][]) {
      const withRow = new Set((FLAG_TABLE as readonly FlagRow[]).filter((row) => row.sets?.group === group).map((row) => row.sets!.key as string));
      const without = new Set<string>(OPTIONS_WITHOUT_FLAGS[group]);
      for (const key of Object.keys(defaults)) {
        assert.ok(withRow.has(key) !== without.has(key), `${group}.${key}: ${withRow.has(key) ? 'has a row and is listed as having none' : 'has no row'}`);
      }
    }
  });

  it('help shows the mode defaults: a still for paint and marks, a video for tracking, the live app for ui', () => {
    const swap = flat(build('swap').helpInformation());
    const expected: Array<[string, unknown]> = [
      ['--engine', STILL_DEFAULTS.paint.engine],
      ['--opacity', STILL_DEFAULTS.paint.opacity],
      ['--sharpness', STILL_DEFAULTS.paint.sharpness],
      ['--max-pixels', STILL_DEFAULTS.paint.maxPixels],
      ['--color-match', STILL_DEFAULTS.paint.colorMatch],
      ['--mouth-mask', STILL_DEFAULTS.paint.mouthMask],
      ['--detect-every', VIDEO_DEFAULTS.tracking.detectEvery],
      ['--smoothing-min-cutoff', VIDEO_DEFAULTS.tracking.smoothing.minCutoff],
      ['--smoothing-beta', VIDEO_DEFAULTS.tracking.smoothing.beta],
      ['--max-missed', VIDEO_DEFAULTS.tracking.maxMissed],
      ['--min-face-size', VIDEO_DEFAULTS.tracking.minFaceSize],
      ['--min-sharpness', VIDEO_DEFAULTS.tracking.minSharpness],
      ['--label-corner', STILL_DEFAULTS.marks.labelCorner],
    ];
    for (const [flag, value] of expected) {
      const row = (FLAG_TABLE as readonly FlagRow[]).find((r) => r.flag === flag)!;
      assert.equal(helpDefault(row, 'swap'), describeDefault(value), flag);
      assert.ok(swap.includes(`default: ${describeDefault(value)}`), `swap --help shows ${flag}'s default`);
    }
    assert.ok(swap.includes(`(default: "${STILL_DEFAULTS.marks.labelText}")`));
    const labelText = (FLAG_TABLE as readonly FlagRow[]).find((r) => r.flag === '--label-text')!;
    assert.equal(helpDefault(labelText, 'ui'), LIVE_DEFAULTS.marks.labelText);
    assert.ok(flat(build('ui').helpInformation()).includes(`(default: ${LIVE_DEFAULTS.marks.labelText})`));
  });

  it('the defaults the CLI repeats from node code agree with it', () => {
    assert.equal(CLI_DEFAULTS.sampleFps, DEFAULT_SAMPLE_FPS);
  });
});

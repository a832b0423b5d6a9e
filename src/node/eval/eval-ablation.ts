/**
 * The ablation table of `liveswap eval --ablate`: each mesh-engine variant's headline figures and
 * their change from the defaults, as plain text (a Markdown table) for the terminal and a file.
 */

import { RECOGNISER_LABELS, type RecogniserId } from '../../eval/recognisers.js';
import type { AblationRow, EvalAggregate } from './eval-report.js';

/**
 * A variant's row. Retrieval is over pairs of different people, or over every measured pair when
 * the set does not say who is who (folders mode); gain and cos(O, T) are means.
 */
export function ablationRow(variant: string, aggregate: EvalAggregate, recognisers: readonly RecogniserId[]): AblationRow {
  const row: AblationRow = { variant, retrieval: {}, gain: {}, toTarget: {}, maxYaw: aggregate.yaw.max, meanSeam: aggregate.seamRatio.mean };
  for (const id of recognisers) {
    const a = aggregate.identity[id];
    if (!a) continue;
    row.retrieval[id] = Number.isNaN(a.retrieval) ? a.retrievalAll : a.retrieval;
    row.gain[id] = a.gain.mean;
    row.toTarget[id] = a.toTarget.mean;
  }
  return row;
}

interface Column {
  header: string;
  value: (row: AblationRow) => number | undefined;
  /** The value as printed, and its change from the defaults' (already in the printed unit). */
  format: (v: number) => string;
  delta: (d: number) => string;
  /** Printed-unit scale for the change (100 for a share printed as %, its change in points). */
  scale: number;
  digits: number;
}

const signed = (v: number, digits: number) => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(digits)}`;

function columns(recognisers: readonly RecogniserId[]): Column[] {
  const per = (label: string, value: (r: AblationRow, id: RecogniserId) => number | undefined, format: (v: number) => string, scale: number, digits: number, unit = ''): Column[] =>
    recognisers.map((id) => ({ header: `${label} ${RECOGNISER_LABELS[id]}`, value: (r) => value(r, id), format, delta: (d) => signed(d, digits) + unit, scale, digits }));
  return [
    ...per(
      'retrieval',
      (r, id) => r.retrieval[id],
      (v) => `${(v * 100).toFixed(1)} %`,
      100,
      1,
      ' pt',
    ),
    ...per(
      'mean gain',
      (r, id) => r.gain[id],
      (v) => signed(v, 3),
      1,
      3,
    ),
    ...per(
      'cos(O,T)',
      (r, id) => r.toTarget[id],
      (v) => v.toFixed(3),
      1,
      3,
    ),
    // "|Δyaw|" would split a Markdown cell; the difference is absolute all the same.
    { header: 'max Δyaw', value: (r) => r.maxYaw, format: (v) => `${v.toFixed(2)}°`, delta: (d) => signed(d, 2), scale: 1, digits: 2 },
    { header: 'mean seam', value: (r) => r.meanSeam, format: (v) => v.toFixed(3), delta: (d) => signed(d, 3), scale: 1, digits: 3 },
  ];
}

function cell(column: Column, row: AblationRow, base: AblationRow | undefined): string {
  const v = column.value(row);
  if (v === undefined || Number.isNaN(v)) return '–';
  const b = base && base !== row ? column.value(base) : undefined;
  if (b === undefined || Number.isNaN(b)) return column.format(v);
  const d = (v - b) * column.scale;
  // Equal at the printed precision reads as "=", so a setting with no effect stands out.
  const same = Math.abs(d) < 0.5 * 10 ** -column.digits;
  return `${column.format(v)} (${same ? '=' : column.delta(d)})`;
}

/** A Markdown table, columns padded to line up; the row named 'defaults' is the baseline. */
export function formatAblationTable(rows: readonly AblationRow[], recognisers: readonly RecogniserId[]): string {
  const cols = columns(recognisers);
  const base = rows.find((r) => r.variant === 'defaults');
  const table = [['variant', ...cols.map((c) => c.header)], ...rows.map((r) => [r.variant, ...cols.map((c) => cell(c, r, base))])];
  const widths = table[0].map((_, i) => Math.max(...table.map((line) => [...line[i]].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c + ' '.repeat(widths[i] - [...c].length)).join(' | ')} |`;
  return [line(table[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...table.slice(1).map(line)].join('\n');
}

/**
 * The pass/fail bars an engine is held to in `liveswap eval`: one table of gates, each reading one
 * figure from the aggregate. Identity gates read the pairs of different people; pose, expression
 * and seam gates hold on every measured pair, as the mesh engine's issue states them ("on every
 * pair"), so they read the worst pair, with the mean over the pairs printed beside it.
 */

import type { RecogniserId } from '../../eval/recognisers.js';
import type { EvalAggregate, PairResult } from './eval-report.js';
import type { Summary } from './eval-stats.js';

export interface EvalGate {
  /** What is measured, for the summary line. */
  label: string;
  /** The figure, or undefined when this run did not measure it (a recogniser not loaded). */
  read: (a: EvalAggregate) => number | undefined;
  /** The mean over the pairs beside it, for gates that read the worst pair. */
  mean?: (a: EvalAggregate) => number | undefined;
  /** For gates that read the worst pair: the figure of one pair, to count the pairs over the bar. */
  perPair?: (p: PairResult) => number | undefined;
  direction: 'at least' | 'at most';
  threshold: number;
  /** How the figure and threshold are written: a share as %, a relative difference as %, degrees. */
  unit: 'percent' | 'degrees' | 'cosine' | 'ratio';
}

/** The aggregate's per-pair figures (each a Summary). */
type SummaryKey = { [K in keyof EvalAggregate]: EvalAggregate[K] extends Summary ? K : never }[keyof EvalAggregate];

const retrieval = (id: RecogniserId) => (a: EvalAggregate) => a.identity[id]?.retrieval;
const mean = (key: SummaryKey) => (a: EvalAggregate) => a[key].mean;
const max = (key: SummaryKey) => (a: EvalAggregate) => a[key].max;

export const EVAL_GATES: readonly EvalGate[] = [
  { label: 'ID retrieval, FaceRes', read: retrieval('faceres'), direction: 'at least', threshold: 0.9, unit: 'percent' },
  { label: 'ID retrieval, MobileFace', read: retrieval('mobileface'), direction: 'at least', threshold: 0.85, unit: 'percent' },
  { label: 'mean identity gain, FaceRes', read: (a) => a.identity.faceres?.gain.mean, direction: 'at least', threshold: 0.3, unit: 'cosine' },
  { label: '|Δ yaw|, worst pair', read: max('yaw'), mean: mean('yaw'), perPair: (p) => p.attributes?.yaw, direction: 'at most', threshold: 3, unit: 'degrees' },
  { label: '|Δ pitch|, worst pair', read: max('pitch'), mean: mean('pitch'), perPair: (p) => p.attributes?.pitch, direction: 'at most', threshold: 3, unit: 'degrees' },
  {
    label: 'mouth openness relative difference, worst pair',
    read: max('mouthOpenRelative'),
    mean: mean('mouthOpenRelative'),
    perPair: (p) => p.attributes?.mouthOpenRelative,
    direction: 'at most',
    threshold: 0.15,
    unit: 'percent',
  },
  {
    label: 'eye openness relative difference, worst pair',
    read: max('eyesOpenRelative'),
    mean: mean('eyesOpenRelative'),
    perPair: (p) => p.attributes?.eyesOpenRelative,
    direction: 'at most',
    threshold: 0.15,
    unit: 'percent',
  },
  { label: 'seam ratio, worst pair', read: max('seamRatio'), mean: mean('seamRatio'), perPair: (p) => p.blending?.seamRatio, direction: 'at most', threshold: 1.2, unit: 'ratio' },
];

export interface GateResult {
  label: string;
  value: number | undefined;
  /** The mean over the pairs, for gates that read the worst pair. */
  mean: number | undefined;
  direction: EvalGate['direction'];
  threshold: number;
  unit: EvalGate['unit'];
  /** undefined: not measured in this run (no pairs of different people, a recogniser not loaded). */
  pass: boolean | undefined;
  /** For gates that read the worst pair, when the pairs were given: how many measured pairs are over the bar, of how many. */
  over?: { pairs: number; of: number };
}

/** The pairs of `pairs` that `gate` measured, and how many of them are on the wrong side of its bar. */
function pairsOver(gate: EvalGate, pairs: readonly PairResult[]): GateResult['over'] {
  if (!gate.perPair) return undefined;
  const values = pairs.map(gate.perPair).filter((v): v is number => v !== undefined && !Number.isNaN(v));
  const over = values.filter((v) => (gate.direction === 'at least' ? v < gate.threshold : v > gate.threshold)).length;
  return { pairs: over, of: values.length };
}

/**
 * Each gate against the aggregate. With the pairs as well, the gates that read the worst pair also
 * say how many pairs are over their bar: one bad pair and a third of them both fail the gate.
 */
export function checkGates(aggregate: EvalAggregate, gates: readonly EvalGate[] = EVAL_GATES, pairs?: readonly PairResult[]): GateResult[] {
  return gates.map((g) => {
    const value = g.read(aggregate);
    const measured = value !== undefined && !Number.isNaN(value);
    const over = pairs ? pairsOver(g, pairs) : undefined;
    return {
      ...(over ? { over } : {}),
      label: g.label,
      value: measured ? value : undefined,
      mean: g.mean?.(aggregate),
      direction: g.direction,
      threshold: g.threshold,
      unit: g.unit,
      pass: measured ? (g.direction === 'at least' ? value >= g.threshold : value <= g.threshold) : undefined,
    };
  });
}

export function formatGateValue(value: number | undefined, unit: EvalGate['unit']): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  if (unit === 'percent') return `${(value * 100).toFixed(1)} %`;
  if (unit === 'degrees') return `${value.toFixed(2)}°`;
  if (unit === 'cosine') return `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
  return value.toFixed(3);
}

/** One line per gate: PASS/FAIL/n/a, the figure, the bar, and the mean over the pairs and the count over the bar where the figure is the worst pair. */
export function formatGates(results: readonly GateResult[]): string[] {
  return results.map((r) => {
    const verdict = r.pass === undefined ? ' n/a' : r.pass ? 'PASS' : 'FAIL';
    const bar = `${r.direction === 'at least' ? '≥' : '≤'} ${formatGateValue(r.threshold, r.unit)}`;
    const mean = r.mean !== undefined && !Number.isNaN(r.mean) ? `, mean ${formatGateValue(r.mean, r.unit)}` : '';
    const over = r.over ? `, ${r.over.pairs} of ${r.over.of} pairs over the bar` : '';
    return `  ${verdict}  ${r.label}: ${formatGateValue(r.value, r.unit)} (bar ${bar}${mean}${over})`;
  });
}

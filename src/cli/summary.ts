/** What the command prints after a swap: the JSON shape and the short human summary. */

import { basename } from 'node:path';
import type { FaceSummary, SkippedFace } from '../pipeline/report.js';

/** The `--json` result: exactly these fields, one object on stdout. */
export interface SwapSummary {
  /** Absolute path of the written image. */
  output: string;
  engine: string;
  sourceFaces: FaceSummary[];
  targetFaces: FaceSummary[];
  sourceFaceUsed: number;
  swappedFaces: number[];
  /** Faces chosen but left untouched, with the reason (e.g. turned too far for the engine). */
  skippedFaces: SkippedFace[];
  /** Milliseconds: decode, load (models), the engine's stages, encode and total. */
  timings: Record<string, number>;
  /** The marks the output carries. */
  provenance: ProvenanceSummary;
  notices: string[];
}

export interface ProvenanceSummary {
  watermarkId: string;
  label: { shown: boolean; text?: string };
  credentials: 'embedded' | 'format-unsupported' | 'unavailable' | 'none';
}

/** One line for the terminal: what marks the output, so nobody is surprised by the label. */
export function formatProvenance(p: ProvenanceSummary): string {
  const label = p.label.shown ? `label "${p.label.text ?? ''}"` : 'no label (--no-label)';
  const credentials = p.credentials === 'embedded' ? 'signed content credentials' : 'no content credentials';
  return `  marks   ${label}, watermark ${p.watermarkId}, ${credentials}, audit log`;
}

export function roundTimings(timings: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(timings).map(([stage, ms]) => [stage, Math.round(ms * 10) / 10]));
}

function faces(count: number): string {
  return count === 1 ? '1 face' : `${count} faces`;
}

/** Face indices (0-based, as `--face` takes them) marked with '#' so they never read as a count: "face #0", "faces #0, #2", "none". */
function indices(list: readonly number[]): string {
  if (list.length === 0) return 'none';
  return `${list.length === 1 ? 'face' : 'faces'} ${list.map((index) => `#${index}`).join(', ')}`;
}

/** Stage times as "decode 21, load 310, …", total excluded. */
export function formatTimings(timings: Record<string, number>): string {
  return Object.entries(timings)
    .filter(([stage]) => stage !== 'total')
    .map(([stage, ms]) => `${stage} ${Math.round(ms)}`)
    .join(', ');
}

export function formatSummary(summary: SwapSummary, files: { source: string; target: string }): string {
  const swapped = summary.swappedFaces.length;
  const total = Math.round(summary.timings.total ?? 0);
  return [
    `Swapped ${faces(swapped)} with the ${summary.engine} engine in ${total} ms.`,
    `  source  ${basename(files.source)}: ${faces(summary.sourceFaces.length)}, used face #${summary.sourceFaceUsed}`,
    `  target  ${basename(files.target)}: ${faces(summary.targetFaces.length)}, swapped ${indices(summary.swappedFaces)}` +
      (summary.skippedFaces.length ? `, left ${indices(summary.skippedFaces.map((s) => s.index))} untouched` : ''),
    `  times   ${formatTimings(summary.timings)} (ms)`,
    formatProvenance(summary.provenance),
    `  output  ${summary.output}`,
  ].join('\n');
}

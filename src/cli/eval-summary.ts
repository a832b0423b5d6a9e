/** The evaluation's summary as a few lines of text for the terminal. */

import type { EvalReport } from '../node/eval-runner.js';
import type { Summary } from '../node/eval-stats.js';

function mean(value: Summary | number | undefined, digits: number): string {
  if (value === undefined) return '–';
  const v = typeof value === 'number' ? value : value.mean;
  return Number.isFinite(v) ? v.toFixed(digits) : v === Infinity ? '∞' : '–';
}

export function formatEvalSummary(report: EvalReport): string {
  const a = report.aggregate;
  const lines = [
    `Evaluated the ${report.engine} engine on ${a.pairs} pairs (${a.measured} measured); identity by ${report.recogniser}.`,
    `  identity     cosine to source ${mean(a.toSource, 3)} (gain ${mean(a.identityGain, 3)} over the unswapped target), to original target ${mean(a.toTarget, 3)}`,
    `  retrieval    ${((a.retrieval as number) * 100).toFixed(1)} % of all pairs` +
      (Number.isFinite(a.retrievalAcrossPeople) ? `, ${((a.retrievalAcrossPeople as number) * 100).toFixed(1)} % of the ${a.pairsAcrossPeople} pairs of different people` : ''),
    `  pose         |Δ| yaw ${mean(a.yaw, 2)}°, pitch ${mean(a.pitch, 2)}°, roll ${mean(a.roll, 2)}°`,
    `  expression   |Δ| mouth ${mean(a.mouthOpen, 3)}, eyes ${mean(a.eyesOpen, 3)}; landmark error ${mean(a.landmarkError, 4)} of face size`,
    `  blending     seam ratio ${mean(a.seamRatio, 3)}, PSNR outside the face ${mean(a.psnrOutside, 1)} dB`,
  ];
  const b = report.recogniserBaseline;
  if (b) lines.push(`  recogniser   same person ${b.sameIdentity.mean.toFixed(3)}, different people ${b.differentIdentity.mean.toFixed(3)} (for scale)`);
  for (const v of report.videos) {
    lines.push(`  video        ${v.video}: jitter ${v.jitterInput.toFixed(2)} → ${v.jitterOutput.toFixed(2)} px, flicker ${v.flickerInput.toFixed(2)} → ${v.flickerOutput.toFixed(2)}, swapped ${v.swappedFrames}/${v.framesWithFace} frames`);
  }
  return lines.join('\n');
}

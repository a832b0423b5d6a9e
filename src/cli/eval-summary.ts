/** The evaluation's summary as a few lines of text for the terminal: figures, baselines, gates. */

import { RECOGNISER_LABELS } from '../eval/recognisers.js';
import { checkGates, formatGates } from '../node/eval/eval-gates.js';
import type { EvalReport } from '../node/eval/eval-runner.js';
import type { Summary } from '../node/eval/eval-stats.js';

function fixed(v: number | undefined, digits: number): string {
  if (v === undefined || Number.isNaN(v)) return '–';
  return v === Infinity ? '∞' : v.toFixed(digits);
}

const percent = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : `${(v * 100).toFixed(1)} %`);
const meanMax = (s: Summary, digits: number, unit = '') => `${fixed(s.mean, digits)}${unit} (max ${fixed(s.max, digits)}${unit})`;
const meanMaxPercent = (s: Summary) => `${percent(s.mean)} (max ${percent(s.max)})`;
const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - [...text].length));

/** One row per recogniser: the identity figures as a small aligned table. */
function identityTable(report: EvalReport): string[] {
  const gallery = report.gainAgainst === 'gallery';
  const headers = ['', 'cos(O,S)', ...(gallery ? ['cos(O,G)', 'cos(T,G)'] : ['cos(T,S)']), 'gain', 'cos(O,T)', 'retrieval', 'retrieval (all pairs)'];
  const rows = report.recognisers.map(({ id }) => {
    const a = report.aggregate.identity[id];
    if (!a) return [RECOGNISER_LABELS[id], 'not measured'];
    return [
      RECOGNISER_LABELS[id],
      fixed(a.toSource.mean, 3),
      ...(gallery ? [fixed(a.toGallery?.mean, 3), fixed(a.targetToGallery?.mean, 3)] : [fixed(a.targetToSource.mean, 3)]),
      `${a.gain.mean >= 0 ? '+' : ''}${fixed(a.gain.mean, 3)}`,
      fixed(a.toTarget.mean, 3),
      percent(a.retrieval),
      percent(a.retrievalAll),
    ];
  });
  const widths = headers.map((_, i) => Math.max(...[headers, ...rows].map((r) => [...(r[i] ?? '')].length)));
  return [headers, ...rows].map((r) => `    ${r.map((c, i) => pad(c, widths[i])).join('  ')}`.trimEnd());
}

/** Gallery mode: the same outputs measured against the source photo, as the other modes do. */
function sourceProtocol(report: EvalReport): string[] {
  if (report.gainAgainst !== 'gallery') return [];
  const lines = ['  against the source photo (S) instead: gain cos(O,S) − cos(T,S), retrieval among the source photos'];
  for (const { id } of report.recognisers) {
    const a = report.aggregate.identity[id];
    if (!a?.sourceGain) continue;
    lines.push(`    ${pad(RECOGNISER_LABELS[id], 11)} gain ${a.sourceGain.mean >= 0 ? '+' : ''}${fixed(a.sourceGain.mean, 3)}, retrieval ${percent(a.retrievalAmongSources)}`);
  }
  return lines;
}

export function formatEvalSummary(report: EvalReport): string {
  const a = report.aggregate;
  const against = report.gainAgainst === 'gallery' ? "the source person's gallery (G, mean cosine over its photos)" : 'the source photo (S)';
  const lines = [
    `Evaluated the ${report.engine} engine on ${a.pairs} pairs (${a.measured} measured: ${a.pairsAcrossPeople} of different people, ${a.pairsSamePerson} of the same person) in ${report.mode} mode.`,
    `  identity     O = output face, T = original target face; gain = cos(O, ·) − cos(T, ·) against ${against};`,
    '               means over pairs not of the same person; retrieval over pairs of different people',
    ...(report.sourcePhotos?.length
      ? [
          `  sources      ${report.sourcePhotos.length} of ${report.sources.length} made from several photos of the person (${report.sourcePhotos.map((s) => s.photos.length).join(', ')} photos)`,
        ]
      : []),
    ...identityTable(report),
    ...sourceProtocol(report),
    `  pose         |Δ yaw| ${meanMax(a.yaw, 2, '°')}, |Δ pitch| ${meanMax(a.pitch, 2, '°')}, |Δ roll| ${meanMax(a.roll, 2, '°')}`,
    `  expression   mouth openness off by ${meanMaxPercent(a.mouthOpenRelative)}, eyes ${meanMaxPercent(a.eyesOpenRelative)}; landmark error ${fixed(a.landmarkError.mean, 4)} of face size`,
    `  blending     seam ratio ${meanMax(a.seamRatio, 3)}, PSNR outside the face ${fixed(a.psnrOutside.mean, 1)} dB`,
  ];
  for (const { id } of report.recognisers) {
    const b = report.recogniserBaseline?.[id];
    if (!b) continue;
    const s = (x: Summary) => `${x.mean.toFixed(3)} (${x.min.toFixed(3)}…${x.max.toFixed(3)}, n ${x.count})`;
    lines.push(`  ${pad(RECOGNISER_LABELS[id], 11)}  cosine between photos: same person ${s(b.sameIdentity)}, different people ${s(b.differentIdentity)}`);
  }
  for (const v of report.videos) {
    lines.push(
      `  video        ${v.video}: jitter ${v.jitterInput.toFixed(2)} → ${v.jitterOutput.toFixed(2)} px, flicker ${v.flickerInput.toFixed(2)} → ${v.flickerOutput.toFixed(2)}, swapped ${v.swappedFrames}/${v.framesWithFace} frames`,
    );
  }
  lines.push('Gates:', ...formatGates(checkGates(a, undefined, report.pairs)));
  return lines.join('\n');
}

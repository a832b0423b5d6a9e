/** The evaluation as one HTML page: the figures beside thumbnails of source, target and result. */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalReport, PairResult } from './eval-runner.js';
import type { Summary } from './eval-stats.js';

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function num(v: number | undefined, digits = 3): string {
  if (v === undefined || Number.isNaN(v)) return '–';
  if (v === Infinity) return '∞';
  return v.toFixed(digits);
}

function summaryCells(s: Summary | number | undefined, digits = 3): string {
  if (typeof s === 'number' || s === undefined) return `<td colspan="4">${num(s, digits)}</td>`;
  return `<td>${num(s.mean, digits)}</td><td>${num(s.median, digits)}</td><td>${num(s.p95, digits)}</td><td>${s.count}</td>`;
}

const AGGREGATE_ROWS: readonly [key: string, label: string, digits: number][] = [
  ['toSource', 'identity: cosine to the source ↑', 3],
  ['toTarget', 'identity: cosine to the original target ↓', 3],
  ['identityGain', 'identity: gain in cosine to the source over the unswapped target ↑', 3],
  ['yaw', 'pose: |Δ yaw| (°) ↓', 2],
  ['pitch', 'pose: |Δ pitch| (°) ↓', 2],
  ['roll', 'pose: |Δ roll| (°) ↓', 2],
  ['mouthOpen', 'expression: |Δ mouth openness| ↓', 3],
  ['eyesOpen', 'expression: |Δ eye openness| ↓', 3],
  ['landmarkError', 'landmarks: RMS error / face size ↓', 4],
  ['seamRatio', 'blend: seam gradient ratio (1 = invisible)', 3],
  ['psnrOutside', 'blend: PSNR outside the face (dB) ↑', 1],
];

function pairRow(p: PairResult): string {
  const img = (src: string | undefined, alt: string) => (src ? `<img src="${escape(src)}" alt="${escape(alt)}">` : '');
  const cells = p.skipped
    ? `<td colspan="9" class="skip">${escape(p.skipped)}</td>`
    : [
        num(p.identity?.toSource),
        num(p.identity?.toTarget),
        p.identity ? (p.identity.retrieved ? '✓' : `✗ (${escape(p.identity.nearestSource)})`) : '–',
        p.attributes ? `${num(p.attributes.yaw, 1)} / ${num(p.attributes.pitch, 1)} / ${num(p.attributes.roll, 1)}` : '–',
        p.attributes ? `${num(p.attributes.mouthOpen)} / ${num(p.attributes.eyesOpen)}` : '–',
        num(p.attributes?.landmarkError, 4),
        num(p.blending?.seamRatio),
        num(p.blending?.psnrOutside, 1),
        p.timings ? num(Object.values(p.timings).reduce((a, b) => a + b, 0), 0) : '–',
      ]
        .map((c) => `<td>${c}</td>`)
        .join('');
  return `<tr><td>${escape(p.source)} → ${escape(p.target)}</td><td class="thumbs">${img(p.thumbnails?.source, 'source')}${img(p.thumbnails?.target, 'target')}${img(p.thumbnails?.result, 'result')}</td>${cells}</tr>`;
}

export function renderEvalHtml(report: EvalReport): string {
  const a = report.aggregate;
  const baseline = report.recogniserBaseline;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>liveswap eval: ${escape(report.engine)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:middle}
td:first-child,th:first-child{text-align:left}.thumbs{white-space:nowrap}.thumbs img{height:96px;margin-right:4px}.skip{text-align:center;color:#a00}
</style></head><body>
<h1>liveswap eval</h1>
<p>Engine <b>${escape(report.engine)}</b>; identity measured with <b>${escape(report.recogniser)}</b>, a recogniser independent of the engine.
${report.sources.length} sources × ${report.targets.length} targets = ${num(a.pairs as number, 0)} pairs, ${num(a.measured as number, 0)} measured.</p>
<h2>Summary</h2>
<table><tr><th>measure</th><th>mean</th><th>median</th><th>p95</th><th>n</th></tr>
<tr><td>ID retrieval: share of swaps whose nearest source is the right one ↑</td><td colspan="4">${num((a.retrieval as number) * 100, 1)} %</td></tr>
<tr><td>ID retrieval, pairs of different people only ↑</td><td colspan="4">${num((a.retrievalAcrossPeople as number) * 100, 1)} % of ${num(a.pairsAcrossPeople as number, 0)}</td></tr>
${AGGREGATE_ROWS.map(([key, label, digits]) => `<tr><td>${escape(label)}</td>${summaryCells(a[key], digits)}</tr>`).join('\n')}
</table>
${
  baseline
    ? `<p>What a cosine means with this recogniser: pictures of the same person score ${num(baseline.sameIdentity.mean)} on average
(min ${num(baseline.sameIdentity.min)}), different people ${num(baseline.differentIdentity.mean)} (max ${num(baseline.differentIdentity.max)}).</p>`
    : ''
}
${
  report.videos.length
    ? `<h2>Video stability</h2><table><tr><th>video</th><th>source</th><th>frames</th><th>swapped / with face</th><th>jitter in / out (px)</th><th>flicker in / out</th></tr>
${report.videos
  .map((v) => `<tr><td>${escape(v.video)}</td><td>${escape(v.source)}</td><td>${v.frames}</td><td>${v.swappedFrames} / ${v.framesWithFace}</td><td>${num(v.jitterInput, 2)} / ${num(v.jitterOutput, 2)}</td><td>${num(v.flickerInput, 2)} / ${num(v.flickerOutput, 2)}</td></tr>`)
  .join('\n')}</table>`
    : ''
}
<h2>Pairs</h2>
<table><tr><th>pair</th><th>source · target · result</th><th>cos src ↑</th><th>cos tgt ↓</th><th>retrieved</th><th>Δ yaw/pitch/roll (°)</th><th>Δ mouth/eyes</th><th>landmark err</th><th>seam</th><th>PSNR out (dB)</th><th>ms</th></tr>
${report.pairs.map(pairRow).join('\n')}
</table>
</body></html>
`;
}

export async function writeEvalHtml(outDir: string, report: EvalReport): Promise<string> {
  const path = join(outDir, 'report.html');
  await writeFile(path, renderEvalHtml(report));
  return path;
}

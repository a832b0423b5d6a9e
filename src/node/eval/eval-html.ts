/**
 * The evaluation as one HTML page: gates, aggregate figures with both recognisers, the ablation
 * table when there is one, and a contact sheet of every pair (source · target · result face crops
 * beside its figures).
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RECOGNISER_LABELS, type RecogniserId } from '../../eval/recognisers.js';
import type { IdentityMeasures } from '../../eval/gallery.js';
import { formatAblationTable } from './eval-ablation.js';
import { checkGates, formatGateValue } from './eval-gates.js';
import type { EvalAggregate, EvalReport, IdentityAggregate, PairResult } from './eval-report.js';
import type { Summary } from './eval-stats.js';

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function num(v: number | undefined, digits = 3): string {
  if (v === undefined || Number.isNaN(v)) return '–';
  if (v === Infinity) return '∞';
  return v.toFixed(digits);
}

const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : `${(v * 100).toFixed(1)} %`);
const signed = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(3)}`);

const ATTRIBUTE_ROWS: readonly [key: keyof EvalAggregate, label: string, digits: number, percent?: boolean][] = [
  ['yaw', 'pose: |Δ yaw| (°) ↓', 2],
  ['pitch', 'pose: |Δ pitch| (°) ↓', 2],
  ['roll', 'pose: |Δ roll| (°) ↓', 2],
  ['mouthOpenRelative', 'expression: mouth openness, |O − T| / max(T, 0.1) ↓', 1, true],
  ['eyesOpenRelative', 'expression: eye openness, |O − T| / max(T, 0.1) ↓', 1, true],
  ['mouthOpen', 'expression: |Δ mouth openness| ↓', 3],
  ['eyesOpen', 'expression: |Δ eye openness| ↓', 3],
  ['landmarkError', 'landmarks: RMS error / face size ↓', 4],
  ['seamRatio', 'blend: seam gradient ratio (1 = invisible)', 3],
  ['psnrOutside', 'blend: PSNR outside the face (dB) ↑', 1],
];

function summaryCells(s: Summary, digits: number, percent = false): string {
  const f = (v: number) => (percent ? pct(v) : num(v, digits));
  return `<td>${f(s.mean)}</td><td>${f(s.median)}</td><td>${f(s.p95)}</td><td>${f(s.max)}</td><td>${s.count}</td>`;
}

const IDENTITY_ROWS: readonly [label: string, cell: (a: IdentityAggregate) => string][] = [
  ['cos(O, S): output to the source photo ↑', (a) => num(a.toSource.mean)],
  ["cos(O, G): output to the source person's gallery ↑", (a) => num(a.toGallery?.mean)],
  ['cos(T, G): original target to that gallery', (a) => num(a.targetToGallery?.mean)],
  ['cos(T, S): original target to the source photo', (a) => num(a.targetToSource.mean)],
  ['gain: cos(O, ·) − cos(T, ·) ↑', (a) => signed(a.gain.mean)],
  ['cos(O, T): output to the original target ↓', (a) => num(a.toTarget.mean)],
  ['ID retrieval, pairs of different people ↑', (a) => pct(a.retrieval)],
  ['ID retrieval, every measured pair', (a) => pct(a.retrievalAll)],
  ['against the source photo: gain cos(O, S) − cos(T, S) ↑', (a) => (a.sourceGain ? signed(a.sourceGain.mean) : '–')],
  ['against the source photo: ID retrieval among the source photos ↑', (a) => (a.retrievalAmongSources === undefined ? '–' : pct(a.retrievalAmongSources))],
];

function identityTable(report: EvalReport, ids: readonly RecogniserId[]): string {
  const head = ids.map((id) => `<th>${RECOGNISER_LABELS[id]}</th>`).join('');
  const rows = IDENTITY_ROWS.map(
    ([label, cell]) => `<tr><td>${escape(label)}</td>${ids.map((id) => `<td>${report.aggregate.identity[id] ? cell(report.aggregate.identity[id]!) : '–'}</td>`).join('')}</tr>`,
  );
  return `<table><tr><th>identity (means over pairs not of the same person)</th>${head}</tr>\n${rows.join('\n')}</table>`;
}

function identityCell(m: IdentityMeasures | undefined, gallery: boolean): string {
  if (!m) return '<td>–</td>';
  const against = gallery ? `G ${num(m.toGallery)} (T ${num(m.targetToGallery)})` : `S ${num(m.toSource)} (T ${num(m.targetToSource)})`;
  const nearest = m.retrieved ? '✓' : `✗ ${escape(m.nearest)}`;
  return `<td class="id">${against}<br>gain ${signed(m.gain)} · O,T ${num(m.toTarget)}${gallery ? ` · O,S ${num(m.toSource)}` : ''}<br>nearest ${nearest}</td>`;
}

function pairRow(p: PairResult, ids: readonly RecogniserId[], gallery: boolean): string {
  const img = (src: string | undefined, alt: string) => (src ? `<img src="${escape(src)}" alt="${escape(alt)}" title="${escape(alt)}">` : '');
  const flag = p.samePerson === true ? ' <span class="same">same person</span>' : p.samePerson === undefined ? ' <span class="unknown">identity unknown</span>' : '';
  const a = p.attributes;
  const cells = p.skipped
    ? `<td colspan="${ids.length + 5}" class="skip">${escape(p.skipped)}</td>`
    : [
        ...ids.map((id) => identityCell(p.identity?.[id], gallery)),
        `<td>${a ? `${num(a.yaw, 1)} / ${num(a.pitch, 1)} / ${num(a.roll, 1)}` : '–'}</td>`,
        `<td>${a ? `${pct(a.mouthOpenRelative)} / ${pct(a.eyesOpenRelative)}` : '–'}</td>`,
        `<td>${num(p.blending?.seamRatio)}</td>`,
        `<td>${num(p.blending?.psnrOutside, 1)}</td>`,
        `<td>${
          p.timings
            ? num(
                Object.values(p.timings).reduce((x, y) => x + y, 0),
                0,
              )
            : '–'
        }</td>`,
      ].join('');
  return `<tr><td>${escape(p.source)} →<br>${escape(p.target)}${flag}</td><td class="thumbs">${img(p.thumbnails?.source, 'source')}${img(p.thumbnails?.target, 'target')}${img(p.thumbnails?.result, 'result')}</td>${cells}</tr>`;
}

export function renderEvalHtml(report: EvalReport): string {
  const a = report.aggregate;
  const ids = report.recognisers.map((r) => r.id);
  const gallery = report.gainAgainst === 'gallery';
  const gates = checkGates(a, undefined, report.pairs);
  const baselines = ids.flatMap((id) => {
    const b = report.recogniserBaseline?.[id];
    return b
      ? [
          `<tr><td>${RECOGNISER_LABELS[id]}</td><td>${num(b.sameIdentity.mean)} (${num(b.sameIdentity.min)} … ${num(b.sameIdentity.max)}, n ${b.sameIdentity.count})</td><td>${num(b.differentIdentity.mean)} (${num(b.differentIdentity.min)} … ${num(b.differentIdentity.max)}, n ${b.differentIdentity.count})</td></tr>`,
        ]
      : [];
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>liveswap eval: ${escape(report.engine)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:middle}
td:first-child,th:first-child{text-align:left}.thumbs{white-space:nowrap}.thumbs img{height:120px;margin-right:4px}.skip{text-align:center;color:#a00}
.id{font-size:12px;text-align:left;white-space:nowrap}.same{color:#06c;font-size:12px}.unknown{color:#777;font-size:12px}.pass{color:#070}.fail{color:#a00}
pre{background:#f6f6f6;padding:1em;overflow-x:auto}
</style></head><body>
<h1>liveswap eval</h1>
<p>Engine <b>${escape(report.engine)}</b>, ${escape(report.mode)} mode. Identity measured with
${report.recognisers.map((r) => `<b>${escape(r.name)}</b>`).join(' and ')}, recognisers independent of the engine.
${report.sources.length} sources × ${report.targets.length} targets: ${a.pairs} pairs, ${a.measured} measured
(${a.pairsAcrossPeople} of different people, ${a.pairsSamePerson} of the same person).
O is the swapped face, T the original target face, S the source photo${gallery ? ", G the source person's gallery (the mean cosine over its photos, the target photo left out)" : ''}.</p>
<h2>Gates</h2>
<table><tr><th>measure</th><th>value</th><th>bar</th><th>mean over pairs</th><th>pairs over the bar</th><th></th></tr>
${gates.map((g) => `<tr><td>${escape(g.label)}</td><td>${formatGateValue(g.value, g.unit)}</td><td>${g.direction === 'at least' ? '≥' : '≤'} ${formatGateValue(g.threshold, g.unit)}</td><td>${formatGateValue(g.mean, g.unit)}</td><td>${g.over ? `${g.over.pairs} of ${g.over.of}` : '–'}</td><td class="${g.pass ? 'pass' : 'fail'}">${g.pass === undefined ? 'n/a' : g.pass ? 'pass' : 'fail'}</td></tr>`).join('\n')}
</table>
<h2>Summary</h2>
${identityTable(report, ids)}
<table><tr><th>pose, expression, blending (every measured pair)</th><th>mean</th><th>median</th><th>p95</th><th>max</th><th>n</th></tr>
${ATTRIBUTE_ROWS.map(([key, label, digits, percent]) => `<tr><td>${escape(label)}</td>${summaryCells(a[key] as Summary, digits, percent)}</tr>`).join('\n')}
</table>
${
  baselines.length
    ? `<p>What a cosine means with each recogniser: similarity between two photos of the same person and of different people, mean (min … max).</p>
<table><tr><th>recogniser</th><th>same person</th><th>different people</th></tr>${baselines.join('')}</table>`
    : ''
}
${report.ablation ? `<h2>Ablation of the mesh engine's settings</h2><p>Each variant changes one setting from the defaults; its change from the defaults is in brackets ("=": equal at this precision).</p><pre>${escape(formatAblationTable(report.ablation, ids))}</pre>` : ''}
${report.galleries ? `<h2>Galleries</h2><table><tr><th>person</th><th>gallery photos</th></tr>${report.galleries.map((g) => `<tr><td>${escape(g.person)}</td><td style="text-align:left">${g.photos.map(escape).join(', ')}</td></tr>`).join('')}</table>` : ''}
${
  report.videos.length
    ? `<h2>Video stability</h2><table><tr><th>video</th><th>source</th><th>frames</th><th>swapped / with face</th><th>jitter in / out (px)</th><th>flicker in / out</th></tr>
${report.videos
  .map(
    (v) =>
      `<tr><td>${escape(v.video)}</td><td>${escape(v.source)}</td><td>${v.frames}</td><td>${v.swappedFrames} / ${v.framesWithFace}</td><td>${num(v.jitterInput, 2)} / ${num(v.jitterOutput, 2)}</td><td>${num(v.flickerInput, 2)} / ${num(v.flickerOutput, 2)}</td></tr>`,
  )
  .join('\n')}</table>`
    : ''
}
<h2>Pairs</h2>
<table><tr><th>pair</th><th>source · target · result</th>${ids.map((id) => `<th>${RECOGNISER_LABELS[id]}</th>`).join('')}<th>Δ yaw/pitch/roll (°)</th><th>mouth / eyes openness off</th><th>seam</th><th>PSNR out (dB)</th><th>ms</th></tr>
${report.pairs.map((p) => pairRow(p, ids, gallery)).join('\n')}
</table>
</body></html>
`;
}

export async function writeEvalHtml(outDir: string, report: EvalReport): Promise<string> {
  const path = join(outDir, 'report.html');
  await writeFile(path, renderEvalHtml(report));
  return path;
}

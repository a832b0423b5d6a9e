/**
 * Frame rate and per-stage times under the preview. The numbers are also kept in data attributes
 * (data-fps, data-timings) whether shown or not, for tests and tools.
 */

import type { FrameReport } from '../../src/browser/live-client.js';
import type { FrameTimings } from '../../src/browser/protocol.js';

const STAGES = ['read', 'detect', 'track', 'embed', 'warp', 'colour', 'blend', 'mark', 'draw', 'total'] as const satisfies readonly (keyof FrameTimings)[];
/** Frames averaged over. */
const WINDOW = 30;
/** The text is redrawn at most this often (ms) so the panel costs no frame time. */
const REDRAW_MS = 250;

type Averages = Record<(typeof STAGES)[number] | 'latency', number>;

export class FrameStats {
  private readonly recent: (FrameTimings & { latency: number })[] = [];
  private last: FrameReport | undefined;
  private drawnAt = 0;
  private timer: number | undefined;

  constructor(
    private readonly fps: HTMLElement,
    private readonly timings: HTMLElement,
  ) {}

  show(fps: boolean, timings: boolean): void {
    this.fps.hidden = !fps;
    this.timings.hidden = !timings;
  }

  add(report: FrameReport): void {
    this.recent.push({ ...report.timings, latency: report.latency });
    if (this.recent.length > WINDOW) this.recent.shift();
    this.last = report;
    const now = performance.now();
    if (now - this.drawnAt >= REDRAW_MS) this.draw();
    else this.timer ??= window.setTimeout(() => this.draw(), REDRAW_MS - (now - this.drawnAt));
  }

  /** A new client: counts start again. */
  reset(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
    this.recent.length = 0;
    this.last = undefined;
    this.fps.textContent = '– fps';
    this.timings.textContent = '';
    delete this.fps.dataset.fps;
    delete this.timings.dataset.timings;
  }

  private draw(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
    this.drawnAt = performance.now();
    const report = this.last;
    if (!report) return;
    this.fps.dataset.fps = report.fps.toFixed(1);
    this.fps.textContent = `${report.fps.toFixed(1)} fps · ${report.dropped} dropped${report.failed > 0 ? ` · ${report.failed} failed` : ''}`;
    const averages = this.averages();
    this.timings.dataset.timings = JSON.stringify(averages);
    this.timings.textContent = [...STAGES, 'latency' as const].map((stage) => `${stage} ${averages[stage].toFixed(1)}`).join(' · ') + ' ms';
  }

  private averages(): Averages {
    const sums = Object.fromEntries([...STAGES, 'latency'].map((stage) => [stage, 0])) as Averages;
    for (const frame of this.recent) for (const stage of Object.keys(sums) as (keyof Averages)[]) sums[stage] += frame[stage];
    const count = Math.max(1, this.recent.length);
    for (const stage of Object.keys(sums) as (keyof Averages)[]) sums[stage] = Math.round((sums[stage] / count) * 100) / 100;
    return sums;
  }
}

/**
 * Frame rate and per-stage times under the preview: the rate shown against the quality
 * controller's target, camera frames dropped in the last second, and what the controller last
 * changed and why. The numbers are also kept in data attributes (data-fps, data-target,
 * data-dropped (since start), data-dropped-per-second, data-level, data-controller, data-timings)
 * whether shown or not, for tests and tools.
 */

import type { FrameReport } from '../../src/browser/live-client.js';
import type { FrameTimings } from '../../src/browser/protocol.js';

const STAGES = ['read', 'detect', 'track', 'embed', 'warp', 'colour', 'blend', 'upscale', 'mark', 'draw', 'total'] as const satisfies readonly (keyof FrameTimings)[];
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
  /** Cumulative dropped counts over the last second, oldest first, for the per-second figure. */
  private readonly drops: { at: number; dropped: number }[] = [];

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
    this.drops.push({ at: now, dropped: report.dropped });
    // Keep one entry at least a second old: it is the baseline of the last second.
    while (this.drops.length > 1 && this.drops[1]!.at <= now - 1000) this.drops.shift();
    if (now - this.drawnAt >= REDRAW_MS) this.draw();
    else this.timer ??= window.setTimeout(() => this.draw(), REDRAW_MS - (now - this.drawnAt));
  }

  /** A new client: counts start again. */
  reset(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
    this.recent.length = 0;
    this.last = undefined;
    this.drops.length = 0;
    this.fps.textContent = '– fps';
    this.fps.title = '';
    for (const key of ['target', 'dropped', 'droppedPerSecond', 'level', 'controller'] as const) delete this.fps.dataset[key];
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
    const { quality } = report;
    const perSecond = report.dropped - (this.drops[0]?.dropped ?? report.dropped);
    const data = this.fps.dataset;
    data.fps = report.fps.toFixed(1);
    data.target = String(quality.targetFps);
    data.dropped = String(report.dropped);
    data.droppedPerSecond = String(perSecond);
    data.level = String(quality.level);
    const parts = [quality.targetFps > 0 ? `${report.fps.toFixed(0)} of ${quality.targetFps} fps` : `${report.fps.toFixed(1)} fps`, `${perSecond} dropped/s`];
    if (report.failed > 0) parts.push(`${report.failed} failed`);
    if (quality.last) {
      data.controller = `${quality.last.direction}: ${quality.last.what} (${quality.last.why})`;
      parts.push(`quality ${quality.levels - quality.level}/${quality.levels}: ${quality.last.what}`);
      this.fps.title = `Adaptive quality: ${quality.last.what}, because ${quality.last.why}.`;
    } else if (quality.targetFps > 0) this.fps.title = `Adaptive quality holds ${quality.targetFps} fps: it has changed nothing yet.`;
    this.fps.textContent = parts.join(' · ');
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

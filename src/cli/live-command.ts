/**
 * `liveswap live`: swaps a camera, a video file or a stream live and sends the result to RTMP/SRT
 * servers, recordings and a v4l2 virtual camera at once. Flags are checked before
 * anything loads; the status is one line refreshed about once a second on a terminal, plain lines
 * otherwise, or JSON lines with --json-status. Ctrl-C (or SIGTERM) ends the stream cleanly: every
 * recording is finished and put in place, and the command exits 0.
 */

import { Command } from 'commander';
import { invalidOption, LiveswapError } from '../core/errors.js';
import type { OpenSwapper } from '../node/jobs/image-job.js';
import type { LiveDevice } from '../node/live/live-devices.js';
import type { LiveJobResult, LiveJobRunOptions } from '../node/live/live-job.js';
import type { LiveStatus } from '../node/live/live-run.js';
import type { LiveSink } from '../node/live/live-output.js';
import type { OutputPage, OutputPageOptions } from '../server/output-page.js';
import type { WhepEndpoint, WhepEndpointOptions } from '../server/whep-endpoint.js';
import type { LiveOutput } from '../node/live/live-spec.js';
import { VIDEO_PRESETS, type VideoPreset } from '../node/media/ffmpeg-formats.js';
import type { Terminal } from './errors.js';
import { parseNumber, parseWholeNumber, provenanceChoicesFromFlags, runtimeFromFlags, swapOptionsFromFlags, trackingOptionsFromFlags, type SwapFlags } from './flags.js';
import { addFlags, LIVE_VIDEO_PRESET, type FlagsOf } from './option-table.js';

/** What commander hands the live action; --output may be repeated. */
export type LiveFlags = Omit<FlagsOf<'live'>, 'output'> & { output?: string | string[] };

/** The x264 quality a stream gets unless --video-quality says otherwise (the video writer's default). */
const LIVE_CRF = 18;

export function createLiveCommand(run: (flags: LiveFlags) => Promise<void>): Command {
  return addFlags(new Command('live'), 'live')
    .description('Swap a camera, a video file or a stream live and send it to RTMP/SRT servers, recordings or a virtual camera.')
    .action(async (flags: LiveFlags) => run(flags));
}

/** "1280x720" → { width, height }. */
export function parseVideoSize(raw: string | undefined): { width: number; height: number } | undefined {
  if (raw === undefined) return undefined;
  const match = /^\s*(\d+)\s*[x×]\s*(\d+)\s*$/i.exec(raw);
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (!match || width < 16 || height < 16 || width > 7680 || height > 4320) throw invalidOption('--video-size', 'a size such as 1280x720 (16x16 to 7680x4320)', raw);
  return { width, height };
}

/** "0:12" from seconds. */
function clock(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

/** "live 0:12  29.8 fps  latency 45 ms  dropped 0.0/s (3)  quality 0/3  rtmp://host/live/… live" */
export function statusLine(status: LiveStatus): string {
  const outputs = status.outputs.map((o) => `${o.name} ${o.state}${o.skipped > 0 ? ` (${o.skipped} skipped)` : ''}${o.reconnects > 0 ? ` (${o.reconnects} reconnects)` : ''}`);
  return [
    `live ${clock(status.seconds)}`,
    `${status.fps.toFixed(1)} fps`,
    `latency ${Math.round(status.latencyMs)} ms`,
    `dropped ${status.droppedPerSecond.toFixed(1)}/s (${status.dropped})`,
    `quality ${status.quality.level}/${status.quality.levels - 1}`,
    ...outputs,
  ].join('  ');
}

export function formatLiveSummary(result: LiveJobResult): string {
  const lines = [
    `Streamed ${result.frames} frames in ${clock(result.seconds)} (${result.fps.toFixed(1)} fps) with the ${result.engine} engine; ${result.dropped} dropped for fresher ones, ` +
      `latency ${Math.round(result.latencyMs.median)} ms median, ${Math.round(result.latencyMs.p95)} ms p95. ${result.ended === 'stopped' ? 'Stopped.' : 'The input ended.'}`,
    `  marks   label ${result.label.shown ? `"${result.label.text ?? ''}"` : 'off'}, watermark ${result.watermarkId}`,
    ...result.outputs.map(
      (o) => `  output  ${o.name}: ${o.state}, ${o.frames} frames${o.skipped ? `, ${o.skipped} skipped` : ''}${o.reconnects ? `, ${o.reconnects} reconnects` : ''}`,
    ),
    ...result.recordings.map((r) => `  saved   ${r.path}${r.credentials === 'embedded' ? ' (content credentials embedded)' : ''}`),
  ];
  return lines.join('\n');
}

function formatDevices(devices: readonly LiveDevice[]): string {
  if (devices.length === 0) return 'No cameras found.';
  return devices.map((d) => `${d.api === 'v4l2' ? d.id : `camera:${d.id}`}  ${d.name}${d.loopback ? '  (v4l2loopback: use as --output v4l2:' + d.id + ')' : ''}`).join('\n');
}

export interface LiveContext {
  terminal: Terminal;
  open?: OpenSwapper;
  /** Aborted on Ctrl-C or SIGTERM: the stream ends cleanly. */
  signal?: AbortSignal;
  /** Starts the /output page of `--output output` (default: startOutputPage, loaded on demand). */
  startPage?: (options: OutputPageOptions) => Promise<OutputPage>;
  /** Starts the WHEP endpoint of `--output whep` (default: startWhepEndpoint, loaded on demand). */
  startWhep?: (options: WhepEndpointOptions) => Promise<WhepEndpoint>;
  /** Each input frame as the swap takes it, before it is processed (for measurements only: bench:stream stamps and times it). */
  onFrame?: LiveJobRunOptions['onFrame'];
}

/** Flags → checks → plan → stream → summary. */
export async function runLiveCommand(flags: LiveFlags, context: LiveContext): Promise<void> {
  const { terminal } = context;
  const [{ parseInputSpec, parseOutputSpecs }, { planLiveJob, runLiveJob }] = await Promise.all([import('../node/live/live-spec.js'), import('../node/live/live-job.js')]);
  if (flags.listDevices) {
    const { listDevices } = await import('../node/live/live-devices.js');
    const { ffmpegPath } = await import('../node/media/ffmpeg-binary.js');
    const devices = await listDevices({ ffmpegPath: ffmpegPath(flags.ffmpeg !== undefined ? { ffmpegPath: flags.ffmpeg } : {}) });
    if (flags.jsonStatus) terminal.out(JSON.stringify({ devices }));
    else terminal.out(formatDevices(devices));
    return;
  }
  if (flags.input === undefined) throw new LiveswapError('usage', "required option '-i, --input <spec>' not specified");
  const input = parseInputSpec(flags.input, { loop: flags.loop === true });
  const outputs: LiveOutput[] = parseOutputSpecs(([] as string[]).concat(flags.output ?? []));
  // The swap flags are read by the same functions as `liveswap swap` on a video (the rows are shared).
  const swapFlags = flags as unknown as SwapFlags;
  const paint = swapOptionsFromFlags(swapFlags);
  if (paint.faceIndex !== undefined) throw new LiveswapError('usage', '--face-index picks a face of an image; a stream follows the main face, or every face with --many-faces.');
  const tracking = trackingOptionsFromFlags(swapFlags);
  const runtime = runtimeFromFlags(swapFlags);
  const marks = provenanceChoicesFromFlags(flags);
  const size = parseVideoSize(flags.videoSize);
  const fps = parseNumber('--fps', flags.fps);
  if (fps !== undefined && !(fps > 0 && fps <= 120)) throw invalidOption('--fps', 'a frame rate above 0 and at most 120', flags.fps);
  const delay = parseNumber('--output-delay', flags.outputDelay) ?? 0;
  if (Math.abs(delay) > 10_000) throw invalidOption('--output-delay', 'milliseconds from -10000 to 10000', flags.outputDelay);
  const targetFps = parseNumber('--target-fps', flags.targetFps);
  if (targetFps !== undefined && !(targetFps >= 0 && targetFps <= 240)) throw invalidOption('--target-fps', 'a frame rate from 0 (off) to 240', flags.targetFps);
  const crf = parseWholeNumber('--video-quality', flags.videoQuality);
  if (crf !== undefined && crf > 51) throw invalidOption('--video-quality', 'a whole number from 0 (best) to 51', flags.videoQuality);
  const preset = (flags.videoPreset ?? LIVE_VIDEO_PRESET) as VideoPreset;
  if (!(VIDEO_PRESETS as readonly string[]).includes(preset)) throw invalidOption('--video-preset', `one of ${VIDEO_PRESETS.join(', ')}`, preset);
  const sources = ([] as string[]).concat(flags.source ?? []);

  const plan = await planLiveJob({
    sources,
    input,
    outputs,
    paint,
    tracking,
    marks,
    runtime,
    ...(flags.ffmpeg !== undefined ? { ffmpegPath: flags.ffmpeg } : {}),
    ...(size ? { size } : {}),
    ...(fps !== undefined ? { fps } : {}),
    audio: flags.audio !== false,
    audioDelayMs: delay,
    preset,
    crf: crf ?? LIVE_CRF,
    ...(targetFps !== undefined ? { targetFps } : {}),
  });
  if (context.signal?.aborted) return;
  const json = flags.jsonStatus === true;
  let lastLine = 0;
  // The /output page and the WHEP endpoint are served from here (node/ cannot reach the server layer); their sinks join the run.
  const served: { close(): Promise<void> }[] = [];
  const extraSinks = new Map<number, LiveSink>();
  try {
    for (const [index, output] of outputs.entries()) {
      if (output.kind === 'page') {
        const start = context.startPage ?? (await import('../server/output-page.js')).startOutputPage;
        const page = await start({ port: output.port, name: 'output page' });
        served.push(page);
        extraSinks.set(index, page.sink);
        if (json) terminal.out(JSON.stringify({ event: 'output-page', url: page.url }));
        else terminal.err(`liveswap: output page for OBS (browser source): ${page.url}`);
      } else if (output.kind === 'whep') {
        const start = context.startWhep ?? (await import('../server/whep-endpoint.js')).startWhepEndpoint;
        const whep = await start({ port: output.port, name: 'whep', media: { fps: plan.fps, audio: plan.audio, audioDelayMs: delay } });
        served.push(whep);
        extraSinks.set(index, whep.sink);
        if (json) terminal.out(JSON.stringify({ event: 'whep', url: whep.url, player: whep.playerUrl }));
        else terminal.err(`liveswap: WebRTC playback (WHEP): ${whep.url} (a player page: ${whep.playerUrl})`);
      }
    }
    const result = await runLiveJob(plan, {
      ...(extraSinks.size > 0 ? { extraSinks } : {}),
      ...(context.open ? { open: context.open } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
      ...(context.onFrame ? { onFrame: context.onFrame } : {}),
      onNotices: (notices) => {
        for (const notice of notices) terminal.err(`liveswap: note: ${notice}`);
      },
      onEvent: (message) => {
        if (json) terminal.out(JSON.stringify({ event: 'notice', message }));
        else {
          terminal.status?.('');
          terminal.err(`liveswap: ${message}`);
        }
      },
      onStatus: (status) => {
        if (json) terminal.out(JSON.stringify({ event: 'status', ...roundStatus(status) }));
        else if (terminal.status) terminal.status(statusLine(status));
        else if (status.seconds - lastLine >= 1 || status.seconds === 0) {
          lastLine = status.seconds;
          terminal.err(`liveswap: ${statusLine(status)}`);
        }
      },
    });
    terminal.status?.('');
    if (json) terminal.out(JSON.stringify({ event: 'done', ...result }));
    else terminal.out(formatLiveSummary(result));
  } finally {
    terminal.status?.('');
    await Promise.all(served.map((server) => server.close()));
  }
}

function roundStatus(status: LiveStatus): LiveStatus {
  const r = (v: number): number => Math.round(v * 10) / 10;
  return { ...status, seconds: r(status.seconds), fps: r(status.fps), latencyMs: Math.round(status.latencyMs), droppedPerSecond: r(status.droppedPerSecond) };
}

/**
 * `liveswap talk --face PHOTO_OR_VIDEO (--text TEXT | --text-file F | --audio FILE [--phonemes FILE]) -o OUT.mp4`:
 * a talking portrait. Speech from flite (or the user's audio) moves the face's mouth; a photo also
 * sways and blinks; `-s` gives the face another identity in the same pass. The output is marked,
 * credentialed and logged like every output.
 */

import { Command, Option } from 'commander';
import { invalidOption } from '../core/errors.js';
import { ENGINE_CHOICES, type EngineChoice, type LabelCorner } from '../pipeline/options.js';
import type { Terminal } from './errors.js';
import { provenanceChoicesFromFlags } from './flags.js';
import { formatProvenance } from './summary.js';

export interface TalkFlags {
  face: string;
  source?: string;
  text?: string;
  textFile?: string;
  audio?: string;
  phonemes?: string;
  output: string;
  voice?: string;
  fps?: string;
  engine?: string;
  label?: boolean;
  labelText?: string;
  labelCorner?: string;
  watermarkKey?: string;
  signCert?: string;
  signKey?: string;
  json?: boolean;
  quiet?: boolean;
}

export function createTalkCommand(run: (flags: TalkFlags) => Promise<void>): Command {
  return new Command('talk')
    .description('Make a face talk: speech from text (flite) or your audio moves the mouth of a photo or a video, written as a marked MP4 with the sound.')
    .requiredOption('--face <file>', 'the face that talks: a photo (it also sways and blinks) or a video (it keeps its own motion)')
    .option('-s, --source <photo>', "give the talking face this person's identity (the swap engine, in the same pass)")
    .option('--text <text>', 'the words to say, spoken by flite')
    .option('--text-file <file>', 'the words to say, from a UTF-8 text file')
    .option('--audio <file>', 'your own speech (any audio ffmpeg reads); the mouth follows its loudness, or --phonemes')
    .option('--phonemes <file>', 'with --audio: the phones and their end times ("phone end_seconds" per line, or JSON [{"phone","end"}])')
    .requiredOption('-o, --output <file>', 'the video to write (.mp4 or .mov)')
    .option('--voice <name>', 'the flite voice (list them with `flite -lv`: kal, kal16, slt, awb, rms…)')
    .option('--fps <n>', 'frames per second (default 25)')
    .addOption(new Option('--engine <name>', 'the swap engine for -s (default mesh: nothing to download)').choices([...ENGINE_CHOICES]))
    .option('--no-label', 'leave out the visible "AI-generated" label (the watermark, credentials and audit log stay)')
    .option('--label-text <text>', 'the label\'s text (default "AI-generated")')
    .option('--label-corner <corner>', 'where the label goes: bottom-right (default), bottom-left, top-right, top-left')
    .option('--watermark-key <file>', 'the watermark key (default: the one under LIVESWAP_HOME)')
    .option('--sign-cert <file>', 'your certificate chain for the content credentials (with --sign-key)')
    .option('--sign-key <file>', 'the private key of --sign-cert')
    .option('--json', 'print progress and the summary as JSON lines')
    .option('-q, --quiet', 'print only the summary')
    .action(async (flags: TalkFlags) => run(flags));
}

function fpsFrom(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 5 && value <= 60)) throw invalidOption('--fps', 'a frame rate from 5 to 60', raw);
  return value;
}

/** Plans (every input checked, nothing loaded), runs with progress, prints the summary. */
export async function runTalk(flags: TalkFlags, terminal: Terminal, signal?: AbortSignal): Promise<void> {
  const fps = fpsFrom(flags.fps);
  const marks = provenanceChoicesFromFlags({ ...flags, labelCorner: flags.labelCorner as LabelCorner | undefined });
  const { planTalkJob, runTalkJob } = await import('../node/jobs/talk-job.js');
  const plan = await planTalkJob({
    face: flags.face,
    output: flags.output,
    marks,
    ...(flags.source !== undefined ? { source: flags.source } : {}),
    ...(flags.text !== undefined ? { text: flags.text } : {}),
    ...(flags.textFile !== undefined ? { textFile: flags.textFile } : {}),
    ...(flags.audio !== undefined ? { audio: flags.audio } : {}),
    ...(flags.phonemes !== undefined ? { phonemes: flags.phonemes } : {}),
    ...(flags.voice !== undefined ? { voice: flags.voice } : {}),
    ...(fps !== undefined ? { fps } : {}),
    ...(flags.engine !== undefined ? { engine: flags.engine as EngineChoice } : {}),
  });
  const chatty = !flags.json && !flags.quiet;
  try {
    const result = await runTalkJob(plan, {
      ...(signal ? { signal } : {}),
      onProgress: (p) => {
        if (flags.json) terminal.out(JSON.stringify({ event: 'progress', frame: p.frame, total: p.total, elapsedSeconds: Math.round(p.elapsedSeconds * 10) / 10 }));
        else if (chatty && terminal.status) terminal.status(`talking: ${p.frame}/${p.total} frames`);
      },
    });
    if (chatty && terminal.status) terminal.status('');
    const { mouth: _mouth, ...summary } = result;
    if (flags.json) {
      terminal.out(JSON.stringify({ event: 'done', ...summary }));
      return;
    }
    if (!flags.quiet) for (const notice of result.notices) terminal.err(`liveswap: note: ${notice}`);
    const t = result.timings;
    terminal.out(
      [
        `Made ${result.durationSeconds.toFixed(2)} s of talk (${result.frames} frames at ${result.fps} fps, mouth from ${result.drivenBy}${result.swapped ? `, identity swapped with the ${result.engine} engine` : ''}) in ${(t.total / 1000).toFixed(1)} s.`,
        `  times   speech ${Math.round(t.speech)}, render ${Math.round(t.render)}, swap ${Math.round(t.swap)}, mark ${Math.round(t.mark)}, encode wait ${Math.round(t.encodeWait)} (ms)`,
        formatProvenance(result.published),
        `  output  ${result.output}`,
      ].join('\n'),
    );
  } finally {
    if (chatty && terminal.status) terminal.status('');
  }
}

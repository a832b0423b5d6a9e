/**
 * `liveswap faces scan`: lists the people in a video, with a thumbnail each, and writes map.json,
 * where the user picks a source photo per person for `liveswap swap --map-faces`.
 */

import { relative } from 'node:path';
import { Command } from 'commander';
import type { ScanSummary } from '../node/jobs/faces-scan.js';
import type { Terminal } from './errors.js';
import { parseNumber } from './flags.js';
import { addFlags, type FlagsOf } from './option-table.js';

export type FacesScanFlags = FlagsOf<'faces scan'> & { out: string };

/** `liveswap faces` with its subcommand `scan`. */
export function createFacesCommand(scan: (video: string, flags: FacesScanFlags) => Promise<void>): Command {
  const faces = new FacesCommand('faces').description('Find the people in a video, to swap each with their own photo.');
  const scanCommand = faces
    .command('scan')
    .description('find the people in a video; write a thumbnail per person and map.json to fill in')
    .argument('<video>', 'the video to scan');
  addFlags(scanCommand, 'faces scan').action(async (video: string, flags: FacesScanFlags) => scan(video, flags));
  return faces;
}

/** Passes the program's exit override and output settings on to the subcommand as well. */
class FacesCommand extends Command {
  override copyInheritedSettings(source: Command): this {
    super.copyInheritedSettings(source);
    for (const sub of this.commands) sub.copyInheritedSettings(this);
    return this;
  }
}

export async function runFacesScan(video: string, flags: FacesScanFlags, terminal: Terminal): Promise<void> {
  const sampleFps = parseNumber('--sample-fps', flags.sampleFps);
  const threshold = parseNumber('--threshold', flags.threshold);
  const { invalidOption } = await import('../core/errors.js');
  if (sampleFps !== undefined && !(sampleFps > 0 && sampleFps <= 120)) throw invalidOption('--sample-fps', 'a frame rate above 0 and at most 120', flags.sampleFps);
  if (threshold !== undefined && !(threshold > 0 && threshold < 1)) throw invalidOption('--threshold', 'a similarity between 0 and 1', flags.threshold);
  const { scanFaces } = await import('../node/jobs/faces-scan.js');
  let shown = 0;
  const summary = await scanFaces(video, { outDir: flags.out, sampleFps, threshold }, (p) => {
    if (flags.json) return;
    // A line per ten seconds of video is enough to show it is moving without flooding a log.
    if (p.seconds - shown >= 10) {
      shown = p.seconds;
      terminal.err(`  scanned ${p.seconds.toFixed(0)} s of ${p.durationSeconds.toFixed(0)} s, ${p.faces} faces`);
    }
  });
  terminal.out(flags.json ? JSON.stringify(summary) : formatScanSummary(summary));
}

/** The table of people and what to do next. */
export function formatScanSummary(summary: ScanSummary): string {
  const people = summary.identities.length;
  const lines = [
    `${people} ${people === 1 ? 'person' : 'people'} in ${summary.video} (${summary.faces} faces in ${summary.sampledFrames} frames, ${summary.shots} ${summary.shots === 1 ? 'shot' : 'shots'}):`,
    '',
    `${'id'.padStart(4)}  ${'appearances'.padStart(11)}  ${'first seen'.padStart(10)}  thumbnail`,
  ];
  for (const identity of summary.identities) {
    lines.push(`${String(identity.id).padStart(4)}  ${String(identity.frames).padStart(11)}  ${formatTime(identity.firstSeconds).padStart(10)}  ${display(identity.thumbnail)}`);
  }
  const map = display(summary.map);
  lines.push(
    '',
    `Map: ${map}`,
    'Next: look at the thumbnails, then in map.json set "source" of each person to swap to a photo',
    '(a path relative to map.json, or a list of photos of one person); leave null to keep them. Then:',
    `  liveswap swap -t ${quote(summary.video)} --map-faces ${quote(map)} -o out.mp4`,
  );
  return lines.join('\n');
}

/** m:ss.s, for times people read off a player. */
function formatTime(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${(seconds - minutes * 60).toFixed(1).padStart(4, '0')}`;
}

/** Paths under the working folder are shown relative to it: shorter, and what the user typed. */
function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') ? rel : path;
}

function quote(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

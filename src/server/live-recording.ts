/**
 * Finishing a recording of the live app. A browser's MediaRecorder writes a stream, not a file: a
 * WebM with no duration, or a fragmented MP4. The page sends the recording here; ffmpeg copies its
 * streams into a complete file (no re-encoding: the frames keep their label and watermark), an MP4
 * is signed with content credentials where the platform can, and the finished file goes back to
 * the page to be saved.
 */

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveswapError } from '../core/errors.js';
import { sha256File } from '../node/files/hash.js';
import { ownVersion } from '../node/files/package-info.js';
import { lastLines, runFfmpeg } from '../node/media/ffmpeg-binary.js';
import type { AuditEntry } from '../node/provenance/output-provenance.js';
import type { LabelState, SourceDigest } from '../pipeline/live-options.js';

/** The containers a recording may arrive in, by media type, with the file extension it is finished as. */
export const RECORDING_TYPES = { 'video/mp4': '.mp4', 'video/webm': '.webm', 'video/x-matroska': '.mkv' } as const;
export type RecordingType = keyof typeof RECORDING_TYPES;

/** What the finished file carries and how it was made. */
export interface FinishedRecording {
  bytes: Buffer;
  sha256: string;
  mimeType: RecordingType;
  credentials: AuditEntry['credentials'];
  /** Why it carries no content credentials, in words (absent when it does). */
  notice?: string;
}

export interface RecordingFacts {
  mimeType: RecordingType;
  label: LabelState;
  sources: readonly SourceDigest[];
  engine: string;
  /** The first session's watermark id (a recording spanning engine switches holds several). */
  watermarkId: string;
  /** Where the signing certificate is kept (LIVESWAP_HOME). */
  home: string;
}

/**
 * Copies the streams of `input` into a complete `output` (duration, index; an MP4's index in front).
 * Chromium records Opus sound in MP4, which older ffmpeg builds write only when told to allow it.
 */
async function remux(input: string, output: string, mp4: boolean): Promise<void> {
  const mp4Args = mp4 ? ['-strict', 'experimental', '-movflags', '+faststart'] : [];
  const run = await runFfmpeg(['-loglevel', 'error', '-y', '-i', input, '-map', '0', '-c', 'copy', ...mp4Args, output]);
  if (run.code !== 0) {
    throw new LiveswapError('input-unreadable', `The recording could not be read as a video (ffmpeg: ${lastLines(run.stderr, 3).trim() || `exit ${run.code}`}).`);
  }
}

/** Signs an MP4 in place when content credentials are available here; says why not otherwise. */
async function sign(file: string, facts: RecordingFacts): Promise<Pick<FinishedRecording, 'credentials' | 'notice'>> {
  if (facts.mimeType !== 'video/mp4') {
    return { credentials: 'format-unsupported', notice: 'WebM cannot carry content credentials; the label, the watermark and the audit log still mark it.' };
  }
  const c2pa = await import('../node/provenance/credentials.js');
  const available = await c2pa.credentialsAvailable();
  if (!available.ok) {
    return { credentials: 'unavailable', notice: `Content credentials are not available on this platform (${available.reason ?? 'unknown reason'}).` };
  }
  const signer = await c2pa.loadSigner(facts.home);
  const statement = {
    tool: 'liveswap',
    version: ownVersion(),
    created: new Date().toISOString(),
    sourceSha256: facts.sources.map((source) => source.sha256),
    watermarkId: facts.watermarkId,
    label: facts.label,
    engine: facts.engine,
  };
  await c2pa.signOutput(file, file, statement, signer);
  return { credentials: 'embedded' };
}

/** Turns the browser's recording into a complete (and, for MP4, signed) file. */
export async function finishRecording(recording: Buffer, facts: RecordingFacts): Promise<FinishedRecording> {
  const ext = RECORDING_TYPES[facts.mimeType];
  const dir = await mkdtemp(join(tmpdir(), 'liveswap-recording-'));
  try {
    const input = join(dir, `received${ext}`);
    const output = join(dir, `recording${ext}`);
    await writeFile(input, recording);
    await remux(input, output, facts.mimeType === 'video/mp4');
    const signed = await sign(output, facts);
    return { bytes: await readFile(output), sha256: await sha256File(output), mimeType: facts.mimeType, ...signed };
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

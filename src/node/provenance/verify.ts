/**
 * Checking a file for liveswap's marks: the signed manifest (present, valid, what it states), the
 * invisible watermark (found, payload, p-value, frames used), the visible label, and whether the
 * manifest and the watermark agree. Reading never changes the file and never makes a key.
 */

import { extname } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { findLabel } from '../../provenance/label.js';
import { formatWatermarkId } from '../../provenance/payload.js';
import { WatermarkDetector } from '../../provenance/watermark.js';
import type { CredentialsReport } from './credentials.js';
import { probeVideo } from '../media/ffmpeg-probe.js';
import { readFrames } from '../media/ffmpeg-read.js';
import { readImage } from '../media/image-io.js';
import { checkInputFile } from '../files/input-file.js';

/** Image containers verify reads; everything else is treated as a video and handed to ffmpeg. */
const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];

export interface WatermarkReport {
  /** False when no key was available to look with. */
  checked: boolean;
  found: boolean;
  watermarkId?: string;
  version?: number;
  /** Chance that a file without this watermark gives a result at least this strong (1 when not found). */
  pValue: number;
  framesUsed: number;
  framesRead: number;
  firstFrame?: number;
  /** Weak bits the soft decoding corrected in the window that decoded (counted in pValue). */
  bitsCorrected?: number;
  keyFile?: string;
}

export interface LabelReport {
  found: boolean;
  text?: string;
  corner?: string;
  confidence?: number;
}

export type VerifyVerdict = 'marked' | 'unmarked' | 'tampered' | 'mismatch';

export interface VerifyReport {
  file: string;
  media: 'image' | 'video';
  verdict: VerifyVerdict;
  /** One sentence for the user. */
  summary: string;
  manifest: CredentialsReport;
  watermark: WatermarkReport;
  label: LabelReport;
  /** Whether the manifest's watermark id is the one found in the pixels (undefined when either is missing). */
  agree?: boolean;
}

export interface VerifyOptions {
  key?: { key: Uint8Array; path: string };
  trustAnchors?: string[];
  /** Frames of a video read at most (default 1800, a minute at 30 fps). */
  maxFrames?: number;
}

interface PixelReport {
  watermark: WatermarkReport;
  label: LabelReport;
}

/** The label is looked for with the text the credentials state, else the default text. */
function labelOf(image: Image, text: string | undefined): LabelReport {
  let found: ReturnType<typeof findLabel>;
  try {
    found = findLabel(image, text);
  } catch {
    found = text !== undefined ? findLabel(image) : undefined; // stated text that cannot be a label
  }
  return found ? { found: true, text: found.text, corner: found.corner, confidence: Math.round(found.confidence * 1000) / 1000 } : { found: false };
}

function watermarkOf(detector: WatermarkDetector | undefined, framesRead: number, fps: number | undefined, keyFile: string | undefined): WatermarkReport {
  if (!detector) return { checked: false, found: false, pValue: 1, framesUsed: 0, framesRead };
  const d = detector.detection(fps);
  return {
    checked: true,
    found: d.found,
    ...(d.found && d.payload ? { watermarkId: formatWatermarkId(d.payload.assetId), version: d.payload.version, firstFrame: d.firstFrame, bitsCorrected: d.bitsFlipped } : {}),
    pValue: d.pValue,
    framesUsed: d.found ? d.framesUsed : 0,
    framesRead,
    ...(keyFile ? { keyFile } : {}),
  };
}

async function inspectImage(path: string, options: VerifyOptions, labelText: string | undefined): Promise<PixelReport> {
  const image = await readImage(path, { maxPixels: 400e6 });
  const detector = options.key ? new WatermarkDetector(options.key.key) : undefined;
  detector?.add(image);
  return { watermark: watermarkOf(detector, 1, undefined, options.key?.path), label: labelOf(image, labelText) };
}

async function inspectVideo(path: string, options: VerifyOptions, labelText: string | undefined): Promise<PixelReport> {
  const info = await probeVideo(path);
  const detector = options.key ? new WatermarkDetector(options.key.key) : undefined;
  const maxFrames = options.maxFrames ?? 1800;
  let frames = 0;
  let label: LabelReport = { found: false };
  const reader = readFrames(path);
  try {
    for await (const frame of reader) {
      if (frames === 0) label = labelOf(frame, labelText);
      detector?.add(frame);
      frames++;
      if (frames >= maxFrames) break;
    }
  } finally {
    await reader.return(undefined).catch(() => undefined);
  }
  if (frames === 0) throw new LiveswapError('input-unreadable', `${path} has no video frames.`, { file: path });
  return { watermark: watermarkOf(detector, frames, info.fps, options.key?.path), label };
}

function verdictOf(manifest: CredentialsReport, watermark: WatermarkReport): { verdict: VerifyVerdict; agree?: boolean; summary: string } {
  const stated = manifest.statement?.watermarkId;
  const agree = manifest.present && manifest.valid && stated !== undefined && watermark.found ? stated === watermark.watermarkId : undefined;
  if (manifest.present && !manifest.valid) {
    const codes = manifest.problems.map((p) => p.code).join(', ');
    const pixels = watermark.found ? ` The watermark ${watermark.watermarkId} is still in the pixels.` : '';
    return { verdict: 'tampered', summary: `The content credentials do not match the file (${codes || manifest.error || 'invalid'}): it was changed after signing.${pixels}` };
  }
  if (agree === false) {
    return {
      verdict: 'mismatch',
      agree,
      summary: `The credentials name watermark ${stated} but the pixels carry ${watermark.watermarkId}: the credentials were copied from another file.`,
    };
  }
  if (manifest.present && manifest.valid) {
    const wm = watermark.found ? `watermark ${watermark.watermarkId} found` : watermark.checked ? 'no watermark found in the pixels' : 'watermark not checked (no key)';
    return {
      verdict: 'marked',
      ...(agree !== undefined ? { agree } : {}),
      summary: `Made with ${manifest.statement?.tool ?? 'an AI tool'}: valid content credentials${manifest.trusted ? ' (trusted signer)' : ''}, ${wm}.`,
    };
  }
  if (watermark.found) {
    return {
      verdict: 'marked',
      summary: `Watermark ${watermark.watermarkId} found (p = ${watermark.pValue.toExponential(1)}); no content credentials (stripped or never embedded).`,
    };
  }
  return { verdict: 'unmarked', summary: watermark.checked ? 'No content credentials and no watermark found.' : 'No content credentials; the watermark was not checked (no key).' };
}

/** Verifies one file. Unreadable files throw; unmarked files are a verdict, not an error. */
export async function verifyFile(path: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const media = IMAGE_EXTENSIONS.includes(extname(path).toLowerCase()) ? 'image' : 'video';
  await checkInputFile(path, media); // a FIFO or a device is refused here, before anything opens it
  const { readCredentials } = await import('./credentials.js');
  const manifest = await readCredentials(path, options.trustAnchors ? { trustAnchors: options.trustAnchors } : {});
  const labelText = manifest.statement?.label?.text;
  const pixels = media === 'image' ? await inspectImage(path, options, labelText) : await inspectVideo(path, options, labelText);
  const { verdict, agree, summary } = verdictOf(manifest, pixels.watermark);
  return { file: path, media, verdict, summary, manifest, watermark: pixels.watermark, label: pixels.label, ...(agree !== undefined ? { agree } : {}) };
}

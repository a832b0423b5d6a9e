/**
 * The speech of a talking portrait: spoken from text by flite (installed by the user, with phone
 * timings that match its audio), or the user's own audio file decoded by ffmpeg, with an optional
 * phone track. The audio ends as mono 16-bit PCM in a WAV file the encoder muxes, and as samples
 * the timeline reads.
 */

import { spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import { parseFlitePhones, type TimedPhone } from '../../pipeline/talk-visemes.js';
import { checkInputFile, readInputFile, MIB } from '../files/input-file.js';
import { childExit, fileUrlArg, ffmpegPath, lastLines, StderrTail, type FfmpegOptions } from '../media/ffmpeg-binary.js';

/** The rate speech is worked on and written at: 48 kHz, where an AAC frame (1024 samples) is under a video frame, so the encoded audio ends within one frame of the video. */
export const SPEECH_RATE = 48000;
/** The longest speech a talk takes (seconds): a talk is a clip, not a film. */
export const MAX_SPEECH_SECONDS = 600;

export interface Speech {
  /** Mono samples, −1..1, at {@link SPEECH_RATE}. */
  samples: Float32Array;
  sampleRate: number;
  /** Timed phones, when the speech came with them (flite, or a track file). */
  phones: TimedPhone[] | undefined;
}

/** How to install flite, per system, for the error that says it is missing. */
export const FLITE_INSTALL_HINT =
  'Install it: Debian/Ubuntu `sudo apt-get install flite`, Fedora `sudo dnf install flite`, Arch `sudo pacman -S flite`, macOS `brew install flite`; ' +
  'or give your own speech with --audio FILE (and --phonemes FILE for exact lip timings).';

/** The flite voices installed (`flite -lv`), or undefined when flite cannot run. */
export function fliteVoices(flite = 'flite'): string[] | undefined {
  const probe = spawnSync(flite, ['-lv'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error || probe.status !== 0) return undefined;
  return probe.stdout.replace(/^.*?:/s, '').trim().split(/\s+/).filter(Boolean);
}

/** Checks that flite runs and knows `voice` (a name from `flite -lv`, or a .flitevox file); says how to fix it otherwise. */
export function checkFlite(voice: string | undefined, flite = 'flite'): void {
  const voices = fliteVoices(flite);
  if (!voices) throw new LiveswapError('usage', `--text needs the speech synthesizer flite, which is not installed (${flite} could not be run). ${FLITE_INSTALL_HINT}`);
  if (voice !== undefined && !voices.includes(voice) && !voice.endsWith('.flitevox')) {
    throw new LiveswapError('usage', `flite has no voice "${voice}"; installed: ${voices.join(', ')} (or give the path of a .flitevox file).`);
  }
}

/** Writes mono samples as a 16-bit PCM WAV file. */
export async function writeWav(path: string, samples: Float32Array, sampleRate: number): Promise<void> {
  const bytes = Buffer.alloc(44 + samples.length * 2);
  bytes.write('RIFF', 0, 'ascii');
  bytes.writeUInt32LE(36 + samples.length * 2, 4);
  bytes.write('WAVEfmt ', 8, 'ascii');
  bytes.writeUInt32LE(16, 16);
  bytes.writeUInt16LE(1, 20); // PCM
  bytes.writeUInt16LE(1, 22); // mono
  bytes.writeUInt32LE(sampleRate, 24);
  bytes.writeUInt32LE(sampleRate * 2, 28);
  bytes.writeUInt16LE(2, 32);
  bytes.writeUInt16LE(16, 34);
  bytes.write('data', 36, 'ascii');
  bytes.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), 44 + 2 * i);
  await writeFile(path, bytes);
}

/**
 * Decodes any audio ffmpeg reads (the audio of a video too) to mono samples at {@link SPEECH_RATE}.
 * `role` names the file in errors.
 */
export async function decodeAudio(file: string, options: FfmpegOptions & { role?: string } = {}): Promise<Float32Array> {
  const role = options.role ?? 'audio';
  await checkInputFile(file, role);
  const binary = ffmpegPath(options);
  const maxBytes = MAX_SPEECH_SECONDS * SPEECH_RATE * 4;
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', fileUrlArg(file), '-vn', '-sn', '-dn', '-ac', '1', '-ar', String(SPEECH_RATE), '-f', 'f32le', 'pipe:1'];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let length = 0;
  let tooLong = false;
  const stderr = new StderrTail();
  child.stdout!.on('data', (chunk: Buffer) => {
    length += chunk.length;
    if (length > maxBytes) {
      tooLong = true;
      child.kill('SIGKILL');
      return;
    }
    chunks.push(chunk);
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  const status = await childExit(child, binary);
  if (tooLong) throw new LiveswapError('input-too-large', `${file}: the ${role} lasts over ${MAX_SPEECH_SECONDS} s, the longest a talk takes.`, { file });
  const bytes = Buffer.concat(chunks);
  if (status.code !== 0 || bytes.length < 4) {
    const why = lastLines(stderr.text(), 3) || 'it holds no audio';
    throw new LiveswapError('input-unreadable', `${file} cannot be read as ${role === 'audio' ? 'audio' : `audio (${role})`}: ${why}.`, { file });
  }
  const samples = new Float32Array(bytes.length >> 2);
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readFloatLE(4 * i);
  return samples;
}

/** Mono samples at `rate` brought to {@link SPEECH_RATE} by linear interpolation (speech, upsampled: good enough for a voice). */
export function resampleToSpeechRate(input: Float32Array, rate: number): Float32Array {
  if (rate === SPEECH_RATE) return input;
  const n = input.length;
  const out = new Float32Array(Math.floor((n * SPEECH_RATE) / rate));
  for (let i = 0; i < out.length; i++) {
    const x = (i * rate) / SPEECH_RATE;
    const a = Math.floor(x);
    const f = x - a;
    out[i] = input[Math.min(n - 1, a)]! * (1 - f) + input[Math.min(n - 1, a + 1)]! * f;
  }
  return out;
}

/**
 * The samples of a plain WAV file (16-bit PCM, mono, as flite writes it) at {@link SPEECH_RATE}
 * (linear interpolation), read here without starting ffmpeg; undefined for any other WAV.
 */
export function readPcmWav(bytes: Buffer): Float32Array | undefined {
  if (bytes.length < 44 || bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let rate = 0;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('latin1', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      // PCM, mono, 16-bit only.
      if (bytes.readUInt16LE(body) !== 1 || bytes.readUInt16LE(body + 2) !== 1 || bytes.readUInt16LE(body + 14) !== 16) return undefined;
      rate = bytes.readUInt32LE(body + 4);
    } else if (id === 'data') {
      if (rate < 8000 || rate > SPEECH_RATE) return undefined;
      const n = Math.floor(Math.min(size, bytes.length - body) / 2);
      const input = new Float32Array(n);
      for (let i = 0; i < n; i++) input[i] = bytes.readInt16LE(body + 2 * i) / 32768;
      return resampleToSpeechRate(input, rate);
    }
    offset = body + size + (size & 1);
  }
  return undefined;
}

/**
 * Speaks `text` with flite into `folder` and returns the audio with flite's phone timings (its
 * `-psdur` output: each phone's end, on the audio's own clock). `voice`: a flite voice name.
 * `inline`: read flite's WAV here rather than through ffmpeg (one process less, for the live talk;
 * linear resampling instead of ffmpeg's).
 */
export async function speakWithFlite(text: string, folder: string, options: FfmpegOptions & { voice?: string; flite?: string; inline?: boolean } = {}): Promise<Speech> {
  const flite = options.flite ?? 'flite';
  const textFile = join(folder, 'speech.txt');
  const wav = join(folder, 'flite.wav');
  await writeFile(textFile, text);
  const args = [...(options.voice !== undefined ? ['-voice', options.voice] : []), '-psdur', '-f', textFile, '-o', wav];
  const child = spawn(flite, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = new StderrTail(4 * MIB);
  const stderr = new StderrTail();
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  let status;
  try {
    status = await childExit(child, flite);
  } catch (cause) {
    throw new LiveswapError('usage', `flite could not be run (${(cause as Error).message}). ${FLITE_INSTALL_HINT}`, { cause });
  }
  if (status.code !== 0) throw new LiveswapError('internal', `flite failed (exit ${String(status.code ?? status.signal)}): ${lastLines(stderr.text(), 3)}`);
  const samples = (options.inline ? readPcmWav(await readFile(wav)) : undefined) ?? (await decodeAudio(wav, { ...options, role: "flite's speech" }));
  const phones = parseFlitePhones(stdout.text(), samples.length / SPEECH_RATE);
  return { samples, sampleRate: SPEECH_RATE, phones };
}

/** Reads the text of --text-file: UTF-8, at most 64 KiB. */
export async function readSpeechText(file: string): Promise<string> {
  const bytes = await readInputFile(file, 'text', { maxBytes: 64 * 1024 });
  return bytes.toString('utf8');
}

/**
 * What `liveswap live --input SPEC --output SPEC` names, read into plain plans: a video file, a
 * stream URL or a camera to read, and the places the swapped stream goes (an RTMP or SRT server, a
 * recording file, a v4l2 loopback device, the /output page, a WHEP endpoint). Pure: no file or network is touched.
 */

import { extname } from 'node:path';
import { LiveswapError } from '../../core/errors.js';

/** The platforms whose camera APIs ffmpeg reads: v4l2 (Linux), avfoundation (macOS), dshow (Windows). */
export type CameraApi = 'v4l2' | 'avfoundation' | 'dshow';

/** The stream protocols read as URLs, each with ffmpeg's low-latency flags. */
export const INPUT_PROTOCOLS = ['rtmp', 'rtmps', 'rtsp', 'srt', 'http', 'https'] as const;
export type InputProtocol = (typeof INPUT_PROTOCOLS)[number];

export type LiveInput =
  /** A video file played at its own pace (`-re`), from the start again at its end with `loop`. */
  | { kind: 'file'; path: string; loop: boolean }
  /** A stream pulled from a server. */
  | { kind: 'url'; url: string; protocol: InputProtocol }
  /** A camera: a device path (/dev/video0), an index (avfoundation) or a name (dshow). */
  | { kind: 'camera'; api: CameraApi; device: string };

/** Containers a recording is written in: fragmented MP4 (plays after a kill) or Matroska. */
export const RECORDING_EXTENSIONS = ['.mp4', '.mkv'] as const;
export type RecordingExtension = (typeof RECORDING_EXTENSIONS)[number];

export type LiveOutput =
  /** Pushed as FLV (H.264 + AAC) to an RTMP server: OBS, nginx-rtmp, YouTube or Twitch ingest. */
  | { kind: 'rtmp'; url: string }
  /** Pushed as MPEG-TS over SRT. */
  | { kind: 'srt'; url: string }
  /** A recording, written under another name and renamed into place when the stream ends cleanly. */
  | { kind: 'file'; path: string; container: RecordingExtension }
  /** A v4l2loopback device (Linux), seen by other programs as a camera. */
  | { kind: 'v4l2'; device: string }
  /** The web app's /output page (an OBS browser source) served on loopback at `port` (0: any free one); pictures only. */
  | { kind: 'page'; port: number }
  /** A WHEP endpoint (WebRTC playback) served on loopback at `port`, path /whep; with the input's sound for players that ask for audio. */
  | { kind: 'whep'; port: number };

/** The port of `--output output` when none is named (the web app itself uses 7860). */
export const DEFAULT_PAGE_PORT = 7861;
/** The port of `--output whep` when none is named. */
export const DEFAULT_WHEP_PORT = 7862;

/** Reads `output[:PORT]` (or `page[:PORT]`) and `whep[:PORT]`; undefined for any other spec. */
function servedOutput(text: string): LiveOutput | undefined {
  const match = /^(output|page|whep)(?::(.*))?$/i.exec(text);
  if (!match) return undefined;
  const kind = match[1]!.toLowerCase() === 'whep' ? 'whep' : 'page';
  if (match[2] === undefined) return { kind, port: kind === 'whep' ? DEFAULT_WHEP_PORT : DEFAULT_PAGE_PORT };
  const port = /^\d{1,5}$/.test(match[2]) ? Number(match[2]) : Number.NaN;
  if (!(port >= 0 && port <= 65535))
    throw new LiveswapError(
      'usage',
      `--output ${text}: the port is a number from 0 (any free port) to 65535, as in ${match[1]}:${kind === 'whep' ? DEFAULT_WHEP_PORT : DEFAULT_PAGE_PORT}.`,
    );
  return { kind, port };
}

/** The camera API ffmpeg has on a platform, or undefined where none is known. */
export function cameraApiFor(platform: NodeJS.Platform): CameraApi | undefined {
  if (platform === 'linux') return 'v4l2';
  if (platform === 'darwin') return 'avfoundation';
  if (platform === 'win32') return 'dshow';
  return undefined;
}

function protocolOf(spec: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec)?.[1]?.toLowerCase();
}

/** The camera named by `camera:N` or `camera:NAME` on `platform`: /dev/videoN on Linux, the index on macOS, the name on Windows. */
function cameraInput(name: string, platform: NodeJS.Platform): LiveInput {
  const api = cameraApiFor(platform);
  if (api === undefined) throw new LiveswapError('usage', `Cameras are read through ffmpeg on Linux, macOS and Windows only, not on ${platform}.`);
  if (name === '') throw new LiveswapError('usage', 'Name the camera after "camera:": an index (camera:0) or a device name; `liveswap live --list-devices` lists them.');
  const index = /^\d+$/.test(name);
  if (api === 'v4l2') return { kind: 'camera', api, device: index ? `/dev/video${name}` : name };
  return { kind: 'camera', api, device: name };
}

/**
 * Reads `--input`: `camera:N` (or `camera:NAME`), a /dev/video* device on Linux, a stream URL
 * (rtmp, rtmps, rtsp, srt, http, https), or else a video file. `loop` replays a file at its end.
 */
export function parseInputSpec(spec: string, options: { loop?: boolean; platform?: NodeJS.Platform } = {}): LiveInput {
  const platform = options.platform ?? process.platform;
  const text = spec.trim();
  if (text === '') throw new LiveswapError('usage', '--input is empty: give a video file, a stream URL (rtmp://, rtsp://, srt://, http(s)://) or camera:N.');
  const camera = /^camera:(.*)$/i.exec(text);
  let input: LiveInput;
  if (camera) input = cameraInput(camera[1]!.trim(), platform);
  else if (platform === 'linux' && /^\/dev\/video\d+$/.test(text)) input = { kind: 'camera', api: 'v4l2', device: text };
  else {
    const protocol = protocolOf(text);
    if (protocol !== undefined) {
      if (!(INPUT_PROTOCOLS as readonly string[]).includes(protocol)) {
        throw new LiveswapError(
          'usage',
          `--input ${text}: ${protocol}:// is not a stream liveswap reads; use ${INPUT_PROTOCOLS.map((p) => `${p}://`).join(', ')}, camera:N or a video file.`,
        );
      }
      input = { kind: 'url', url: text, protocol: protocol as InputProtocol };
    } else input = { kind: 'file', path: text, loop: false };
  }
  if (options.loop) {
    if (input.kind !== 'file') throw new LiveswapError('usage', '--loop replays a video file; a stream or a camera has no end to loop from.');
    return { ...input, loop: true };
  }
  return input;
}

/**
 * Reads one `--output`: rtmp(s):// and srt:// URLs, `v4l2:/dev/videoN` (Linux), `output[:PORT]` (the
 * /output page for an OBS browser source), `whep[:PORT]` (WebRTC playback), or a recording file
 * ending in .mp4 or .mkv.
 */
export function parseOutputSpec(spec: string, options: { platform?: NodeJS.Platform } = {}): LiveOutput {
  const platform = options.platform ?? process.platform;
  const text = spec.trim();
  const served = servedOutput(text);
  if (served) return served;
  const v4l2 = /^v4l2:(.*)$/i.exec(text);
  if (v4l2) {
    if (platform !== 'linux')
      throw new LiveswapError('usage', `--output ${text}: v4l2 loopback devices exist on Linux only; on ${platform} use OBS's virtual camera (see the README).`);
    const device = v4l2[1]!.trim();
    if (!/^\/dev\/video\d+$/.test(device)) throw new LiveswapError('usage', `--output ${text}: name the loopback device as v4l2:/dev/videoN.`);
    return { kind: 'v4l2', device };
  }
  const protocol = protocolOf(text);
  if (protocol === 'rtmp' || protocol === 'rtmps') return { kind: 'rtmp', url: text };
  if (protocol === 'srt') return { kind: 'srt', url: text };
  if (protocol !== undefined) throw new LiveswapError('usage', `--output ${text}: liveswap pushes to rtmp://, rtmps:// and srt:// servers, not ${protocol}://.`);
  if (text === '') throw new LiveswapError('usage', '--output is empty.');
  const ext = extname(text).toLowerCase();
  if (!(RECORDING_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new LiveswapError(
      'usage',
      `--output ${text}: a recording is written as ${RECORDING_EXTENSIONS.join(' or ')}; other outputs are rtmp://…, srt://…, output[:PORT] (the /output page) and v4l2:/dev/videoN.`,
    );
  }
  return { kind: 'file', path: text, container: ext as RecordingExtension };
}

/** The outputs of one run, checked together: at least one, no file, URL or device twice. */
export function parseOutputSpecs(specs: readonly string[], options: { platform?: NodeJS.Platform } = {}): LiveOutput[] {
  if (specs.length === 0)
    throw new LiveswapError(
      'usage',
      'Give at least one --output: rtmp://…, srt://…, a recording file (.mp4, .mkv), output (the /output page), whep (WebRTC playback) or v4l2:/dev/videoN.',
    );
  const outputs = specs.map((spec) => parseOutputSpec(spec, options));
  const seen = new Set<string>();
  for (const output of outputs) {
    const key = describeOutput(output);
    if (seen.has(key)) throw new LiveswapError('usage', `--output ${key} is given twice.`);
    seen.add(key);
  }
  return outputs;
}

/** The output as the user named it, for the status line and messages (URLs without their stream key). */
export function describeOutput(output: LiveOutput): string {
  switch (output.kind) {
    case 'rtmp':
    case 'srt':
      return output.url;
    case 'file':
      return output.path;
    case 'v4l2':
      return `v4l2:${output.device}`;
    case 'page':
      return `output:${output.port}`;
    case 'whep':
      return `whep:${output.port}`;
  }
}

/**
 * A short name for the status line: the server and path of a URL with the last part (a stream
 * key on YouTube and Twitch) hidden, a file's name, the device.
 */
export function shortOutputName(output: LiveOutput): string {
  if (output.kind === 'rtmp' || output.kind === 'srt') return redactUrl(output.url);
  return describeOutput(output);
}

/** A URL with its last path part and any query (where stream keys and passwords go) replaced by "…". */
export function redactUrl(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(\/[^?#]*)?/i.exec(url);
  if (!match) return url;
  const [, scheme, host, path = ''] = match;
  const hostOnly = host!.replace(/^[^@]*@/, '');
  const parts = path.split('/');
  if (parts.length > 2 && parts[parts.length - 1] !== '') parts[parts.length - 1] = '…';
  return `${scheme}${hostOnly}${parts.join('/')}${/[?#]/.test(url) ? '…' : ''}`;
}

/** The input as the user named it (a URL without its stream key). */
export function describeInput(input: LiveInput): string {
  if (input.kind === 'url') return redactUrl(input.url);
  if (input.kind === 'camera') return `camera ${input.device} (${input.api})`;
  return input.loop ? `${input.path} (looped)` : input.path;
}

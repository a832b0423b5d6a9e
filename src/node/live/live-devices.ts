/**
 * Cameras and virtual-camera devices on this machine, for `liveswap live --list-devices` and the
 * checks before a run: on Linux the /dev/video* devices with the names the kernel gives them (a
 * v4l2loopback device is one of them), on macOS and Windows what ffmpeg's avfoundation or dshow
 * lists. The parsers of ffmpeg's lists are pure, for tests.
 */

import { access, constants, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import { runFfmpeg } from '../media/ffmpeg-binary.js';
import { listDevicesArgs } from './live-args.js';
import { cameraApiFor, type CameraApi } from './live-spec.js';

export interface LiveDevice {
  api: CameraApi;
  /** What `--input camera:…` takes: the /dev path on Linux, the index on macOS, the name on Windows. */
  id: string;
  name: string;
  /** A v4l2loopback device (a virtual camera liveswap can write to with `--output v4l2:…`). */
  loopback?: boolean;
}

/** v4l2 devices under `dev`, named from `sysfs` (/sys/class/video4linux). */
export async function listV4l2Devices(dev = '/dev', sysfs = '/sys/class/video4linux'): Promise<LiveDevice[]> {
  const names = (await readdir(dev).catch(() => [] as string[])).filter((name) => /^video\d+$/.test(name));
  names.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const devices: LiveDevice[] = [];
  for (const name of names) {
    const label = (await readFile(join(sysfs, name, 'name'), 'utf8').catch(() => '')).trim();
    const driver = (await readFile(join(sysfs, name, 'device', 'modalias'), 'utf8').catch(() => '')).trim();
    const loopback = /loopback|dummy video device/i.test(label) || /v4l2loopback/i.test(driver);
    devices.push({ api: 'v4l2', id: join(dev, name), name: label || name, ...(loopback ? { loopback: true } : {}) });
  }
  return devices;
}

/** The video devices in avfoundation's list (`[AVFoundation …] [0] FaceTime HD Camera`), up to its audio devices. */
export function parseAvfoundationList(stderr: string): LiveDevice[] {
  const devices: LiveDevice[] = [];
  let video = false;
  for (const line of stderr.split(/\r?\n/)) {
    if (/AVFoundation video devices/i.test(line)) video = true;
    else if (/AVFoundation audio devices/i.test(line)) video = false;
    else if (video) {
      const match = /\]\s*\[(\d+)\]\s*(.+)$/.exec(line);
      if (match) devices.push({ api: 'avfoundation', id: match[1]!, name: match[2]!.trim() });
    }
  }
  return devices;
}

/** The video devices in dshow's list: `"Integrated Camera" (video)`, or the older layout under "DirectShow video devices". */
export function parseDshowList(stderr: string): LiveDevice[] {
  const devices: LiveDevice[] = [];
  let section: 'video' | 'audio' | undefined;
  for (const line of stderr.split(/\r?\n/)) {
    if (/DirectShow video devices/i.test(line)) section = 'video';
    else if (/DirectShow audio devices/i.test(line)) section = 'audio';
    const match = /\]\s*"([^"]+)"\s*(\((video|audio|none)\))?\s*$/.exec(line);
    if (!match) continue;
    const kind = match[3] ?? section;
    if (kind === 'video') devices.push({ api: 'dshow', id: match[1]!, name: match[1]! });
  }
  return devices;
}

/** The cameras (and loopback devices) of this machine. */
export async function listDevices(options: { ffmpegPath: string; platform?: NodeJS.Platform }): Promise<LiveDevice[]> {
  const platform = options.platform ?? process.platform;
  const api = cameraApiFor(platform);
  if (api === undefined) throw new LiveswapError('usage', `liveswap lists cameras on Linux, macOS and Windows only, not on ${platform}.`);
  if (api === 'v4l2') return listV4l2Devices();
  const run = await runFfmpeg(listDevicesArgs(api), { ffmpegPath: options.ffmpegPath });
  return api === 'avfoundation' ? parseAvfoundationList(run.stderr) : parseDshowList(run.stderr);
}

/** How to make a v4l2 loopback device, for messages and the README. */
export const V4L2LOOPBACK_HINT = 'Load v4l2loopback first (sudo modprobe v4l2loopback exclusive_caps=1 card_label=liveswap), then give the device it made.';

/** Throws a typed `output` error when a v4l2 output device is missing or cannot be written. */
export async function checkV4l2Output(device: string): Promise<void> {
  try {
    await access(device, constants.W_OK);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LiveswapError(
      'output',
      missing ? `There is no video device at ${device}. ${V4L2LOOPBACK_HINT}` : `Cannot write to ${device}: ${(cause as Error).message}. Is your user in the "video" group?`,
      { file: device, cause },
    );
  }
}

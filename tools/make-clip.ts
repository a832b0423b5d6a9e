/**
 * Makes a short test video from a fixture photo with ffmpeg (see test/helpers/clips.ts): the photo
 * held still or slowly zoomed, optional noise, a sine tone and a rotation tag.
 *
 *   node --import tsx tools/make-clip.ts -o clip.mp4 [--photo grace_hopper.jpg] [--motion static|zoom]
 *     [--size 320x240] [--fps 25] [--frames 25] [--noise 6] [--audio 440] [--rotation 90] [--crf 18]
 */
import { parseArgs } from 'node:util';
import { type ClipOptions, writeClip } from '../test/helpers/clips.js';

const { values } = parseArgs({
  options: {
    output: { type: 'string', short: 'o' },
    photo: { type: 'string' },
    motion: { type: 'string' },
    size: { type: 'string' },
    fps: { type: 'string' },
    frames: { type: 'string' },
    noise: { type: 'string' },
    audio: { type: 'string' },
    rotation: { type: 'string' },
    crf: { type: 'string' },
  },
});

function fail(message: string): never {
  console.error(`make-clip: ${message}`);
  process.exit(2);
}

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) fail(`--${name} needs a number, not "${value}"`);
  return n;
}

if (!values.output) fail('give the output file with -o (its extension picks the container: .mp4, .mov, .mkv, .webm)');
const size = values.size === undefined ? undefined : /^(\d+)x(\d+)$/.exec(values.size);
if (size === null) fail(`--size takes WIDTHxHEIGHT, not "${values.size}"`);
if (values.motion !== undefined && values.motion !== 'static' && values.motion !== 'zoom') fail('--motion is static or zoom');
const rotation = numberFlag('rotation', values.rotation);
if (rotation !== undefined && ![0, 90, 180, 270].includes(rotation)) fail('--rotation is 0, 90, 180 or 270');

const options: ClipOptions = {
  photo: values.photo,
  motion: values.motion as ClipOptions['motion'],
  width: size ? Number(size[1]) : undefined,
  height: size ? Number(size[2]) : undefined,
  fps: numberFlag('fps', values.fps),
  frames: numberFlag('frames', values.frames),
  noise: numberFlag('noise', values.noise),
  audioHz: numberFlag('audio', values.audio),
  rotation: rotation as ClipOptions['rotation'],
  crf: numberFlag('crf', values.crf),
};
try {
  await writeClip(values.output, options);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
console.log(values.output);

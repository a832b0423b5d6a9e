/**
 * Every command-line flag, one row each: its spelling, help text, how its value is read, the option
 * it sets and the commands that take it. The commander declarations (`addFlags`), the flag types of
 * each command (`FlagsOf`), the flag names in messages and the defaults shown in help all come from
 * here; defaults of the option schema are read from the mode defaults in pipeline/options.ts.
 */

import { Command, Option } from 'commander';
import { RECOGNISERS } from '../eval/recognisers.js';
import { BENCH_MODES } from '../node/eval/bench-modes.js';
import { VIDEO_CODECS, VIDEO_PRESETS } from '../node/media/ffmpeg-write.js';
import { AUDIT_KINDS } from '../node/provenance/output-provenance.js';
import { SCOPES } from '../node/service/types.js';
import { DEFAULT_IDENTITY_THRESHOLD, DEFAULT_SIMILAR_FACE_DISTANCE } from '../pipeline/face-map.js';
import {
  ENGINE_CHOICES,
  EXECUTION_PROVIDERS,
  FACE_PARSERS,
  FACE_REGIONS,
  LABEL_CORNERS,
  MODE_DEFAULTS,
  OCCLUSION_MASKS,
  FACE_ENHANCERS,
  PIXEL_BOOSTS,
  STILL_DEFAULTS,
  type MarkOptions,
  type Mode,
  type PaintOptions,
  type TrackingOptions,
} from '../pipeline/options.js';
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from '../server/api/defaults.js';
import { DEFAULT_UI_HOST, DEFAULT_UI_PORT } from '../server/defaults.js';

export const COMMANDS = [
  'swap',
  'eval',
  'bench',
  'demo',
  'ui',
  'serve',
  'live',
  'faces scan',
  'verify',
  'audit',
  'models list',
  'models pull',
  'models verify',
  'models import',
  'models path',
  'tokens create',
  'tokens list',
  'tokens revoke',
  'protect add',
  'protect list',
  'protect remove',
] as const;
export type CommandName = (typeof COMMANDS)[number];

/**
 * How a flag's value is read: a number, a whole number ≥ 0, a pixel count (50M), one of `choices`,
 * a switch (`--x`, or `--no-x` alone: on by default), a negatable switch (`--x` and `--no-x`, unset
 * meaning the default), a value that may be repeated (a list), or text checked by its command.
 */
export const FLAG_PARSERS = ['number', 'whole', 'pixels', 'choice', 'switch', 'negatable', 'repeatable', 'text'] as const;
export type FlagParser = (typeof FLAG_PARSERS)[number];

/** Which option of the schema a flag sets; `field` for a part of one (the smoothing's parameters). */
export type OptionTarget =
  { group: 'paint'; key: keyof PaintOptions } | { group: 'tracking'; key: keyof TrackingOptions; field?: 'minCutoff' | 'beta' } | { group: 'marks'; key: keyof MarkOptions };

export interface FlagRow {
  /** The long spelling; a lone `--no-x` is a switch that is on unless given. */
  readonly flag: `--${string}`;
  readonly short?: `-${string}`;
  /** The value's name in help (`--opacity <0..1>`); none for switches. */
  readonly value?: string;
  /** Where commander stores it (`--no-audio` → `audio`). */
  readonly key: string;
  /** Help text, or one per command; `{default}` marks where the default goes, else it is appended. */
  readonly description: string | Readonly<Partial<Record<CommandName, string>>>;
  /** For a negatable switch: the help text of its `--no-` form. */
  readonly off?: string;
  readonly parse: FlagParser;
  readonly choices?: readonly string[];
  readonly sets?: OptionTarget;
  readonly commands: readonly CommandName[];
  /** Commands where it must be given. */
  readonly required?: readonly CommandName[];
  /** Commands where a text flag may be repeated (its value is then a list). */
  readonly repeatableFor?: readonly CommandName[];
  /** Only for a video target of `swap` (help says "video: "; an image target refuses it). */
  readonly videoOnly?: true;
  /** The default help shows when the row sets no option, or sets one whose default is "unset"; false: none. */
  readonly shows?: string | false;
}

/** Defaults of what only the command line sets (the runtime, bench sizes, output folders). */
export const CLI_DEFAULTS = Object.freeze({
  executionProvider: 'cpu',
  executionThreads: 1,
  // What node/jobs/video-swap.ts asks the encoder for; the writer's own default is medium.
  videoPreset: 'veryfast',
  similarFaceDistance: DEFAULT_SIMILAR_FACE_DISTANCE,
  benchSize: { width: 1280, height: 720 },
  benchFrames: 30,
  evalDir: 'liveswap-eval',
  demoDir: 'liveswap-demo',
  // The next two repeat node defaults (faces-scan, verify) that cannot be imported without loading models; a test ties them.
  sampleFps: 2,
  verifyMaxFrames: 1800,
} as const);

/**
 * `liveswap live`'s x264 preset: one step faster than a file's, so that on two cores the encoder
 * leaves the swap its share (at 1280×720 x264 takes 10–12 ms a frame with it against 15–16 ms with
 * `veryfast`; lowering the preset is also OBS's advice when it reports encoding overload).
 */
export const LIVE_VIDEO_PRESET = 'superfast';

const EVERY_COMMAND_WITH_JSON = [
  'swap',
  'eval',
  'bench',
  'faces scan',
  'verify',
  'audit',
  'models list',
  'models pull',
  'models verify',
  'models import',
  'models path',
  'tokens list',
  'protect list',
] as const;
const ONE_JSON_OBJECT = 'print one JSON object';

/** The rows, in the order help lists them. */
export const FLAG_TABLE = [
  {
    flag: '--source',
    short: '-s',
    value: 'file',
    key: 'source',
    parse: 'repeatable',
    commands: ['swap', 'live'],
    description: 'photo with the face to use (JPEG, PNG or WebP); repeat for several photos of the same person',
  },
  {
    flag: '--target',
    short: '-t',
    value: 'file',
    key: 'target',
    parse: 'text',
    commands: ['swap'],
    required: ['swap'],
    description: 'image (JPEG, PNG, WebP) or video (MP4, MOV, MKV, WebM, GIF, …) whose face(s) are replaced',
  },
  {
    flag: '--output',
    short: '-o',
    value: 'file',
    key: 'output',
    parse: 'text',
    commands: ['swap', 'live'],
    required: ['swap'],
    repeatableFor: ['live'],
    description: {
      swap: 'where to write the result; the format follows the extension: .jpg, .jpeg, .png, .webp for images, .mp4, .mkv, .webm, .mov for videos',
      live: 'where the swapped stream goes, repeatable: rtmp://… or srt://… (pushed; reconnects when dropped), a recording (.mp4 fragmented and signed, or .mkv), output[:PORT] (the /output page for an OBS browser source, default port 7861), whep[:PORT] (WebRTC playback, default port 7862) or v4l2:/dev/videoN (Linux virtual camera)',
    },
  },
  {
    flag: '--people',
    value: 'dir',
    key: 'people',
    parse: 'text',
    commands: ['eval'],
    description: 'folder with one subfolder of photos per person: the first photo is the source, the rest the gallery',
  },
  {
    flag: '--source-photos',
    value: 'n',
    key: 'sourcePhotos',
    parse: 'whole',
    shows: '1',
    commands: ['eval'],
    description: "with --people: each person's first n photos are one source (the engine combines them); at least one photo is always left for the gallery",
  },
  {
    flag: '--gallery-from',
    value: 'k',
    key: 'galleryFrom',
    parse: 'whole',
    shows: '--source-photos',
    commands: ['eval'],
    description:
      "with --people: each person's gallery starts after their first k photos (at the latest at their last photo), so runs with different --source-photos share one gallery",
  },
  { flag: '--groups', value: 'dir', key: 'groups', parse: 'text', commands: ['eval'], description: 'with --people: folder of group photos (every face is a target) and videos' },
  { flag: '--sources', value: 'dir', key: 'sources', parse: 'text', commands: ['eval'], description: 'folder of source photos (default: the bundled photos)' },
  {
    flag: '--targets',
    value: 'dir',
    key: 'targets',
    parse: 'text',
    commands: ['eval'],
    description: 'folder of target images and videos (default: augmented copies of the bundled photos and a group picture)',
  },
  {
    flag: '--engine',
    value: 'name',
    key: 'engine',
    parse: 'choice',
    choices: ENGINE_CHOICES,
    sets: { group: 'paint', key: 'engine' },
    commands: ['swap', 'eval', 'bench', 'live'],
    description: 'which engine swaps',
  },
  // Paint.
  {
    flag: '--many-faces',
    key: 'manyFaces',
    parse: 'switch',
    sets: { group: 'paint', key: 'manyFaces' },
    commands: ['swap', 'live'],
    description:
      'swap every face in the target, not only the main face (image: largest area, discounted up to half by distance from the centre; video: the largest, followed until lost or a cut)',
  },
  {
    flag: '--face-index',
    value: 'n',
    key: 'faceIndex',
    parse: 'whole',
    sets: { group: 'paint', key: 'faceIndex' },
    shows: false,
    commands: ['swap'],
    description: 'swap only this target face (0 = largest, then by size; images only)',
  },
  {
    flag: '--source-face',
    value: 'n',
    key: 'sourceFace',
    parse: 'whole',
    sets: { group: 'paint', key: 'sourceFace' },
    shows: 'the largest',
    commands: ['swap', 'live'],
    description: 'take the identity from this source face',
  },
  {
    flag: '--mouth-mask',
    key: 'mouthMask',
    parse: 'negatable',
    sets: { group: 'paint', key: 'mouthMask' },
    commands: ['swap', 'live'],
    description: "keep the target's own mouth interior (default: {default}; on for mesh)",
    off: 'paint the source mouth too',
  },
  {
    flag: '--opacity',
    value: '0..1',
    key: 'opacity',
    parse: 'number',
    sets: { group: 'paint', key: 'opacity' },
    commands: ['swap', 'live'],
    description: 'how much of the swapped face shows',
  },
  {
    flag: '--sharpness',
    value: '0..5',
    key: 'sharpness',
    parse: 'number',
    sets: { group: 'paint', key: 'sharpness' },
    commands: ['swap', 'live'],
    description: 'sharpen the swapped face',
  },
  {
    flag: '--color-match',
    key: 'colorMatch',
    parse: 'negatable',
    sets: { group: 'paint', key: 'colorMatch' },
    commands: ['swap', 'live'],
    description: "match the face's colour and light to the target",
    off: 'keep the source face colours',
  },
  {
    flag: '--face-shape',
    value: '0..1',
    key: 'faceShape',
    parse: 'number',
    sets: { group: 'paint', key: 'faceShape' },
    shows: '1',
    commands: ['swap', 'live'],
    description: "mesh: how much of the source's face shape to paint, 0 keeps the target's",
  },
  {
    flag: '--face-outline',
    value: '0..1',
    key: 'faceOutline',
    parse: 'number',
    sets: { group: 'paint', key: 'faceOutline' },
    shows: '0',
    commands: ['swap', 'live'],
    description: "mesh: give the face the source's jaw and cheek outline, bending what is around it",
  },
  // Masks: partial swaps, the box mask, mask strength, occlusion (pipeline/options.ts, compose/region-mask.ts).
  {
    flag: '--mask-regions',
    value: 'list',
    key: 'maskRegions',
    parse: 'repeatable',
    sets: { group: 'paint', key: 'maskRegions' },
    shows: 'the whole face',
    commands: ['swap', 'live'],
    description: `swap only these regions, comma-separated: ${FACE_REGIONS.join(', ')} (FaceFusion's names)`,
  },
  {
    flag: '--keep-regions',
    value: 'list',
    key: 'keepRegions',
    parse: 'repeatable',
    sets: { group: 'paint', key: 'keepRegions' },
    shows: 'none',
    commands: ['swap', 'live'],
    description: "keep the target's own look in these regions (e.g. mouth), comma-separated",
  },
  {
    flag: '--face-parser',
    value: 'name',
    key: 'faceParser',
    parse: 'choice',
    choices: FACE_PARSERS,
    sets: { group: 'paint', key: 'faceParser' },
    shows: 'bisenet_resnet_34 or _18 when installed (not for mesh), else landmarks',
    commands: ['swap', 'live'],
    description: 'where the regions come from: FaceMesh landmarks (nothing to download) or a BiSeNet face parser',
  },
  {
    flag: '--mask-strength',
    value: '0..1',
    key: 'maskStrength',
    parse: 'number',
    sets: { group: 'paint', key: 'maskStrength' },
    commands: ['swap', 'live'],
    description: 'inside the masks, 0 keeps the target, 1 the full swap, between them a mix',
  },
  {
    flag: '--mask-padding',
    value: 'top,right,bottom,left',
    key: 'maskPadding',
    parse: 'repeatable',
    sets: { group: 'paint', key: 'maskPadding' },
    shows: 'no box mask',
    commands: ['swap', 'live'],
    description: "FaceFusion's box mask: percent of the face crop left out at each side (1, 2 or 4 numbers)",
  },
  {
    flag: '--mask-blur',
    value: '0..1',
    key: 'maskBlur',
    parse: 'number',
    sets: { group: 'paint', key: 'maskBlur' },
    shows: 'no box mask (0.3 with --mask-padding)',
    commands: ['swap', 'live'],
    description: "FaceFusion's box mask: its blur, a share of half the crop's width",
  },
  {
    flag: '--occlusion-mask',
    value: 'model',
    key: 'occlusionMask',
    parse: 'choice',
    choices: OCCLUSION_MASKS,
    sets: { group: 'paint', key: 'occlusionMask' },
    shows: 'none',
    commands: ['swap', 'live'],
    description: 'keep what covers the face (hands, microphones) with XSeg; all: the three combined (liveswap models pull --for occlusion)',
  },
  {
    flag: '--face-enhancer',
    value: 'model',
    key: 'faceEnhancer',
    parse: 'choice',
    choices: FACE_ENHANCERS,
    sets: { group: 'paint', key: 'faceEnhancer' },
    shows: 'none',
    commands: ['swap', 'live'],
    description: 'restore each swapped face with this model after the swap (liveswap models pull gfpgan_1.4, or --for enhancer)',
  },
  {
    flag: '--face-enhancer-blend',
    value: '0..100',
    key: 'faceEnhancerBlend',
    parse: 'number',
    sets: { group: 'paint', key: 'faceEnhancerBlend' },
    commands: ['swap', 'live'],
    description: 'how much of the enhanced face shows over the swapped one, in percent',
  },
  {
    flag: '--face-enhancer-weight',
    value: '0..1',
    key: 'faceEnhancerWeight',
    parse: 'number',
    sets: { group: 'paint', key: 'faceEnhancerWeight' },
    commands: ['swap', 'live'],
    description: "CodeFormer's fidelity weight (lower: more restoration, higher: closer to the input); the other enhancers ignore it",
  },
  {
    flag: '--pixel-boost',
    value: 'px',
    key: 'pixelBoost',
    parse: 'whole',
    sets: { group: 'paint', key: 'pixelBoost' },
    shows: "the model's own size",
    commands: ['swap', 'live'],
    description: `crop side for inswapper and FaceFusion's swappers (${PIXEL_BOOSTS.join(', ')}): a whole multiple of the model's size, swapped in tiles`,
  },
  {
    flag: '--swapper-weight',
    value: '0..1',
    key: 'swapperWeight',
    parse: 'number',
    sets: { group: 'paint', key: 'swapperWeight' },
    commands: ['swap', 'live'],
    description: "FaceFusion's identity weight for the swappers that take an embedding: below 0.5 mixes in the target's own identity, above 0.5 pushes away from it",
  },
  {
    flag: '--max-pixels',
    value: 'n',
    key: 'maxPixels',
    parse: 'pixels',
    sets: { group: 'paint', key: 'maxPixels' },
    commands: ['swap'],
    description: 'refuse larger images; forms like 50000000, 50e6, 50M',
  },
  // Where the models run.
  {
    flag: '--execution-provider',
    value: 'name',
    key: 'executionProvider',
    parse: 'choice',
    choices: EXECUTION_PROVIDERS,
    shows: CLI_DEFAULTS.executionProvider,
    commands: ['swap', 'live'],
    description: 'where the models run (default: {default}); an unavailable one is an error',
  },
  {
    flag: '--execution-threads',
    value: 'n',
    key: 'executionThreads',
    parse: 'whole',
    shows: String(CLI_DEFAULTS.executionThreads),
    commands: ['swap', 'live'],
    description: 'threads per model',
  },
  // Video targets: encoding, trimming, tracking, who is swapped.
  {
    flag: '--fps',
    value: 'n',
    key: 'fps',
    parse: 'number',
    videoOnly: true,
    commands: ['swap', 'live'],
    description: {
      swap: "output frame rate (default: the source's own frame times, variable rates too)",
      live: "the constant frame rate read from the input and sent (default: the input's own; a camera is asked for it)",
    },
  },
  {
    flag: '--no-audio',
    key: 'audio',
    parse: 'switch',
    videoOnly: true,
    commands: ['swap', 'live'],
    description: 'drop the audio (default: kept, copied where the container allows)',
  },
  {
    flag: '--video-encoder',
    value: 'name',
    key: 'videoEncoder',
    parse: 'choice',
    choices: VIDEO_CODECS,
    videoOnly: true,
    commands: ['swap'],
    description: 'encoder (default: libx264; libvpx-vp9 for .webm)',
  },
  {
    flag: '--video-quality',
    value: '0..51',
    key: 'videoQuality',
    parse: 'whole',
    videoOnly: true,
    commands: ['swap', 'live'],
    description: 'quality as Deep-Live-Cam, lower is better (x264 CRF; default 18, x265 22, VP9 31 of 63)',
  },
  {
    flag: '--video-preset',
    value: 'name',
    key: 'videoPreset',
    parse: 'choice',
    choices: VIDEO_PRESETS,
    shows: `${CLI_DEFAULTS.videoPreset} (live: ${LIVE_VIDEO_PRESET})`,
    videoOnly: true,
    commands: ['swap', 'live'],
    description: 'encoding speed against file size',
  },
  {
    flag: '--trim-start',
    value: 'time|Nf',
    key: 'trimStart',
    parse: 'text',
    videoOnly: true,
    commands: ['swap'],
    description: 'start here: seconds, [h:]m:s, or a frame number like 150f',
  },
  { flag: '--trim-end', value: 'time|Nf', key: 'trimEnd', parse: 'text', videoOnly: true, commands: ['swap'], description: 'stop before this point (same forms)' },
  {
    flag: '--detect-every',
    value: 'n|auto',
    key: 'detectEvery',
    parse: 'text',
    sets: { group: 'tracking', key: 'detectEvery' },
    videoOnly: true,
    commands: ['swap', 'live'],
    description: 'run the face detector every n frames and track in between',
  },
  {
    flag: '--no-smoothing',
    key: 'smoothing',
    parse: 'switch',
    sets: { group: 'tracking', key: 'smoothing' },
    videoOnly: true,
    commands: ['swap', 'live'],
    description: 'do not smooth landmarks between frames',
  },
  {
    flag: '--smoothing-min-cutoff',
    value: 'hz',
    key: 'smoothingMinCutoff',
    parse: 'number',
    sets: { group: 'tracking', key: 'smoothing', field: 'minCutoff' },
    videoOnly: true,
    commands: ['swap', 'live'],
    description: 'One Euro minimum cut-off; lower is steadier',
  },
  {
    flag: '--smoothing-beta',
    value: 'b',
    key: 'smoothingBeta',
    parse: 'number',
    sets: { group: 'tracking', key: 'smoothing', field: 'beta' },
    videoOnly: true,
    commands: ['swap', 'live'],
    description: 'One Euro speed coefficient; higher follows fast motion sooner',
  },
  {
    flag: '--max-missed',
    value: 'n',
    key: 'maxMissed',
    parse: 'whole',
    sets: { group: 'tracking', key: 'maxMissed' },
    videoOnly: true,
    commands: ['swap', 'live'],
    description: 'frames a lost face keeps its track',
  },
  {
    flag: '--min-face-size',
    value: 'px',
    key: 'minFaceSize',
    parse: 'whole',
    sets: { group: 'tracking', key: 'minFaceSize' },
    videoOnly: true,
    commands: ['swap', 'live'],
    description: 'leave faces smaller than this alone',
  },
  {
    flag: '--min-sharpness',
    value: 'v',
    key: 'minSharpness',
    parse: 'number',
    sets: { group: 'tracking', key: 'minSharpness' },
    videoOnly: true,
    commands: ['swap', 'live'],
    description: 'leave faces blurrier than this alone; 0 swaps all',
  },
  {
    flag: '--no-shot-change',
    key: 'shotChange',
    parse: 'switch',
    sets: { group: 'tracking', key: 'shotChange' },
    videoOnly: true,
    commands: ['swap', 'live'],
    description: 'do not look for cuts (by default a cut drops every track and the new shot is detected afresh)',
  },
  { flag: '--reference-face', value: 'image', key: 'referenceFace', parse: 'text', videoOnly: true, commands: ['swap'], description: 'swap only the person in this photo' },
  {
    flag: '--similar-face-distance',
    value: 'd',
    key: 'similarFaceDistance',
    parse: 'number',
    shows: String(CLI_DEFAULTS.similarFaceDistance),
    videoOnly: true,
    commands: ['swap'],
    description: 'how close to the reference a face must be, 1 − cosine similarity',
  },
  {
    flag: '--map-faces',
    value: 'map.json',
    key: 'mapFaces',
    parse: 'text',
    videoOnly: true,
    commands: ['swap'],
    description: 'swap each person with their own photo, from `liveswap faces scan` (no -s)',
  },
  {
    flag: '--ffmpeg',
    value: 'path',
    key: 'ffmpeg',
    parse: 'text',
    videoOnly: true,
    commands: ['swap', 'live'],
    description: 'the ffmpeg binary to use (default: LIVESWAP_FFMPEG, else the bundled one)',
  },
  // Live streams (liveswap live).
  {
    flag: '--input',
    short: '-i',
    value: 'spec',
    key: 'input',
    parse: 'text',
    commands: ['live'],
    description: 'what to swap live: a video file (played at its own pace), rtmp://, rtmps://, rtsp://, srt://, http(s):// stream URL, or a camera: camera:N or a device name',
  },
  { flag: '--loop', key: 'loop', parse: 'switch', commands: ['live'], description: 'play a video file input again from the start when it ends' },
  {
    flag: '--list-devices',
    key: 'listDevices',
    parse: 'switch',
    commands: ['live'],
    description: 'list the cameras ffmpeg can read here (v4l2, avfoundation or dshow) and the v4l2 loopback devices, then exit',
  },
  {
    flag: '--video-size',
    value: 'WxH',
    key: 'videoSize',
    parse: 'text',
    commands: ['live'],
    description: "the frame size worked at and sent; a camera is asked for it (default: the input's own)",
  },
  {
    flag: '--output-delay',
    value: 'ms',
    key: 'outputDelay',
    parse: 'number',
    shows: '0',
    commands: ['live'],
    description: 'move the sound this much later than the picture in every output (negative: earlier), to line it up where a player shows it off',
  },
  {
    flag: '--target-fps',
    value: 'n',
    key: 'targetFps',
    parse: 'number',
    shows: "the stream's frame rate",
    commands: ['live'],
    description: 'the frame rate the adaptive quality controller holds by looking for faces less often; 0 turns it off',
  },
  {
    flag: '--json-status',
    key: 'jsonStatus',
    parse: 'switch',
    commands: ['live'],
    description: 'print the status as one JSON object a second on stdout (and the summary as JSON at the end) instead of a status line',
  },
  // Eval and bench.
  {
    flag: '--recognisers',
    value: 'list',
    key: 'recognisers',
    parse: 'text',
    shows: RECOGNISERS.join(','),
    commands: ['eval'],
    description: 'which recognisers measure identity, comma-separated',
  },
  {
    flag: '--ablate',
    key: 'ablate',
    parse: 'switch',
    commands: ['eval'],
    description: 'run the stills once per variant of the mesh engine settings and write a table of the differences (videos are skipped)',
  },
  {
    flag: '--size',
    value: 'WxH',
    key: 'size',
    parse: 'text',
    shows: `${CLI_DEFAULTS.benchSize.width}x${CLI_DEFAULTS.benchSize.height}`,
    commands: ['bench'],
    description: 'frame size',
  },
  { flag: '--frames', value: 'n', key: 'frames', parse: 'text', shows: String(CLI_DEFAULTS.benchFrames), commands: ['bench'], description: 'frames per mode' },
  { flag: '--modes', value: 'list', key: 'modes', parse: 'text', commands: ['bench'], description: `comma-separated subset of ${BENCH_MODES.join(',')} (default: all)` },
  // The live app's server.
  {
    flag: '--port',
    value: 'n',
    key: 'port',
    parse: 'text',
    shows: false,
    commands: ['ui', 'serve'],
    description: {
      ui: `port to listen on; 0 picks a free one (default: ${DEFAULT_UI_PORT})`,
      serve: `port to listen on; 0 picks a free one (default: ${DEFAULT_API_PORT})`,
    },
  },
  {
    flag: '--host',
    value: 'address',
    key: 'host',
    parse: 'text',
    shows: false,
    commands: ['ui', 'serve'],
    description: {
      ui: `address to listen on; anything but loopback exposes the app and the models to the network (default: ${DEFAULT_UI_HOST})`,
      serve: `address to listen on; anything but loopback exposes the API to the network, behind its tokens (default: ${DEFAULT_API_HOST})`,
    },
  },
  {
    flag: '--workers',
    value: 'n',
    key: 'workers',
    parse: 'text',
    shows: '1',
    commands: ['serve'],
    description: 'video jobs this process runs at once (without --redis; with it, `liveswap worker` processes run them)',
  },
  {
    flag: '--live-capacity',
    value: 'n',
    key: 'liveCapacity',
    parse: 'text',
    shows: 'one per two CPU cores, one with a GPU provider',
    commands: ['serve'],
    description: 'live sessions (POST /v1/live/sessions) this process runs at once; one more is answered 503 with Retry-After',
  },
  {
    flag: '--live-provider',
    value: 'name',
    key: 'liveProvider',
    parse: 'choice',
    choices: EXECUTION_PROVIDERS,
    shows: 'cpu',
    commands: ['serve'],
    description: "where the live sessions' models run; an unavailable one is an error at the first session",
  },
  {
    flag: '--home',
    value: 'dir',
    key: 'home',
    parse: 'text',
    shows: '$LIVESWAP_HOME or the cache folder',
    commands: ['serve'],
    description: 'where tokens, quotas, consent records, identities, uploads, jobs, results, keys and the audit log live',
  },
  { flag: '--open', key: 'open', parse: 'switch', commands: ['ui'], description: 'open the app in the system browser' },
  {
    flag: '--web-root',
    value: 'dir',
    key: 'webRoot',
    parse: 'text',
    commands: ['ui'],
    description: 'serve the browser app from this folder instead of the built dist/web (for development)',
  },
  // Marks.
  {
    flag: '--no-label',
    key: 'label',
    parse: 'switch',
    sets: { group: 'marks', key: 'label' },
    commands: ['swap', 'live'],
    description: `leave out the visible "${STILL_DEFAULTS.marks.labelText}" label (recorded in the content credentials and the audit log)`,
  },
  {
    flag: '--label-text',
    value: 'text',
    key: 'labelText',
    parse: 'text',
    sets: { group: 'marks', key: 'labelText' },
    commands: ['swap', 'ui', 'live'],
    description: {
      swap: 'the label\'s text, 1–40 printable ASCII characters (default: "{default}")',
      ui: "the visible label's text the app starts with (default: {default})",
      live: 'the label\'s text, 1–40 printable ASCII characters (default: "{default}")',
    },
  },
  {
    flag: '--label-corner',
    value: 'corner',
    key: 'labelCorner',
    parse: 'choice',
    choices: LABEL_CORNERS,
    sets: { group: 'marks', key: 'labelCorner' },
    commands: ['swap', 'live'],
    description: 'where the label goes',
  },
  {
    flag: '--watermark-key',
    value: 'file',
    key: 'watermarkKey',
    parse: 'text',
    commands: ['swap', 'ui', 'verify', 'live'],
    description: {
      swap: "the invisible watermark's key (default: made on first use under LIVESWAP_HOME)",
      live: "the invisible watermark's key (default: made on first use under LIVESWAP_HOME)",
      ui: 'watermark the live frames with your own key file (64 hex digits; default: the key under LIVESWAP_HOME, made on first use)',
      verify: 'look for the watermark made with this key (default: the key under LIVESWAP_HOME)',
    },
  },
  {
    flag: '--sign-cert',
    value: 'file',
    key: 'signCert',
    parse: 'text',
    commands: ['swap'],
    description: 'sign the content credentials with this PEM certificate chain (leaf first) instead of the local one; needs --sign-key',
  },
  { flag: '--sign-key', value: 'file', key: 'signKey', parse: 'text', commands: ['swap'], description: 'the PKCS#8 PEM private key of --sign-cert' },
  // Verify.
  {
    flag: '--trust',
    value: 'ca.pem',
    key: 'trust',
    parse: 'repeatable',
    commands: ['verify'],
    description: "count signatures chaining to this CA certificate as trusted (repeatable; the local signer's CA is always trusted)",
  },
  {
    flag: '--max-frames',
    value: 'n',
    key: 'maxFrames',
    parse: 'text',
    shows: String(CLI_DEFAULTS.verifyMaxFrames),
    commands: ['verify'],
    description: 'read at most this many frames of a video',
  },
  // Output folders.
  {
    flag: '--out',
    value: 'dir',
    key: 'out',
    parse: 'text',
    commands: ['eval', 'demo', 'faces scan'],
    required: ['faces scan'],
    description: {
      eval: `folder for eval.json, report.html, ablation.md and thumbnails (default: ./${CLI_DEFAULTS.evalDir})`,
      demo: `folder for the results, created if needed (default: ./${CLI_DEFAULTS.demoDir})`,
      'faces scan': 'folder for map.json and the thumbnails (created when missing)',
    },
  },
  // Faces scan.
  {
    flag: '--sample-fps',
    value: 'n',
    key: 'sampleFps',
    parse: 'number',
    shows: String(CLI_DEFAULTS.sampleFps),
    commands: ['faces scan'],
    description: 'frames looked at per second of video',
  },
  {
    flag: '--threshold',
    value: 's',
    key: 'threshold',
    parse: 'number',
    shows: String(DEFAULT_IDENTITY_THRESHOLD),
    commands: ['faces scan'],
    description: 'least FaceRes similarity, 0–1, for two faces to be one person',
  },
  // Audit.
  { flag: '--since', value: 'time', key: 'since', parse: 'text', commands: ['audit'], description: 'only entries at or after this time (ISO date or date-time, e.g. 2026-11-01)' },
  { flag: '--until', value: 'time', key: 'until', parse: 'text', commands: ['audit'], description: 'only entries before this time' },
  { flag: '--kind', value: 'kind', key: 'kind', parse: 'choice', choices: AUDIT_KINDS, commands: ['audit'], description: 'only this kind of output' },
  {
    flag: '--watermark',
    value: 'id',
    key: 'watermark',
    parse: 'text',
    commands: ['audit'],
    description: 'only the output with this watermark id (8 hex digits, as verify prints)',
  },
  { flag: '--file', value: 'path', key: 'file', parse: 'text', commands: ['audit'], description: 'only entries whose source, target or output is this file' },
  {
    flag: '--sha256',
    value: 'hex',
    key: 'sha256',
    parse: 'text',
    commands: ['audit'],
    description: 'only entries with a source, target or output of this SHA-256 (or a prefix of it)',
  },
  { flag: '--limit', value: 'n', key: 'limit', parse: 'text', commands: ['audit'], description: 'only the last n matching entries' },
  {
    flag: '--verify',
    key: 'verify',
    parse: 'switch',
    commands: ['audit'],
    description: 'check the hash chain of the log instead of listing it: exit 0 when intact, 4 naming the first edited, deleted, inserted or reordered line',
  },
  // API tokens (liveswap serve).
  {
    flag: '--name',
    value: 'name',
    key: 'name',
    parse: 'text',
    commands: ['tokens create'],
    required: ['tokens create'],
    description: "the token's name, shown in lists and the audit log",
  },
  {
    flag: '--scopes',
    value: 'list',
    key: 'scopes',
    parse: 'text',
    commands: ['tokens create'],
    required: ['tokens create'],
    description: `what the token may do, comma-separated: ${SCOPES.join(', ')}`,
  },
  { flag: '--swaps-per-day', value: 'n', key: 'swapsPerDay', parse: 'whole', commands: ['tokens create'], shows: 'unlimited', description: 'image swaps a day' },
  {
    flag: '--video-seconds-per-day',
    value: 'n',
    key: 'videoSecondsPerDay',
    parse: 'whole',
    commands: ['tokens create'],
    shows: 'unlimited',
    description: 'seconds of video swapped a day',
  },
  {
    flag: '--max-active-jobs',
    value: 'n',
    key: 'maxActiveJobs',
    parse: 'whole',
    commands: ['tokens create'],
    shows: 'unlimited',
    description: 'video jobs queued or running at once',
  },
  {
    flag: '--max-video-seconds',
    value: 'n',
    key: 'maxVideoSeconds',
    parse: 'whole',
    commands: ['tokens create'],
    shows: 'unlimited',
    description: 'the longest video one job may take, in seconds',
  },
  {
    flag: '--talk-seconds-per-day',
    value: 'n',
    key: 'talkSecondsPerDay',
    parse: 'whole',
    commands: ['tokens create'],
    shows: 'unlimited',
    description: 'seconds of talking portraits a day (POST /v1/talks and /v1/talks/live)',
  },
  {
    flag: '--live-minutes-per-day',
    value: 'n',
    key: 'liveMinutesPerDay',
    parse: 'whole',
    commands: ['tokens create'],
    shows: 'unlimited',
    description: 'minutes of server-side live sessions a day (each started minute counts)',
  },
  {
    flag: '--max-live-sessions',
    value: 'n',
    key: 'maxLiveSessions',
    parse: 'whole',
    commands: ['tokens create'],
    shows: 'unlimited',
    description: 'live sessions (and unused tickets) at once',
  },
  {
    flag: '--expires',
    value: 'when',
    key: 'expires',
    parse: 'text',
    commands: ['tokens create'],
    shows: 'never',
    description: 'when the token stops working: a duration such as 30d, 12h or 90m, or an ISO date',
  },
  {
    flag: '--redis',
    value: 'url',
    key: 'redis',
    parse: 'text',
    commands: ['serve', 'tokens create', 'tokens list', 'tokens revoke'],
    shows: '$LIVESWAP_REDIS_URL, else files under LIVESWAP_HOME',
    description: 'the Redis of a queue-mode service (redis://host:port or unix:///path/redis.sock)',
  },
  // Protected faces.
  {
    flag: '--label',
    value: 'text',
    key: 'label',
    parse: 'text',
    commands: ['protect add'],
    required: ['protect add'],
    description: 'who the person is, for the operator (never shown to API callers)',
  },
  // Models.
  { flag: '--accept-license', key: 'acceptLicense', parse: 'switch', commands: ['models pull'], description: 'accept the non-commercial licence of the models without asking' },
  {
    flag: '--for',
    value: 'feature',
    key: 'for',
    parse: 'repeatable',
    commands: ['models pull'],
    description:
      'pull what a feature needs: a swapper id (its detector, ArcFace, converter and swapper), inswapper, enhancer (gfpgan_1.4), regions (bisenet_resnet_34), occlusion (xseg_1) or mouth-mask (2d106det); repeatable',
  },
  // Output on the terminal.
  {
    flag: '--json',
    key: 'json',
    parse: 'switch',
    commands: EVERY_COMMAND_WITH_JSON,
    description: {
      swap: 'print one JSON object with the result (or the error) on stdout; for videos, JSON lines of progress events first',
      eval: 'print the whole report as one JSON object on stdout',
      bench: ONE_JSON_OBJECT,
      'faces scan': 'print the summary as one JSON object',
      verify: 'print one JSON object per file, one per line',
      audit: 'print the entries as JSON lines',
      'models list': ONE_JSON_OBJECT,
      'models pull': ONE_JSON_OBJECT,
      'models verify': ONE_JSON_OBJECT,
      'models import': ONE_JSON_OBJECT,
      'models path': ONE_JSON_OBJECT,
      'tokens list': 'print the tokens as one JSON array (never secrets)',
      'protect list': 'print the protected faces as one JSON array (without embeddings)',
    },
  },
  { flag: '--quiet', key: 'quiet', parse: 'switch', commands: ['swap'], description: 'print nothing on success (errors still go to stderr)' },
] as const satisfies readonly FlagRow[];

/**
 * Options of the schema that no flag sets, and why: the hold is tuned with the detector's cadence
 * and is no user's choice; the watermark is always on from the command line (principle 7).
 */
export const OPTIONS_WITHOUT_FLAGS = { paint: [], tracking: ['holdFrames'], marks: ['watermark'] } as const satisfies {
  paint: readonly (keyof PaintOptions)[];
  tracking: readonly (keyof TrackingOptions)[];
  marks: readonly (keyof MarkOptions)[];
};

type Row = (typeof FLAG_TABLE)[number];
type ValueOf<R> = R extends { parse: 'switch' | 'negatable' } ? boolean : R extends { parse: 'repeatable' } ? string[] : R extends { choices: readonly (infer C)[] } ? C : string;

/** What commander hands a command's action: each flag it takes, unset when not given. */
export type FlagsOf<C extends CommandName> = { [R in Row as C extends R['commands'][number] ? R['key'] : never]?: ValueOf<R> };

/** The rows of one command, in help order. */
export function flagRows(command: CommandName): readonly FlagRow[] {
  return (FLAG_TABLE as readonly FlagRow[]).filter((row) => row.commands.includes(command));
}

/** Which mode's defaults a command's help shows: the live app's for `ui`, a video's for tracking, else a still's. */
export function helpMode(command: CommandName, target: OptionTarget): Mode {
  if (command === 'ui') return 'live';
  return target.group === 'tracking' ? 'video' : 'still';
}

/** A default as help words it. */
export function describeDefault(value: unknown): string {
  if (value === undefined) return "the engine's choice";
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  // The table shows one field of an object default, never the object; JSON rather than "[object Object]" if one gets here.
  return JSON.stringify(value);
}

/** The default a row's help shows for `command`, or undefined when it shows none. */
export function helpDefault(row: FlagRow, command: CommandName): string | undefined {
  const target = row.sets;
  if (row.shows === false) return undefined;
  // A switch says what it does; its default is the other state.
  if (!target || row.parse === 'switch') return row.shows;
  const defaults = MODE_DEFAULTS[helpMode(command, target)];
  let value: unknown = (defaults[target.group] as unknown as Record<string, unknown>)[target.key];
  if (target.group === 'tracking' && target.field !== undefined && typeof value === 'object' && value !== null) value = (value as Record<string, unknown>)[target.field];
  if (value === undefined && row.shows !== undefined) return row.shows;
  return describeDefault(value);
}

/** A row's help text for `command`, its default filled in. */
export function helpText(row: FlagRow, command: CommandName): string {
  const template = typeof row.description === 'string' ? row.description : (row.description[command] ?? '');
  const text = row.videoOnly && command === 'swap' ? `video: ${template}` : template;
  const shown = helpDefault(row, command);
  if (shown === undefined) return text;
  return text.includes('{default}') ? text.replace('{default}', shown) : `${text} (default: ${shown})`;
}

/** Declares on `command` every flag the table gives `name`, in table order. */
export function addFlags<C extends Command>(command: C, name: CommandName): C {
  for (const row of flagRows(name)) {
    const spelling = `${row.short ? `${row.short}, ` : ''}${row.flag}${row.value ? ` <${row.value}>` : ''}`;
    const option = new Option(spelling, helpText(row, name));
    if (row.choices) option.choices(row.choices);
    if (row.parse === 'repeatable' || row.repeatableFor?.includes(name)) option.argParser((value: string, previous: string[] = []) => [...previous, value]);
    if (row.required?.includes(name)) option.makeOptionMandatory();
    command.addOption(option);
    if (row.parse === 'negatable') command.addOption(new Option(`--no-${row.flag.slice(2)}`, row.off ?? ''));
  }
  return command;
}

/** The flag that sets each option of a group (the `--x` of a negatable pair), for messages. */
export function flagsOf(group: OptionTarget['group']): Readonly<Record<string, string>> {
  const rows = (FLAG_TABLE as readonly FlagRow[]).filter((row) => row.sets?.group === group && !(row.sets.group === 'tracking' && row.sets.field));
  return Object.fromEntries(rows.map((row) => [row.sets!.key, row.flag]));
}

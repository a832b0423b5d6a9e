/**
 * What the video writer can produce: codecs, presets, pixel formats, containers and the audio each
 * container holds as it is. One list per choice, read by the writer's checks, the builders and the CLI.
 */

export const VIDEO_CODECS = ['libx264', 'libx265', 'libvpx-vp9'] as const;
export type VideoCodec = (typeof VIDEO_CODECS)[number];

/** Speed/size trade-off, x264's names; VP9 gets the matching -cpu-used. */
export const VIDEO_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] as const;
export type VideoPreset = (typeof VIDEO_PRESETS)[number];
export const VP9_CPU_USED: Readonly<Record<VideoPreset, number>> = { ultrafast: 8, superfast: 8, veryfast: 7, faster: 6, fast: 5, medium: 4, slow: 3, slower: 2, veryslow: 1 };

export const VIDEO_PIXEL_FORMATS = ['yuv420p', 'yuv422p', 'yuv444p'] as const;
export type VideoPixelFormat = (typeof VIDEO_PIXEL_FORMATS)[number];

/** Output file extensions, lower case with the dot: the container follows the extension. */
export const VIDEO_CONTAINER_EXTENSIONS = ['.mp4', '.mov', '.mkv', '.webm'] as const;
export type VideoContainer = (typeof VIDEO_CONTAINER_EXTENSIONS)[number];

/** Output extensions, the codecs each container takes (first = default). */
export const VIDEO_CONTAINERS: Readonly<Record<string, readonly VideoCodec[]>> = {
  '.mp4': ['libx264', 'libx265', 'libvpx-vp9'],
  '.mov': ['libx264', 'libx265'],
  '.mkv': ['libx264', 'libx265', 'libvpx-vp9'],
  '.webm': ['libvpx-vp9'],
} satisfies Readonly<Record<VideoContainer, readonly VideoCodec[]>>;

/** Constant-quality defaults (lower is better) and each codec's range. */
export const CRF: Readonly<Record<VideoCodec, { default: number; max: number }>> = {
  libx264: { default: 18, max: 51 },
  libx265: { default: 22, max: 51 },
  'libvpx-vp9': { default: 31, max: 63 },
};

/** Audio codecs each container holds as they are; anything else is re-encoded. */
const AUDIO_COPY: Readonly<Record<string, (codec: string) => boolean>> = {
  '.mp4': (c) => ['aac', 'mp3', 'ac3', 'eac3', 'alac'].includes(c),
  '.mov': (c) => ['aac', 'mp3', 'ac3', 'eac3', 'alac'].includes(c) || c.startsWith('pcm_'),
  '.mkv': (c) => ['aac', 'mp3', 'ac3', 'eac3', 'alac', 'opus', 'vorbis', 'flac', 'dts', 'truehd', 'mp2'].includes(c) || c.startsWith('pcm_'),
  '.webm': (c) => c === 'opus' || c === 'vorbis',
};

/** Whether a container (by extension) holds an audio codec as it is. */
export function audioCopies(ext: string, codec: string): boolean {
  return (AUDIO_COPY[ext.toLowerCase()] ?? (() => false))(codec);
}

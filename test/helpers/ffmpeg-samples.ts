/** ffmpeg's stderr as real releases print it, shared by the probe parser's tests and the fuzz corpus. */

/** `ffmpeg -i` of an MP4 from a phone in the newer layout: stream ids in brackets, cover art first, rotation only as side data. */
export const PHONE_MP4_PROBE = [
  "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'phone.mov':",
  '  Metadata:',
  '    major_brand     : qt  ',
  '  Duration: 00:01:02.50, start: 0.000000, bitrate: 9000 kb/s',
  '  Stream #0:0[0x1](und): Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 600x600, 90k tbr, 90k tbn (attached pic)',
  '  Stream #0:1[0x2](und): Video: hevc (Main) (hvc1 / 0x31637668), yuv420p(tv, bt709), 1920x1080, 8000 kb/s, 29.97 fps, 29.97 tbr, 600 tbn (default)',
  '      Metadata:',
  '        creation_time   : 2024-01-01T00:00:00.000000Z',
  '      Side data:',
  '        displaymatrix: rotation of -90.00 degrees',
  '  Stream #0:2[0x3](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 128 kb/s (default)',
  'At least one output file must be specified',
].join('\n');

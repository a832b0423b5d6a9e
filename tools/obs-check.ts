/**
 * The OBS media-source check for `liveswap live`: a real OBS Studio pulls the RTMP output the way
 * a streamer sets it up, and the check keeps what OBS made of it. It starts a loopback nginx-rtmp,
 * runs `liveswap live` on a looped clip into it, gives OBS (under a virtual X display) a profile and
 * a scene whose only source is a Media Source reading that stream, lets OBS record its program
 * output, takes a screenshot of its window, and runs `liveswap verify` on OBS's recording: the
 * watermark read back from what OBS shows proves the swapped, marked stream reached it. Nothing
 * here is mocked; the OBS settings are written into a fresh HOME, so a user's own OBS is untouched.
 *
 * Needs (Debian): obs-studio, xvfb, imagemagick (for the screenshot), nginx and libnginx-mod-rtmp.
 *   node --import tsx tools/obs-check.ts [--out DIR] [--seconds N] [--input CLIP] [--source PHOTO]
 * Writes DIR/obs-window.png (look at it: OBS's preview shows the swapped face with the label),
 * DIR/obs-recording.mkv and DIR/obs.log, and exits non-zero when the recording carries no watermark.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { makeClip } from '../test/helpers/clips.js';
import { FIXTURES } from '../test/helpers/fixtures.js';
import { rtmpUnavailable, startRtmp } from '../test/helpers/rtmp-server.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'obs-check' },
    seconds: { type: 'string', default: '45' },
    input: { type: 'string' },
    source: { type: 'string', default: join(FIXTURES, 'astronaut.png') },
  },
});
const out = resolve(values.out);
const seconds = Number(values.seconds);
const WIDTH = 1280;
const HEIGHT = 720;

for (const [tool, hint] of [
  ['obs', 'obs-studio'],
  ['Xvfb', 'xvfb'],
  ['import', 'imagemagick'],
] as const) {
  if (spawnSync('which', [tool]).status !== 0) throw new Error(`${tool} is not installed (apt-get install ${hint})`);
}
const noRtmp = rtmpUnavailable();
if (noRtmp) throw new Error(noRtmp);

/** OBS's settings in a fresh HOME: no first-run wizard, one profile and one scene with a Media Source on `url`. */
function writeObsConfig(home: string, url: string, recordings: string): void {
  const config = join(home, '.config', 'obs-studio');
  const profile = join(config, 'basic', 'profiles', 'liveswap');
  mkdirSync(profile, { recursive: true });
  mkdirSync(join(config, 'basic', 'scenes'), { recursive: true });
  writeFileSync(
    join(config, 'global.ini'),
    '[General]\nFirstRun=true\nPre19Defaults=false\nPre21Defaults=false\nPre23Defaults=false\nPre24.1Defaults=false\n\n' +
      '[Basic]\nProfile=liveswap\nProfileDir=liveswap\nSceneCollection=liveswap\nSceneCollectionFile=liveswap\n\n[OBSWebSocket]\nFirstLoad=false\nServerEnabled=false\n',
  );
  writeFileSync(
    join(profile, 'basic.ini'),
    `[General]\nName=liveswap\n\n[Video]\nBaseCX=${WIDTH}\nBaseCY=${HEIGHT}\nOutputCX=${WIDTH}\nOutputCY=${HEIGHT}\nFPSType=0\nFPSCommon=30\n\n` +
      `[Output]\nMode=Simple\n\n[SimpleOutput]\nFilePath=${recordings}\nRecFormat=mkv\nRecFormat2=mkv\nRecQuality=Small\nRecEncoder=x264\nStreamEncoder=x264\n`,
  );
  const sourceId = randomUUID();
  const sceneId = randomUUID();
  const media = {
    id: 'ffmpeg_source',
    versioned_id: 'ffmpeg_source',
    name: 'liveswap',
    uuid: sourceId,
    enabled: true,
    settings: { is_local_file: false, input: url, input_format: '', restart_on_activate: true, buffering_mb: 1, reconnect_delay_sec: 1, close_when_inactive: false },
  };
  const scene = {
    id: 'scene',
    versioned_id: 'scene',
    name: 'liveswap',
    uuid: sceneId,
    enabled: true,
    settings: {
      id_counter: 1,
      custom_size: false,
      items: [{ name: 'liveswap', source_uuid: sourceId, visible: true, locked: false, pos: { x: 0, y: 0 }, scale: { x: 1, y: 1 }, rot: 0, align: 5, bounds_type: 0, id: 1 }],
    },
  };
  const collection = {
    name: 'liveswap',
    current_scene: 'liveswap',
    current_program_scene: 'liveswap',
    scene_order: [{ name: 'liveswap' }],
    sources: [scene, media],
    groups: [],
    transitions: [],
  };
  writeFileSync(join(config, 'basic', 'scenes', 'liveswap.json'), JSON.stringify(collection));
}

/** A free X display number: Xvfb picks it and writes it to the pipe (-displayfd). */
async function startXvfb(): Promise<{ display: string; child: ChildProcess }> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1600x1000x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const number = await new Promise<string>((done, fail) => {
    let text = '';
    child.stdio[3]!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) done(text.trim());
    });
    child.once('exit', (code) => fail(new Error(`Xvfb exited (${code})`)));
  });
  return { display: `:${number}`, child };
}

function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill(signal);
  return Promise.race([exited, sleep(10_000).then(() => void child.kill('SIGKILL'))]);
}

mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'liveswap-obs-'));
const rtmp = await startRtmp();
let live: ChildProcess | undefined;
let xvfb: ChildProcess | undefined;
let obs: ChildProcess | undefined;
let failed: boolean | undefined;
try {
  const input = values.input ?? (await makeClip({ photo: 'grace_hopper.jpg', motion: 'zoom', width: WIDTH, height: HEIGHT, fps: 30, frames: 300, audioHz: 440, dir: work }));
  const url = `${rtmp.url}/swapped`;
  const cli = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
  live = spawn(process.execPath, ['--import', 'tsx', cli, 'live', '-s', values.source, '-i', input, '--loop', '-o', url], { stdio: ['ignore', 'ignore', 'pipe'] });
  let liveLog = '';
  live.stderr!.on('data', (chunk: Buffer) => (liveLog += chunk.toString()));
  await sleep(5000);
  if (live.exitCode !== null) throw new Error(`liveswap live stopped (${live.exitCode}):\n${liveLog}`);

  const home = join(work, 'home');
  const recordings = join(work, 'recordings');
  mkdirSync(recordings, { recursive: true });
  writeObsConfig(home, url, recordings);
  const x = await startXvfb();
  xvfb = x.child;
  const env = { ...process.env, HOME: home, DISPLAY: x.display, LIBGL_ALWAYS_SOFTWARE: '1' };
  obs = spawn('obs', ['--multi', '--disable-missing-files-check', '--collection', 'liveswap', '--profile', 'liveswap', '--scene', 'liveswap', '--startrecording'], {
    env,
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let obsLog = '';
  obs.stdout!.on('data', (chunk: Buffer) => (obsLog += chunk.toString()));
  obs.stderr!.on('data', (chunk: Buffer) => (obsLog += chunk.toString()));
  await sleep(seconds * 1000);
  const shot = join(out, 'obs-window.png');
  const screenshot = spawnSync('import', ['-window', 'root', shot], { env, encoding: 'utf8' });
  if (screenshot.status !== 0) throw new Error(`screenshot failed: ${screenshot.stderr}`);
  // SIGINT is OBS's orderly quit: the recording is finished and closed.
  await stop(obs, 'SIGINT');
  writeFileSync(join(out, 'obs.log'), obsLog);
  const recorded = readdirSync(recordings).filter((name) => name.endsWith('.mkv'));
  if (recorded.length === 0) throw new Error(`OBS wrote no recording; see ${join(out, 'obs.log')}`);
  const recording = join(out, 'obs-recording.mkv');
  rmSync(recording, { force: true });
  spawnSync('mv', [join(recordings, recorded[0]!), recording]);
  const verify = spawnSync(process.execPath, ['--import', 'tsx', cli, 'verify', '--json', recording], { encoding: 'utf8' });
  process.stdout.write(verify.stdout);
  const report = JSON.parse(verify.stdout.trim().split('\n').at(-1) ?? '{}') as { watermark?: { found?: boolean } };
  failed = report.watermark?.found !== true;
  console.log(`screenshot: ${shot}\nOBS's recording: ${recording} (${failed ? 'NO watermark found' : 'watermark found'})`);
} finally {
  await stop(obs, 'SIGKILL');
  await stop(live, 'SIGINT');
  await stop(xvfb);
  await rtmp.close();
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}
process.exitCode = failed === false ? 0 : 1;

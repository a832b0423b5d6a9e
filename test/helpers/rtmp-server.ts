/**
 * A real RTMP server for the live tests: Debian's nginx with libnginx-mod-rtmp, one per test file,
 * from a generated config in a fresh folder (the module loaded by path, loopback only, publishing
 * allowed from 127.0.0.1 only, a /stat page), on free ports, stopped afterwards. It can be stopped
 * and started again on the same ports, to drop a stream's connection. Where nginx or the module is
 * not installed the tests that need it skip with the reason; under CI (CI=true) that is a failure,
 * since .ci/run installs them.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where Debian's libnginx-mod-rtmp puts the module. */
export const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export interface RtmpServer {
  /** rtmp://127.0.0.1:PORT/live — append /streamName. */
  url: string;
  /** The /stat page (XML). */
  statUrl: string;
  /** Stops nginx (every connection drops); `start` brings it back on the same ports. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
}

/** Why RTMP tests cannot run here, or undefined when they can. */
export function rtmpUnavailable(): string | undefined {
  const probe = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  let why: string | undefined;
  if (probe.error || probe.status !== 0) why = 'nginx is not installed (apt-get install nginx libnginx-mod-rtmp)';
  else if (!existsSync(RTMP_MODULE)) why = `the nginx RTMP module is not installed (apt-get install libnginx-mod-rtmp; no ${RTMP_MODULE})`;
  if (why && process.env.CI === 'true') throw new Error(`${why}; .ci/run should have installed it`);
  return why;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function config(dir: string, rtmpPort: number, httpPort: number): string {
  const root = process.getuid?.() === 0;
  return `load_module ${RTMP_MODULE};
${root ? 'user root;\n' : ''}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    chunk_size 4096;
    application live {
      live on;
      record off;
      allow publish 127.0.0.1;
      deny publish all;
      allow play all;
    }
  }
}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${httpPort};
    location /stat { rtmp_stat all; }
  }
}
`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startRtmp(): Promise<RtmpServer> {
  const dir = mkdtempSync(join(tmpdir(), 'liveswap-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, config(dir, rtmpPort, httpPort));
  let child: ChildProcess | undefined;
  let log = '';

  const start = async (): Promise<void> => {
    const started = spawn('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const deadline = Date.now() + 10_000;
    while (!(await accepts(rtmpPort)) || !(await accepts(httpPort))) {
      if (started.exitCode !== null) throw new Error(`nginx exited (${started.exitCode}):\n${log}`);
      if (Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(`nginx did not listen in 10 s:\n${log}`);
      }
      await sleep(50);
    }
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((done) => running.once('exit', done));
    running.kill('SIGTERM'); // fast shutdown: every connection is dropped
    await Promise.race([exited, sleep(5000)]);
    if (running.exitCode === null) running.kill('SIGKILL');
    while (await accepts(rtmpPort)) await sleep(50);
  };

  await start();
  return {
    url: `rtmp://127.0.0.1:${rtmpPort}/live`,
    statUrl: `http://127.0.0.1:${httpPort}/stat`,
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

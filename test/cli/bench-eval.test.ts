/** `liveswap bench` and `liveswap eval`: flag parsing, and short real runs of both. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { formatBench, parseModes, parseSize, runBenchCommand } from '../../src/cli/bench-command.js';
import { TEST_HOME } from '../helpers/fixtures.js';

describe('bench flags', () => {
  test('sizes', () => {
    assert.deepEqual(parseSize(undefined), { width: 1280, height: 720 });
    assert.deepEqual(parseSize('1920x1080'), { width: 1920, height: 1080 });
    assert.deepEqual(parseSize(' 640 × 360 '), { width: 640, height: 360 });
    for (const bad of ['1280', '10x10', 'axb', '99999x720']) assert.throws(() => parseSize(bad), LiveswapError);
  });

  test('modes', () => {
    assert.deepEqual(parseModes(undefined), ['image', 'video', 'live']);
    assert.deepEqual(parseModes('live,image'), ['live', 'image']);
    assert.throws(() => parseModes('image,audio'), /--modes/);
  });
});

describe('bench run', () => {
  test('image and live modes report stages, throughput, memory and dropped frames', async () => {
    process.env.LIVESWAP_HOME = TEST_HOME;
    const out: string[] = [];
    await runBenchCommand({ modes: 'image,live', frames: '4', size: '640x360', json: true }, { out: (t) => out.push(t), err: () => undefined });
    const report = JSON.parse(out.join('')) as { results: { mode: string; frames: number; throughputFps: number; peakRssMb: number; stages: Record<string, { median: number }>; live?: { produced: number; dropped: number } }[] };
    assert.deepEqual(report.results.map((r) => r.mode), ['image', 'live']);
    for (const r of report.results) {
      assert.equal(r.frames, 4);
      assert.ok(r.throughputFps > 0 && r.peakRssMb > 50);
      for (const stage of ['detect', 'mesh', 'warp', 'colour', 'blend']) assert.ok(r.stages[stage].median > 0, `${r.mode} ${stage}`);
    }
    assert.ok(report.results[0].stages.decode && report.results[0].stages.encode);
    const live = report.results[1].live!;
    assert.ok(live.produced >= 4 && live.dropped === live.produced - 4, 'every produced frame is either processed or dropped');
    assert.match(formatBench(report.results as never, '640x360', 'auto'), /image: 4 frames/);
  });
});

describe('eval run', () => {
  test('folders of sources and targets: every pair measured, JSON and HTML written', async () => {
    const { mkdtemp, copyFile, mkdir, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { runEvalCommand } = await import('../../src/cli/eval-command.js');
    const { FIXTURES } = await import('../helpers/fixtures.js');
    process.env.LIVESWAP_HOME = TEST_HOME;
    const dir = await mkdtemp(join(tmpdir(), 'liveswap-eval-'));
    try {
      await mkdir(join(dir, 'sources'));
      await mkdir(join(dir, 'targets'));
      await copyFile(join(FIXTURES, 'astronaut.png'), join(dir, 'sources', 'astronaut.png'));
      await copyFile(join(FIXTURES, 'grace_hopper.jpg'), join(dir, 'sources', 'grace_hopper.jpg'));
      await copyFile(join(FIXTURES, 'grace_hopper.jpg'), join(dir, 'targets', 'hopper.jpg'));
      const out: string[] = [];
      await runEvalCommand({ sources: join(dir, 'sources'), targets: join(dir, 'targets'), out: join(dir, 'out'), json: true }, { out: (t) => out.push(t), err: () => undefined });
      const report = JSON.parse(out.join('')) as {
        engine: string;
        pairs: { source: string; identity: { toSource: number; toTarget: number; targetToSource: number; retrieved: boolean }; attributes: { landmarkError: number }; blending: { seamRatio: number } }[];
      };
      assert.equal(report.engine, 'mesh');
      assert.equal(report.pairs.length, 2);
      const astronaut = report.pairs.find((p) => p.source === 'astronaut.png')!;
      // The astronaut onto another person's portrait: the recogniser must see the face move from
      // the target's identity towards the source's.
      assert.ok(astronaut.identity.toSource > astronaut.identity.targetToSource + 0.1, `cosine to the source ${astronaut.identity.targetToSource.toFixed(3)} → ${astronaut.identity.toSource.toFixed(3)}`);
      assert.ok(astronaut.identity.toTarget < 0.9, `cosine to the original target ${astronaut.identity.toTarget.toFixed(3)}`);
      assert.ok(astronaut.attributes.landmarkError < 0.03 && astronaut.blending.seamRatio < 1.5);
      const html = await readFile(join(dir, 'out', 'report.html'), 'utf8');
      assert.match(html, /<img src="thumbs\/result-astronaut\.png-to-hopper\.jpg\.jpg"/);
      const json = JSON.parse(await readFile(join(dir, 'out', 'eval.json'), 'utf8')) as { pairs: unknown[] };
      assert.equal(json.pairs.length, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('--sources without --targets is a usage error', async () => {
    const { runEvalCommand } = await import('../../src/cli/eval-command.js');
    await assert.rejects(runEvalCommand({ sources: 'x' }, { out: () => undefined, err: () => undefined }), (e: unknown) => e instanceof LiveswapError && e.kind === 'usage');
  });
});

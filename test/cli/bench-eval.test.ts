/** `liveswap bench` and `liveswap eval`: flag parsing, and short real runs of both. */

import assert from 'node:assert/strict';
import { join } from 'node:path';
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
    const report = JSON.parse(out.join('')) as {
      results: {
        mode: string;
        frames: number;
        throughputFps: number;
        peakRssMb: number;
        stages: Record<string, { median: number }>;
        live?: { produced: number; dropped: number };
      }[];
    };
    assert.deepEqual(
      report.results.map((r) => r.mode),
      ['image', 'live'],
    );
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
  test('folders of sources and targets: every pair measured by both recognisers, JSON and HTML written', async () => {
    const { mkdtemp, copyFile, mkdir, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
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
      type Measures = { toSource: number; toTarget: number; targetToSource: number; gain: number; retrieved: boolean };
      const report = JSON.parse(out.join('')) as {
        engine: string;
        mode: string;
        gainAgainst: string;
        recognisers: { id: string }[];
        pairs: { source: string; identity: { faceres: Measures; mobileface: Measures }; attributes: { landmarkError: number }; blending: { seamRatio: number } }[];
      };
      assert.equal(report.engine, 'mesh');
      assert.deepEqual([report.mode, report.gainAgainst], ['folders', 'source']);
      assert.deepEqual(
        report.recognisers.map((r) => r.id),
        ['faceres', 'mobileface'],
      );
      assert.equal(report.pairs.length, 2);
      const astronaut = report.pairs.find((p) => p.source === 'astronaut.png')!;
      // The astronaut onto another person's portrait: each recogniser must see the face move from
      // the target's identity towards the source's.
      for (const id of ['faceres', 'mobileface'] as const) {
        const m = astronaut.identity[id];
        assert.ok(m.toSource > m.targetToSource + 0.1, `${id}: cosine to the source ${m.targetToSource.toFixed(3)} → ${m.toSource.toFixed(3)}`);
        assert.ok(Math.abs(m.gain - (m.toSource - m.targetToSource)) < 1e-9);
        assert.ok(m.toTarget < 0.9, `${id}: cosine to the original target ${m.toTarget.toFixed(3)}`);
      }
      assert.ok(astronaut.attributes.landmarkError < 0.03 && astronaut.blending.seamRatio < 1.5);
      const html = await readFile(join(dir, 'out', 'report.html'), 'utf8');
      assert.match(html, /<img src="thumbs\/result-astronaut\.png-to-hopper\.jpg\.jpg"/);
      assert.match(html, /<th>FaceRes<\/th><th>MobileFace<\/th>/);
      const json = JSON.parse(await readFile(join(dir, 'out', 'eval.json'), 'utf8')) as { pairs: unknown[] };
      assert.equal(json.pairs.length, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('--people with --groups and --ablate: gallery figures, every group face a target, one ablation row per variant', async () => {
    const { mkdtemp, mkdir, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const sharp = (await import('sharp')).default;
    const { runEvalCommand } = await import('../../src/cli/eval-command.js');
    const { FIXTURES } = await import('../helpers/fixtures.js');
    const { meshAblations } = await import('../../src/swap/mesh-tuning.js');
    process.env.LIVESWAP_HOME = TEST_HOME;
    const dir = await mkdtemp(join(tmpdir(), 'liveswap-eval-people-'));
    const small = (file: string) => sharp(join(FIXTURES, file)).removeAlpha().resize({ height: 256 });
    try {
      for (const person of ['astronaut', 'hopper']) await mkdir(join(dir, 'people', person), { recursive: true });
      await mkdir(join(dir, 'groups'));
      await small('astronaut.png').toFile(join(dir, 'people', 'astronaut', 'a-1.png'));
      await small('astronaut.png')
        .flop()
        .toFile(join(dir, 'people', 'astronaut', 'a-2.png'));
      await small('grace_hopper.jpg').toFile(join(dir, 'people', 'hopper', 'h-1.png'));
      await small('grace_hopper.jpg')
        .flop()
        .linear(1, 20)
        .toFile(join(dir, 'people', 'hopper', 'h-2.png'));
      const { makeGroupPicture } = await import('../../src/node/eval/demo-assets.js');
      const { loadFixture } = await import('../helpers/fixtures.js');
      const { writeImage } = await import('../../src/node/media/image-io.js');
      await writeImage(join(dir, 'groups', 'group.png'), await makeGroupPicture(await loadFixture('astronaut.png'), await loadFixture('grace_hopper.jpg')));
      const out: string[] = [];
      const err: string[] = [];
      await runEvalCommand(
        { people: join(dir, 'people'), groups: join(dir, 'groups'), ablate: true, recognisers: 'faceres,mobileface', out: join(dir, 'out') },
        { out: (t) => out.push(t), err: (t) => err.push(t) },
      );
      const report = JSON.parse(await readFile(join(dir, 'out', 'eval.json'), 'utf8')) as {
        mode: string;
        gainAgainst: string;
        targets: string[];
        pairs: {
          source: string;
          target: string;
          samePerson?: boolean;
          identity?: Record<string, { toGallery: number; targetToGallery: number; gain: number; retrieved: boolean }>;
        }[];
        aggregate: { pairsAcrossPeople: number; identity: Record<string, { retrieval: number; gain: { mean: number } }> };
        ablation: { variant: string }[];
        videos: unknown[];
      };
      assert.deepEqual([report.mode, report.gainAgainst], ['gallery', 'gallery']);
      // Three faces in the group picture, each its own target; no source onto its own photo.
      assert.deepEqual(report.targets, [
        'astronaut/a-1.png',
        'astronaut/a-2.png',
        'hopper/h-1.png',
        'hopper/h-2.png',
        'groups/group.png #1',
        'groups/group.png #2',
        'groups/group.png #3',
      ]);
      assert.equal(report.pairs.length, 2 * 6);
      assert.ok(!report.pairs.some((p) => p.source === p.target));
      const across = report.pairs.filter((p) => p.samePerson === false);
      assert.equal(across.length, 4);
      for (const p of across) {
        for (const id of ['faceres', 'mobileface']) {
          const m = p.identity![id];
          assert.ok(Math.abs(m.gain - (m.toGallery - m.targetToGallery)) < 1e-9);
        }
      }
      assert.equal(report.aggregate.pairsAcrossPeople, 4);
      assert.ok(report.aggregate.identity.mobileface.gain.mean > 0, 'the swaps move faces towards the source person');
      assert.deepEqual(
        report.ablation.map((r) => r.variant),
        meshAblations().map((a) => a.name),
      );
      assert.deepEqual(report.videos, []);
      const text = out.join('\n');
      assert.match(text, /in gallery mode/);
      assert.match(text, /Gates:\n {2}(PASS|FAIL) {2}ID retrieval, FaceRes/);
      assert.match(text, /\| variant +\| retrieval FaceRes +\| retrieval MobileFace/);
      assert.match(await readFile(join(dir, 'out', 'ablation.md'), 'utf8'), /^# Mesh engine ablation \(12 pairs per variant\)/);
      assert.match(await readFile(join(dir, 'out', 'report.html'), 'utf8'), /Ablation of the mesh engine/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('flags that do not go together are usage errors', async () => {
    const { runEvalCommand, evalMode, parseRecognisers } = await import('../../src/cli/eval-command.js');
    const usage = (e: unknown) => e instanceof LiveswapError && e.kind === 'usage';
    await assert.rejects(runEvalCommand({ sources: 'x' }, { out: () => undefined, err: () => undefined }), usage);
    assert.throws(() => evalMode({ people: 'p', sources: 's', targets: 't' }), usage);
    assert.throws(() => evalMode({ groups: 'g' }), usage);
    assert.throws(() => evalMode({ ablate: true, engine: 'inswapper' }), usage);
    assert.deepEqual([evalMode({}), evalMode({ people: 'p', groups: 'g' }), evalMode({ sources: 's', targets: 't' })], ['builtin', 'gallery', 'folders']);
    assert.deepEqual(parseRecognisers(undefined), ['faceres', 'mobileface']);
    assert.deepEqual(parseRecognisers(' MobileFace, faceres '), ['faceres', 'mobileface']);
    assert.deepEqual(parseRecognisers('faceres'), ['faceres']);
    assert.throws(() => parseRecognisers('arcface'), /Expected a comma-separated list of faceres, mobileface for --recognisers but received "arcface"/);
    assert.throws(() => parseRecognisers(','), usage);
  });
});

/**
 * The real-size replicas that bench:inswapper-real measures: each has the real file's size (its
 * parameter count against the published file's bytes), loads into the engine's own classes (which
 * check names, shapes and dtypes against the model table) and runs; the detector's baked face comes
 * back through SCRFD's decoding where it was put.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { arcfaceReplica, detectorReplica, inswapperReplica } from '../../bench/real-size-models.js';
import { createImage } from '../../src/core/image.js';
import { ArcFaceEmbedder } from '../../src/face/arcface.js';
import { ScrfdDetector } from '../../src/face/scrfd.js';
import { readEmap } from '../../src/models/emap.js';
import { MODEL_SPECS } from '../../src/models/model-spec.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { InswapperModel } from '../../src/swap/inswapper.js';

/** Parameters of the published files: their bytes over 4 (fp32) or 2 (fp16), less the protobuf's few kilobytes. */
const near = (parameters: number, fileBytes: number, bytesPerWeight: number): boolean => Math.abs(parameters * bytesPerWeight - fileBytes) / fileBytes < 0.01;

const runtime = createNodeRuntime({ threads: 1 });

describe('real-size replicas of the InSwapper pipeline', () => {
  test('det_10g: its size, the table row accepts it, and the baked face is what it finds', async () => {
    const kps5 = [250, 250, 350, 250, 300, 300, 260, 350, 340, 350];
    const replica = detectorReplica([{ box: [200, 150, 400, 410], kps5, score: 0.9 }]);
    assert.ok(near(replica.parameters, MODEL_SPECS.det_10g.bytes, 4), `${replica.parameters} parameters`);
    const session = await runtime.load(replica.bytes, 'det_10g replica');
    try {
      const detections = await ScrfdDetector.create(session).detect(createImage(640, 640, 3));
      assert.equal(detections.length, 1);
      assert.deepEqual(
        detections[0]!.box.map((v) => Math.round(v)),
        [200, 150, 400, 410],
      );
      assert.deepEqual(
        Array.from(detections[0]!.kps5!, (v) => Math.round(v)),
        kps5,
      );
    } finally {
      await session.close();
    }
  });

  test('w600k_r50: its size, and a 512-value embedding of a face crop', async () => {
    const replica = arcfaceReplica();
    assert.ok(near(replica.parameters, MODEL_SPECS.w600k_r50.bytes, 4), `${replica.parameters} parameters`);
    assert.ok(replica.macs > 6e9 && replica.macs < 6.6e9, `${replica.macs} MACs (IResNet-50 at 112×112: about 6.3 G)`);
    const session = await runtime.load(replica.bytes, 'w600k_r50 replica');
    try {
      const image = createImage(160, 160, 3);
      for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 7) & 255;
      const { normedEmbedding } = await ArcFaceEmbedder.create(session).embed(image, [55, 60, 105, 60, 80, 85, 60, 110, 100, 110]);
      assert.equal(normedEmbedding.length, 512);
      assert.ok(Math.abs(Math.hypot(...normedEmbedding) - 1) < 1e-4);
    } finally {
      await session.close();
    }
  });

  test('inswapper_128_fp16: its size, float32 I/O accepted by the table row, the emap last', async () => {
    const replica = inswapperReplica('fp16');
    assert.ok(near(replica.parameters, MODEL_SPECS.inswapper_128_fp16.bytes, 2), `${replica.parameters} parameters`);
    assert.ok(replica.macs > 1.5e11 && replica.macs < 1.8e11, `${replica.macs} MACs`);
    assert.equal(readEmap(replica.bytes).length, 512 * 512);
    const session = await runtime.load(replica.bytes, 'inswapper_128_fp16 replica');
    try {
      InswapperModel.create(session, MODEL_SPECS.inswapper_128_fp16);
    } finally {
      await session.close();
    }
  });
});

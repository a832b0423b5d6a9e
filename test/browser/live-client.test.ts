/**
 * The page's side of the worker protocol, with a stand-in worker: failures arrive with their phase
 * and kind, a model that did not load is named (rejecting the start, or stopping the page later),
 * and a failed frame is counted and frees the worker for the next frame without stopping.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveClient, type LiveErrorEvent } from '../../src/browser/live-client.js';
import { WORKER_PHASES, workerError, type FromWorker, type ToWorker } from '../../src/browser/protocol.js';
import { DEFAULT_LIVE_SETTINGS, type ServerInfo } from '../../src/browser/protocol.js';
import { ERROR_KINDS, LiveswapError } from '../../src/core/errors.js';
import { modelName, presentWorkerError, startFailureText } from '../../web/app/worker-errors.js';

/** A Worker that records what the page posts and answers when the test says so. */
class FakeWorker {
  onmessage: ((event: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  readonly posted: ToWorker[] = [];
  terminated = false;

  postMessage(message: ToWorker): void {
    this.posted.push(message);
  }

  terminate(): void {
    this.terminated = true;
  }

  /** The worker says something to the page. */
  say(message: FromWorker): void {
    this.onmessage?.({ data: message } as MessageEvent<FromWorker>);
  }
}

/** A canvas whose bitmaprenderer context takes bitmaps and keeps nothing. */
function fakeCanvas(): HTMLCanvasElement {
  const context = { transferFromImageBitmap: () => undefined };
  return { width: 0, height: 0, getContext: (kind: string) => (kind === 'bitmaprenderer' ? context : null) } as unknown as HTMLCanvasElement;
}

/** A bitmap as the page and the worker hand it around (only its size and close are used). */
function fakeBitmap(width = 4, height = 3): ImageBitmap {
  return { width, height, close: () => undefined } as unknown as ImageBitmap;
}

/** A processed frame as the worker answers it. */
function frameMessage(): Extract<FromWorker, { type: 'frame' }> {
  return {
    type: 'frame',
    bitmap: fakeBitmap(),
    timings: { read: 0, detect: 0, track: 0, embed: 0, warp: 0, colour: 0, blend: 0, upscale: 0, mark: 0, draw: 0, total: 0 },
    faces: [],
    detected: false,
    time: 1,
    quality: { targetFps: 30, level: 0, levels: 5, scale: 1 },
  };
}

// The page reads each offered picture with createImageBitmap, which Node lacks.
(globalThis as { createImageBitmap?: (source: unknown) => Promise<ImageBitmap> }).createImageBitmap = (source) => Promise.resolve(source as ImageBitmap);

const INFO = {
  models: { blazeface: '/models/builtin/blazeface-aa.onnx', facemesh: '/models/builtin/facemesh-bb.onnx', faceres: '/models/builtin/faceres-cc.onnx' },
} as unknown as ServerInfo;

function start(worker: FakeWorker): Promise<LiveClient> {
  return LiveClient.start({
    info: INFO,
    engine: 'mesh',
    backend: 'wasm',
    settings: DEFAULT_LIVE_SETTINGS,
    provenance: { key: new Uint8Array(32), assetId: 1 },
    canvas: fakeCanvas(),
    createWorker: () => worker as unknown as Worker,
  });
}

async function started(worker: FakeWorker): Promise<LiveClient> {
  const client = start(worker);
  worker.say({ type: 'ready', engine: 'mesh', backend: 'wasm' });
  return client;
}

describe('workerError', () => {
  it('keeps a LiveswapError kind and, for a model, the file it names', () => {
    const failed = new LiveswapError('model', 'Could not load the model /models/builtin/facemesh-bb.onnx: bad protobuf', { file: '/models/builtin/facemesh-bb.onnx' });
    assert.deepEqual(workerError('start', failed), {
      type: 'error',
      phase: 'start',
      kind: 'model',
      message: 'Could not load the model /models/builtin/facemesh-bb.onnx: bad protobuf',
      model: '/models/builtin/facemesh-bb.onnx',
    });
    assert.deepEqual(workerError('source', new LiveswapError('no-face', 'no face'), 'me.jpg'), { type: 'error', phase: 'source', kind: 'no-face', message: 'me.jpg: no face' });
  });

  it("calls anything else 'internal', and every phase and kind comes from its one list", () => {
    assert.deepEqual(workerError('frame', new TypeError('x is undefined'), 'A frame could not be processed'), {
      type: 'error',
      phase: 'frame',
      kind: 'internal',
      message: 'A frame could not be processed: x is undefined',
    });
    assert.equal(workerError('relay', 'socket gone').message, 'socket gone');
    assert.deepEqual([...WORKER_PHASES], ['start', 'source', 'frame', 'control', 'relay']);
    assert.ok(ERROR_KINDS.includes(workerError('control', new Error('?')).kind));
  });
});

describe('LiveClient and worker failures', () => {
  it('rejects the start with a model error that names the model, and ends the worker', async () => {
    const worker = new FakeWorker();
    const client = start(worker);
    assert.equal(worker.posted[0]?.type, 'init');
    worker.say(
      workerError('start', new LiveswapError('model', 'Could not load the model /models/builtin/facemesh-bb.onnx: not ONNX', { file: '/models/builtin/facemesh-bb.onnx' })),
    );
    const error = await client.then(
      () => assert.fail('the start should fail'),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof LiveswapError);
    assert.equal(error.kind, 'model');
    assert.equal(error.file, '/models/builtin/facemesh-bb.onnx');
    assert.equal(worker.terminated, true);
    assert.match(
      startFailureText('mesh', 'wasm', error),
      /^The mesh engine could not start on wasm: the model facemesh-bb\.onnx did not load\. Could not load the model .*not ONNX\. Try another engine or backend\.$/,
    );
  });

  it('counts a failed frame, frees the worker for the waiting frame and keeps going', async () => {
    const worker = new FakeWorker();
    const client = await started(worker);
    const errors: LiveErrorEvent[] = [];
    client.on('error', (event) => errors.push(event));
    const reports: { processed: number; failed: number }[] = [];
    client.on('frame', (report) => reports.push({ processed: report.processed, failed: report.failed }));

    // One frame in flight, one waiting.
    await client.offer(fakeBitmap());
    await client.offer(fakeBitmap());
    assert.equal(worker.posted.filter((m) => m.type === 'frame').length, 1);

    worker.say(workerError('frame', new Error('the detector returned NaN'), 'A frame could not be processed'));
    assert.equal(errors.length, 1);
    assert.deepEqual(errors[0], { phase: 'frame', kind: 'internal', message: 'A frame could not be processed: the detector returned NaN', failedFrames: 1 });
    assert.equal(worker.posted.filter((m) => m.type === 'frame').length, 2, 'the waiting frame went to the worker');
    assert.equal(worker.terminated, false);

    worker.say(frameMessage());
    assert.deepEqual(reports, [{ processed: 1, failed: 1 }]);
    assert.deepEqual(client.counts, { processed: 1, dropped: 0, failed: 1 });

    const shown = presentWorkerError(errors[0]!, client.engine);
    assert.deepEqual({ slot: shown.slot, level: shown.level, stop: shown.stop }, { slot: 'frame', level: 'warning', stop: false });
    assert.match(shown.text, /the detector returned NaN\. 1 frame has failed so far; the stream goes on\.$/);
    client.close();
  });

  it('keeps as many frames on their way as the worker takes (its ready and frame messages say), and counts a skipped one as dropped', async () => {
    const worker = new FakeWorker();
    const client = start(worker);
    worker.say({ type: 'ready', engine: 'mesh', backend: 'wasm', depth: 2 });
    const live = await client;
    const sent = (): number => worker.posted.filter((m) => m.type === 'frame').length;
    const answer = (depth?: number): void => worker.say({ ...frameMessage(), ...(depth !== undefined ? { depth } : {}) });
    for (let i = 0; i < 4; i++) await live.offer(fakeBitmap());
    assert.equal(sent(), 2, 'two on their way');
    assert.equal(live.counts.dropped, 1, 'of the two offered meanwhile, the older waiting one was dropped');
    answer(3);
    assert.equal(sent(), 3, 'the waiting frame went at once');
    await live.offer(fakeBitmap());
    assert.equal(sent(), 4, 'now three may be on their way');
    worker.say({ type: 'skipped' });
    assert.deepEqual(live.counts, { processed: 1, dropped: 2, failed: 0 });
    answer(1);
    await live.offer(fakeBitmap());
    assert.equal(sent(), 4, 'back to one: a frame still on its way, so the new one waits');
    answer();
    assert.equal(sent(), 5);
    assert.deepEqual(live.counts, { processed: 3, dropped: 2, failed: 0 });
    live.close();
  });

  it('tells a model that failed after the start (it stops the page, named) from a photo or a control message that failed', async () => {
    const worker = new FakeWorker();
    const client = await started(worker);
    const errors: LiveErrorEvent[] = [];
    client.on('error', (event) => errors.push(event));
    await client.offer(fakeBitmap());
    const recogniser = '/models/builtin/faceres-cc.onnx?v=2';
    worker.say(workerError('frame', new LiveswapError('model', `Could not download the model ${recogniser}: the server answered 404 Not Found.`, { file: recogniser })));
    worker.say(workerError('source', new LiveswapError('input-unreadable', 'not a photo'), 'notes.txt'));
    worker.say(workerError('control', new Error('no such face')));

    assert.deepEqual(
      errors.map((e) => [e.phase, e.kind, e.model, e.failedFrames]),
      [
        ['frame', 'model', recogniser, 1],
        ['source', 'input-unreadable', undefined, 1],
        ['control', 'internal', undefined, 1],
      ],
    );
    const [model, source, control] = errors.map((e) => presentWorkerError(e, 'mesh'));
    assert.deepEqual([model!.slot, model!.stop], ['model', true]);
    assert.match(model!.text, /^The mesh engine stopped: the model faceres-cc\.onnx did not load\. .*404 Not Found\. Pick the engine again to retry\.$/);
    assert.deepEqual([source!.slot, source!.stop, source!.text], ['source', false, 'notes.txt: not a photo.']);
    assert.deepEqual([control!.slot, control!.stop], ['engine', false]);
    client.close();
    assert.equal(worker.terminated, true);
  });

  it('names models by their file', () => {
    assert.equal(modelName('/models/builtin/facemesh-bb.onnx'), 'facemesh-bb.onnx');
    assert.equal(modelName('https://host/models/x.onnx?token=1#a'), 'x.onnx');
    assert.equal(modelName('plain'), 'plain');
  });
});

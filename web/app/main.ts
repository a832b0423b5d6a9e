/**
 * The live app's main page: asks the server what it offers, starts the engine in a worker through
 * LiveClient (each start a new audited session whose asset id the worker watermarks every frame
 * with), and wires the panels to it. A failed engine is a message; the rest keeps working.
 */

import { LiveClient } from '../../src/browser/live-client.js';
import {
  createServerWorker,
  createWhipWorker,
  defaultProcessOn,
  fetchServerProcessing,
  onServer,
  PROCESS_ON,
  whipSupported,
  type ProcessOn,
} from '../../src/browser/server-mode.js';
import type { UiLiveInfo } from '../../src/pipeline/live-wire.js';
import { BACKENDS, DEFAULT_LIVE_SETTINGS, type Backend, type EngineName, type ServerInfo } from '../../src/browser/protocol.js';
import { bindControls, bindHints, bindLabel } from './controls.js';
import { byId, errorText, sentence } from './dom.js';
import { FacesPanel } from './faces.js';
import { Messages } from './messages.js';
import { fillEngineChoices as fillEngineMenu, ModelControls, usable } from './model-choices.js';
import { keyFromHex, labelState, ProvenanceLog, type LiveSessionInfo } from './provenance.js';
import { Recorder } from './recorder.js';
import { browserStorage, processSettings, SettingsStore } from './settings.js';
import { SourcesPanel } from './sources.js';
import { FrameStats } from './stats.js';
import { Target } from './target.js';
import { presentWorkerError, startFailureText } from './worker-errors.js';

const messages = new Messages(byId('messages', HTMLUListElement));
const store = new SettingsStore(browserStorage());
const preview = byId('preview', HTMLCanvasElement);
const engineSelect = byId('engine', HTMLSelectElement);
const backendSelect = byId('backend', HTMLSelectElement);
const engineStatus = byId('engine-status', HTMLElement);
const relayBox = byId('relay', HTMLInputElement);
const relayStatus = byId('relay-status', HTMLElement);
const processSelect = byId('process-on', HTMLSelectElement);
const serverStats = byId('server-stats', HTMLElement);

let info: ServerInfo | null = null;
let watermarkKey: Uint8Array | null = null;
let client: LiveClient | null = null;
/** Bumped on every (re)start so a start that finishes late is closed, not used. */
let generation = 0;
let watchers = 0;
/** What the server offers for processing there (null: nothing), and where frames are processed now. */
let serverProcessing: UiLiveInfo | null = null;
let processOn: ProcessOn = 'browser';
const currentClient = (): LiveClient | null => client;

const sources = new SourcesPanel(byId('sources', HTMLUListElement), byId('source-input', HTMLInputElement), byId('source-drop', HTMLElement), messages);
const target = new Target(
  {
    section: byId('target', HTMLElement),
    kind: byId('target-kind', HTMLSelectElement),
    cameraGroup: byId('camera-group', HTMLElement),
    cameraSelect: byId('camera-select', HTMLSelectElement),
    cameraSize: byId('camera-size', HTMLSelectElement),
    videoGroup: byId('video-group', HTMLElement),
    videoInput: byId('video-input', HTMLInputElement),
    imageGroup: byId('image-group', HTMLElement),
    imageInput: byId('image-input', HTMLInputElement),
    start: byId('start', HTMLButtonElement),
    stop: byId('stop', HTMLButtonElement),
    state: byId('target-state', HTMLElement),
    video: byId('camera-video', HTMLVideoElement),
    preview,
  },
  store,
  messages,
  currentClient,
);
const stats = new FrameStats(byId('fps', HTMLElement), byId('timings', HTMLElement));
const faces = new FacesPanel(
  {
    list: byId('faces-list', HTMLUListElement),
    mapList: byId('map-list', HTMLUListElement),
    clear: byId('clear-map', HTMLButtonElement),
    preview,
    overlay: byId('face-overlay', HTMLCanvasElement),
  },
  currentClient,
);
const provenance = new ProvenanceLog(byId('watermark-id', HTMLElement));
const currentLabel = () => labelState(store.value.label, store.value.labelText);
const recorder = new Recorder(
  {
    preview,
    video: byId('camera-video', HTMLVideoElement),
    record: byId('record', HTMLButtonElement),
    recordState: byId('record-state', HTMLElement),
    recordingLink: byId('recording-link', HTMLAnchorElement),
    snapshot: byId('snapshot', HTMLButtonElement),
    snapshotLink: byId('snapshot-link', HTMLAnchorElement),
  },
  messages,
  { log: provenance, label: currentLabel, sources: () => sources.digests() },
);
const modelControls = new ModelControls(
  {
    engine: engineSelect,
    pixelBoost: byId('pixel-boost', HTMLSelectElement),
    enhancer: byId('face-enhancer', HTMLSelectElement),
    enhancerBlend: byId('face-enhancer-blend', HTMLInputElement),
    enhancerBlendValue: byId('face-enhancer-blend-value', HTMLOutputElement),
    enhancerWeight: byId('face-enhancer-weight', HTMLInputElement),
    enhancerWeightValue: byId('face-enhancer-weight-value', HTMLOutputElement),
    enhancerWeightField: byId('face-enhancer-weight-field', HTMLElement),
    occlusion: byId('occlusion-mask', HTMLSelectElement),
    parser: byId('face-parser', HTMLSelectElement),
    hint: byId('model-hint', HTMLDetailsElement),
    hintCount: byId('model-hint-count', HTMLElement),
    hintList: byId('model-hint-list', HTMLUListElement),
  },
  store,
);
bindControls(store);
bindHints();
bindLabel(store, messages);
stats.show(store.value.showFps, store.value.showTimings);
stats.reset();

sources.onChange(() => {
  faces.setSources(sources.usable());
  target.processStill();
});

store.onChange((settings, changed) => {
  if (changed.includes('showFps') || changed.includes('showTimings')) stats.show(settings.showFps, settings.showTimings);
  if (changed.includes('label') || changed.includes('labelText')) recorder.labelChanged();
  const processing = Object.keys(processSettings(settings));
  if (changed.some((key) => processing.includes(key))) {
    client?.updateSettings(processSettings(settings));
    target.processStill();
  }
});

const hasWebGpu = 'gpu' in navigator && navigator.gpu !== undefined;

function fillEngineChoices(): void {
  fillEngineMenu(engineSelect, info);
  backendSelect.replaceChildren(
    ...BACKENDS.map((backend) => {
      const option = new Option(backend === 'webgpu' ? 'WebGPU' : 'wasm (CPU)', backend);
      if (backend === 'webgpu' && !hasWebGpu) {
        option.disabled = true;
        option.title = 'This browser offers no WebGPU.';
      }
      return option;
    }),
  );
  const settings = store.value;
  engineSelect.value = usable(engineSelect, settings.engine) ? settings.engine : DEFAULT_LIVE_SETTINGS.engine;
  backendSelect.value = usable(backendSelect, settings.backend) ? settings.backend : DEFAULT_LIVE_SETTINGS.backend;
  if (info) modelControls.setInfo(info);
}

function relayUrl(server: ServerInfo): string {
  const url = new URL(server.relay.publish, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

function showRelay(): void {
  if (!relayBox.checked) relayStatus.textContent = 'Relay off';
  else if (!client) relayStatus.textContent = 'Relay waits for the engine';
  else relayStatus.textContent = `${watchers} watching /output`;
  relayStatus.dataset.watchers = String(watchers);
}

function applyRelay(): void {
  if (client && info) client.relay(relayBox.checked ? relayUrl(info) : null);
  showRelay();
}

async function startClient(): Promise<void> {
  const run = ++generation;
  client?.close();
  client = null;
  provenance.end();
  sources.detach();
  faces.reset();
  stats.reset();
  watchers = 0;
  showRelay();
  if (!info || !watermarkKey) return;
  const engine = engineSelect.value as EngineName;
  const backend = backendSelect.value as Backend;
  const where = onServer(processOn) ? `on the server (${serverProcessing?.provider ?? 'cpu'}${processOn === 'server-webrtc' ? ', WebRTC' : ''})` : backend;
  engineStatus.textContent = `Loading the ${engine} engine · ${where}…`;
  showServerStats(null);
  document.body.dataset.engine = 'loading';
  // No frame is shown without a watermark id that the audit log knows.
  let session: LiveSessionInfo;
  try {
    session = await provenance.startSession(engine, currentLabel(), await sources.digests());
  } catch (error) {
    if (run !== generation) return;
    document.body.dataset.engine = 'failed';
    engineStatus.textContent = `${engine} engine · ${backend} — not started`;
    messages.show(
      'provenance',
      `The engine was not started because the audit log did not take the new session: ${sentence(errorText(error))} Check that \`liveswap ui\` is still running and reload.`,
    );
    return;
  }
  if (run !== generation) return;
  messages.clear('provenance');
  let started: LiveClient;
  try {
    const settings = processSettings(store.value);
    started = await LiveClient.start({
      info,
      engine,
      backend,
      settings,
      canvas: preview,
      provenance: { key: watermarkKey, assetId: session.assetId },
      ...(onServer(processOn) ? { createWorker: processOn === 'server-webrtc' ? createWhipWorker : createServerWorker } : {}),
    });
  } catch (error) {
    if (run !== generation) return;
    document.body.dataset.engine = 'failed';
    engineStatus.textContent = `${engine} engine · ${where} — not loaded`;
    messages.show('model', startFailureText(engine, backend, error));
    return;
  }
  if (run !== generation) {
    started.close();
    return;
  }
  client = started;
  messages.clear('model');
  document.body.dataset.engine = 'ready';
  engineStatus.textContent = onServer(processOn)
    ? `${started.engine} engine · ${where}`
    : `${started.engine} engine · ${started.backend}${started.notice ? ` — ${started.notice}` : ''}`;
  started.on('error', (event) => {
    // An enhancer or mask model that will not load is turned off; the engine goes on.
    const off = event.kind === 'model' && event.model !== undefined ? modelControls.turnOff(event.model) : undefined;
    if (off) {
      messages.show('model', `${off} ${sentence(event.message)}`, 'warning');
      return;
    }
    const shown = presentWorkerError(event, started.engine);
    if (shown.stop) engineStopped(started);
    messages.show(shown.slot, shown.text, shown.level);
  });
  started.on('sources', ({ sources: states, mainSource }) => sources.update(states, mainSource));
  started.on('map', ({ entries }) => faces.setMap(entries));
  started.on('relay', ({ watchers: count }) => {
    watchers = count;
    showRelay();
  });
  started.on('frame', (report) => {
    stats.add(report);
    if (onServer(processOn)) showServerStats(report);
    faces.setFaces(report.faces);
  });
  applyRelay();
  target.clientChanged();
  await sources.attach(started);
}

/** A model failed after the start: the engine stops (no more half-processed frames) until it is picked again. */
function engineStopped(stopped: LiveClient): void {
  if (client !== stopped) return;
  generation++;
  stopped.close();
  client = null;
  provenance.end();
  sources.detach();
  faces.reset();
  document.body.dataset.engine = 'failed';
  engineStatus.textContent = `${stopped.engine} engine · ${stopped.backend} — stopped`;
  target.clientChanged();
  showRelay();
}

engineSelect.addEventListener('change', () => {
  store.update({ engine: engineSelect.value as EngineName });
  void startClient();
});
backendSelect.addEventListener('change', () => {
  store.update({ backend: backendSelect.value as Backend });
  void startClient();
});
relayBox.addEventListener('change', applyRelay);
processSelect.addEventListener('change', () => {
  processOn = processSelect.value as ProcessOn;
  backendSelect.disabled = onServer(processOn);
  void startClient();
});

/** The round trip to the server and the frames shown per second (also in data-rtt, data-fps, data-frames, data-faces for tests and tools). */
function showServerStats(report: { timings: { total: number }; fps: number; processed: number; faces: readonly unknown[] } | null): void {
  serverStats.hidden = report === null;
  if (!report) {
    for (const key of ['rtt', 'fps', 'frames', 'faces'] as const) delete serverStats.dataset[key];
    serverStats.textContent = '';
    return;
  }
  const rtt = Math.round(report.timings.total);
  serverStats.dataset.rtt = String(rtt);
  serverStats.dataset.fps = String(report.fps);
  serverStats.dataset.frames = String(report.processed);
  serverStats.dataset.faces = String(report.faces.length);
  serverStats.textContent = `round trip ${rtt} ms · ${report.fps} fps`;
}

/** The "process on" choice: from the address (?process=server), else the default for this server and browser; the server option only when offered. */
function fillProcessChoice(): void {
  const server = processSelect.querySelector<HTMLOptionElement>('option[value="server"]')!;
  server.disabled = serverProcessing === null;
  server.textContent = serverProcessing ? `the server (${serverProcessing.provider}${serverProcessing.gpu ? ', GPU' : ''})` : 'the server (not offered)';
  const webrtc = processSelect.querySelector<HTMLOptionElement>('option[value="server-webrtc"]')!;
  const webrtcOffered = Boolean(serverProcessing?.whip) && whipSupported();
  webrtc.disabled = !webrtcOffered;
  webrtc.textContent = webrtcOffered ? `${server.textContent}, over WebRTC` : 'the server over WebRTC (not offered)';
  const asked = new URLSearchParams(location.search).get('process');
  const chosen = (PROCESS_ON as readonly string[]).includes(asked ?? '') ? (asked as ProcessOn) : defaultProcessOn(serverProcessing, hasWebGpu, whipSupported());
  processOn = (chosen === 'server' && serverProcessing === null) || (chosen === 'server-webrtc' && !webrtcOffered) ? 'browser' : chosen;
  processSelect.value = processOn;
  backendSelect.disabled = onServer(processOn);
}

async function loadInfo(): Promise<ServerInfo> {
  const response = await fetch('/api/info', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`/api/info answered ${response.status} ${response.statusText}`.trim());
  const body = (await response.json()) as ServerInfo;
  if (typeof body !== 'object' || body === null || typeof body.engines !== 'object' || typeof body.relay !== 'object' || typeof body.provenance !== 'object') {
    throw new Error('/api/info did not describe a liveswap server');
  }
  return body;
}

async function boot(): Promise<void> {
  fillEngineChoices();
  try {
    info = await loadInfo();
  } catch (error) {
    document.body.dataset.engine = 'failed';
    engineStatus.textContent = 'No engine: the server did not answer';
    messages.show('server', `Could not reach the liveswap server: ${sentence(errorText(error))} Open this page from \`liveswap ui\` and reload.`);
    showRelay();
    return;
  }
  document.title = `liveswap ${info.version}`;
  try {
    watermarkKey = keyFromHex(info.provenance.watermarkKey);
  } catch (error) {
    document.body.dataset.engine = 'failed';
    engineStatus.textContent = 'No engine: the server sent no watermark key';
    messages.show('server', `${sentence(errorText(error))} Restart \`liveswap ui\` and reload.`);
    return;
  }
  store.update({ labelText: info.provenance.labelText });
  fillEngineChoices();
  serverProcessing = await fetchServerProcessing();
  fillProcessChoice();
  await startClient();
}

void boot();

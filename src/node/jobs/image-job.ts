/**
 * A still swap as a job: plan (read and check the inputs, the output path and the provenance
 * choices, before any model loads) then run (open the engine, swap, mark, publish atomically with
 * credentials and an audit entry). The CLI and the HTTP API both call these.
 */

import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import type { EngineChoice, ExecutionProvider, SwapOptions } from '../../pipeline/options.js';
import type { SwapReport } from '../../pipeline/report.js';
import { checkOutputPath, temporaryPathFor } from '../files/output.js';
import { outputFormatFor, readImage, writeImage } from '../media/image-io.js';
import { defaultHome } from '../models/model-cache.js';
import { startProvenance, type AuditContext, type OutputProvenance, type ProvenanceChoices, type PublishedOutput } from '../provenance/output-provenance.js';
import type { NodeSwapper } from './swapper.js';

/** Where the models run. */
export interface JobRuntime {
  provider: ExecutionProvider;
  threads: number;
}

/** Opens the engine a job runs on; tests and servers pass their own (e.g. one kept warm). */
export type OpenSwapper = (runtime: JobRuntime & { engine: EngineChoice }) => Promise<NodeSwapper>;

/** Loaded on demand so planning (and every input error) never pays for onnxruntime. */
export const openNodeSwapper: OpenSwapper = async (runtime) => {
  const { createNodeSwapper } = await import('./swapper.js');
  return createNodeSwapper(runtime);
};

export interface ImageJobSpec {
  /** One photo, or several photos of the same person (combined where the engine can). */
  sources: readonly string[];
  target: string;
  output: string;
  paint: SwapOptions;
  /** Label, watermark key and signer; the label is on unless `label: false`. */
  marks: ProvenanceChoices;
  runtime?: JobRuntime;
  /** Where keys, credentials and the audit log live; default LIVESWAP_HOME or the user's cache. */
  home?: string;
}

export interface ImageJobPlan {
  spec: ImageJobSpec;
  sourceImages: Image[];
  target: Image;
  provenance: OutputProvenance;
  /** Milliseconds spent reading the inputs. */
  decodeMs: number;
  /** When planning began (performance.now()), so the total covers the whole job. */
  startedAt: number;
}

export interface JobRunOptions {
  open?: OpenSwapper;
  signal?: AbortSignal;
  /** The request behind the job, for its audit line (the HTTP API's jobs). */
  audit?: AuditContext;
}

export interface ImageJobResult {
  output: string;
  engine: string;
  report: SwapReport;
  published: PublishedOutput;
  /** Milliseconds per stage, from reading the inputs to publishing the output. */
  timings: Record<string, number>;
  notices: string[];
}

/** Every cheap check: the output format, the inputs (decoded, within the pixel limit), the output folder, the marks. */
export async function planImageJob(spec: ImageJobSpec): Promise<ImageJobPlan> {
  if (spec.sources.length === 0) throw new LiveswapError('usage', 'At least one source photo is needed.');
  outputFormatFor(spec.output);
  const started = performance.now();
  const sourceImages: Image[] = [];
  for (const file of spec.sources) sourceImages.push(await readImage(file, { maxPixels: spec.paint.maxPixels }));
  const target = await readImage(spec.target, { maxPixels: spec.paint.maxPixels });
  const decodeMs = performance.now() - started;
  await checkOutputPath(spec.output, { inputs: [...spec.sources, spec.target] });
  const provenance = await startProvenance(spec.home ?? defaultHome(), spec.marks, 'still');
  return { spec, sourceImages, target, provenance, decodeMs, startedAt: started };
}

/** Opens the engine, swaps, marks and publishes; on any failure nothing is left at the output. */
export async function runImageJob(plan: ImageJobPlan, options: JobRunOptions = {}): Promise<ImageJobResult> {
  const { spec, provenance } = plan;
  const cancelled = (): void => {
    if (options.signal?.aborted) throw new LiveswapError('interrupted', `Stopped before ${spec.output} was written; nothing was saved.`, { file: spec.output });
  };
  cancelled();
  let t = performance.now();
  const swapper = await (options.open ?? openNodeSwapper)({ ...(spec.runtime ?? { provider: 'cpu', threads: 1 }), engine: spec.paint.engine });
  const load = performance.now() - t;
  let result;
  try {
    cancelled();
    const [first] = plan.sourceImages;
    const source = plan.sourceImages.length === 1 ? first! : await swapper.prepareSources(plan.sourceImages, spec.paint, spec.sources);
    result = await swapper.swap(source, plan.target, spec.paint, { source: spec.sources[0], target: spec.target, marks: provenance.marker });
  } finally {
    await swapper.close();
  }
  cancelled();
  t = performance.now();
  // Encoded first and published only if no signal came meanwhile: an encode cannot be cancelled
  // midway, but its result need not be kept.
  const temporary = temporaryPathFor(spec.output);
  let published: PublishedOutput;
  try {
    await writeImage(temporary, result.image);
    cancelled();
    published = await provenance.publish(temporary, spec.output, {
      kind: 'image',
      sources: spec.sources,
      target: spec.target,
      engine: result.report.engine,
      options: { ...spec.paint, label: provenance.label },
      ...(options.audit ? { audit: options.audit } : {}),
    });
  } finally {
    await rm(temporary, { force: true });
  }
  const encode = performance.now() - t;
  return {
    output: resolve(spec.output),
    engine: result.report.engine,
    report: result.report,
    published,
    timings: { decode: plan.decodeMs, load, ...result.report.timings, encode, total: performance.now() - plan.startedAt },
    notices: [...(swapper.notice ? [swapper.notice] : []), ...result.report.notices, ...(published.notice ? [published.notice] : [])],
  };
}

/**
 * POST /v1/swaps/image: a synchronous swap through the jobs layer (planImageJob, runImageJob),
 * marks always on, on one of the process's image slots (503 when all are busy), one swap reserved
 * against the daily quota first and refunded if the swap fails. The answer is the marked image.
 */

import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { planImageJob, runImageJob } from '../../node/jobs/image-job.js';
import { decodeImage } from '../../node/media/image-io.js';
import { resolveSwapOptions } from '../../pipeline/options.js';
import type { ApiApp, ContextOf } from './app-type.js';
import { deferredRequestAudit } from './audit.js';
import { callerOf, type ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { imageExtension, ownIdentity } from './identity-routes.js';
import { readForm } from './multipart.js';
import { reserveQuota } from './quota.js';
import { Binary, SwapFields, Text, withErrors } from './schemas.js';

const FORMATS = { jpeg: { type: 'image/jpeg', ext: '.jpg' }, png: { type: 'image/png', ext: '.png' }, webp: { type: 'image/webp', ext: '.webp' } } as const;
type Format = keyof typeof FORMATS;

/** The output format the Accept header prefers (JPEG when it names none of ours, or any). */
export function negotiateFormat(accept: string | undefined): Format {
  if (!accept) return 'jpeg';
  const offers = accept
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { type: type.trim(), q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((offer) => offer.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const offer of offers) {
    const found = (Object.keys(FORMATS) as Format[]).find((format) => FORMATS[format].type === offer.type);
    if (found) return found;
    if (offer.type === 'image/*' || offer.type === '*/*') return 'jpeg';
  }
  throw new ApiError('usage', `Cannot answer with any of ${accept}: the result is image/jpeg, image/png or image/webp.`);
}

/** The option fields of the form, typed and checked against SwapFields. */
function swapFieldsOf(fields: Map<string, string>): SwapFields {
  const raw: Record<string, unknown> = {};
  const properties = SwapFields.properties as Record<string, { type?: string; items?: { type?: string } }>;
  for (const [name, value] of fields) {
    if (name === 'identityId') continue;
    const property = properties[name];
    if (!property) throw new ApiError('usage', `Unknown field ${JSON.stringify(name)}; the options are ${Object.keys(properties).join(', ')}.`);
    if (property.type === 'boolean') raw[name] = value === 'true' ? true : value === 'false' ? false : value;
    else if (property.type === 'number' || property.type === 'integer') raw[name] = value.trim() === '' ? value : Number(value);
    // A list (regions, a padding) is comma-separated text in a form.
    else if (property.type === 'array')
      raw[name] = value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0)
        .map((v) => (property.items?.type === 'number' ? Number(v) : v));
    else raw[name] = value;
  }
  if (!Value.Check(SwapFields, raw)) {
    const first = Value.Errors(SwapFields, raw)[0];
    throw new ApiError('usage', `Invalid option ${first?.instancePath.slice(1) ?? ''}: ${first?.message ?? 'not valid'}.`);
  }
  return raw;
}

/** The option fields as a form carries them (text), for the OpenAPI document. */
function swapFieldsAsText(): Record<string, TSchema> {
  return Object.fromEntries(Object.entries(SwapFields.properties).map(([name, schema]) => [name, Type.Optional(schema)]));
}

export function addSwapRoutes(app: ApiApp, context: ContextOf<ApiContext>): void {
  const imageResponse = {
    description: 'The swapped image, labelled and watermarked',
    content: Object.fromEntries(Object.values(FORMATS).map((f) => [f.type, { schema: Binary('image') }])),
  };
  app.post(
    '/v1/swaps/image',
    {
      config: { access: { scope: 'swap:image', media: true } },
      validatorCompiler: () => () => true,
      schema: {
        tags: ['swaps'],
        summary: 'Swap an identity onto the faces of one image; answers the marked image (Accept: image/jpeg, image/png or image/webp).',
        consumes: ['multipart/form-data'],
        body: Type.Object({ target: Binary('the image to swap into'), identityId: Text('an identity of this token'), ...swapFieldsAsText() }),
        response: withErrors({ 200: imageResponse }, [404, 413, 415, 422]),
      },
    },
    async (request, reply) => {
      const token = callerOf(request);
      const ctx = context();
      const format = negotiateFormat(request.headers.accept);
      const form = await readForm(request, ['target']);
      const identityId = form.fields.get('identityId');
      if (identityId === undefined) throw new ApiError('usage', 'The field identityId is required.');
      const options = swapFieldsOf(form.fields);
      const [target, ...extra] = form.files;
      if (!target || extra.length > 0) throw new ApiError('usage', 'Send exactly one image in the `target` field.');
      const identity = await ownIdentity(ctx, token, identityId);
      // Checked before a slot or a quota is taken: a bad image costs neither.
      await decodeImage(target.bytes, 'target', { maxPixels: ctx.limits.maxPixels });
      const lease = ctx.swappers.tryAcquire();
      if (!lease) throw new ApiError('overloaded', `All ${ctx.swappers.slots} image slots are busy; try again in a moment.`, { 'Retry-After': '1' });
      const dir = join(ctx.home, 'service', 'api-tmp', randomUUID());
      try {
        const reserved = await reserveQuota(ctx.home, ctx.stores.quotas, request, token, 'swaps', 1);
        try {
          extendSocketTimeout(request);
          await mkdir(dir, { recursive: true, mode: 0o700 });
          const targetPath = join(dir, `target${imageExtension(target.bytes)}`);
          await writeFile(targetPath, target.bytes, { mode: 0o600 });
          const output = join(dir, `output${FORMATS[format].ext}`);
          const plan = await planImageJob({
            sources: identity.photos,
            target: targetPath,
            output,
            paint: resolveSwapOptions({ ...options, maxPixels: ctx.limits.maxPixels }),
            marks: { label: true },
            home: ctx.home,
          });
          const result = await runImageJob(plan, {
            open: lease.open,
            audit: deferredRequestAudit(request, 'ok', { identityId: identity.id, consentId: identity.consentId }),
          });
          const bytes = await readFile(result.output);
          return reply
            .type(FORMATS[format].type)
            .header('Cache-Control', 'no-store')
            .header('X-Liveswap-Watermark-Id', result.published.watermarkId)
            .header('X-Liveswap-Swapped-Faces', String(result.report.swappedFaces.length))
            .send(bytes);
        } catch (error) {
          await reserved.refund();
          throw error;
        }
      } finally {
        lease.release();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
}

/** A swap may outlast the connection's idle timeout while nothing is written: give it the request timeout. */
function extendSocketTimeout(request: FastifyRequest): void {
  request.raw.socket.setTimeout(120_000);
}

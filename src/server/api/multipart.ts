/**
 * Reads a multipart body whole, within the limits the multipart plugin enforces (file size, files,
 * fields, parts: 413 past any), into files by field name and text fields. Bodies here are photos
 * and one target image, so holding them in memory is bounded (8 × 20 MiB at most).
 */

import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

export interface ReceivedFile {
  field: string;
  bytes: Buffer;
  /** What the client called it; never trusted (content decides the format). */
  filename: string;
}

export interface ReceivedForm {
  files: ReceivedFile[];
  fields: Map<string, string>;
}

/** The parts of a multipart request; a body of another type is 415. */
export async function readForm(request: FastifyRequest, fileFields: readonly string[]): Promise<ReceivedForm> {
  if (!request.isMultipart()) throw new ApiError('usage', 'Send this request as multipart/form-data.');
  const files: ReceivedFile[] = [];
  const fields = new Map<string, string>();
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (!fileFields.includes(part.fieldname)) {
        part.file.resume();
        throw new ApiError('usage', `Unexpected file field ${JSON.stringify(part.fieldname)}; expected ${fileFields.join(' or ')}.`);
      }
      files.push({ field: part.fieldname, bytes: await part.toBuffer(), filename: part.filename });
    } else {
      if (fields.has(part.fieldname)) throw new ApiError('usage', `The field ${JSON.stringify(part.fieldname)} is given twice.`);
      fields.set(part.fieldname, typeof part.value === 'string' ? part.value : String(part.value));
    }
  }
  return { files, fields };
}

/**
 * Raw request bodies for the ingest receivers. Fastify collects the
 * (compressed) bytes up to `maxBodyBytes`; decompression then stops at
 * `maxDecompressedBytes`, so a gzip bomb costs at most that much memory and
 * gets a 413.
 */
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export interface BodyLimits {
  /** Bytes on the wire (compressed). Default 16 MiB. */
  maxBodyBytes: number;
  /** Bytes after decompression. Default 64 MiB. */
  maxDecompressedBytes: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = { maxBodyBytes: 16 * 1024 * 1024, maxDecompressedBytes: 64 * 1024 * 1024 };

/** In this plugin scope, every content type arrives as a raw Buffer; routes decide what they accept. */
export function acceptRawBodies(app: FastifyInstance, limits: BodyLimits): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.maxBodyBytes }, (_req, body, done) => done(null, body));
}

/** The request body, decompressed per Content-Encoding (gzip, deflate or identity). */
export async function readBody(req: FastifyRequest, limits: BodyLimits): Promise<Buffer> {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') {
    if (body.length > limits.maxDecompressedBytes) throw tooLarge(limits);
    return body;
  }
  const decompress = encoding === 'gzip' || encoding === 'x-gzip' ? gunzipAsync : encoding === 'deflate' ? inflateAsync : undefined;
  if (!decompress) throw new HttpError(415, `unsupported Content-Encoding "${encoding}" (use gzip or identity)`);
  try {
    return await decompress(body, { maxOutputLength: limits.maxDecompressedBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limits);
    throw new HttpError(400, `request body is not valid ${encoding} data`);
  }
}

function tooLarge(limits: BodyLimits): HttpError {
  return new HttpError(413, `decompressed request body exceeds ${limits.maxDecompressedBytes} bytes`);
}

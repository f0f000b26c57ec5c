/**
 * SHA-256, in one place. `crypto.hash` (Node >= 20.12) digests in one call,
 * without a Hash object per use, which shows on per-call and per-request
 * paths (argument summaries, API keys); older Node falls back to createHash.
 * Strings are hashed as UTF-8 either way.
 */
import * as crypto from 'node:crypto';

type OneShot = {
  (algorithm: string, data: string | Buffer, encoding: 'hex'): string;
  (algorithm: string, data: string | Buffer, encoding: 'buffer'): Buffer;
};
const oneShot = (crypto as { hash?: OneShot }).hash;

export function sha256Hex(data: string | Buffer): string {
  return oneShot ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}

export function sha256Digest(data: string | Buffer): Buffer {
  return oneShot ? oneShot('sha256', data, 'buffer') : crypto.createHash('sha256').update(data).digest();
}

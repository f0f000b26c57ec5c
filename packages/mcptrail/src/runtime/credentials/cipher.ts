import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Turns token sets into the stored string and back. */
export interface TokenCodec {
  encode(tenantId: string, plaintext: string): string;
  /** Throws when the value cannot be decoded (wrong key, tampered, other tenant's blob). */
  decode(tenantId: string, stored: string): string;
}

/** For the memory backend: values never leave the process. */
export const plaintextCodec: TokenCodec = {
  encode: (_t, plaintext) => plaintext,
  decode: (_t, stored) => stored,
};

/** A 32-byte key from a Buffer, 64 hex chars or base64 / base64url. */
export function parseCredentialsKey(key: string | Buffer): Buffer {
  const buf = Buffer.isBuffer(key)
    ? key
    : /^[0-9a-fA-F]{64}$/.test(key)
      ? Buffer.from(key, 'hex')
      : Buffer.from(key, 'base64');
  if (buf.length !== 32) throw new RangeError('credentials key must be 32 bytes (64 hex chars or base64)');
  return buf;
}

/** The key from MCPTRAIL_CREDENTIALS_KEY, if set. */
export function credentialsKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const v = env.MCPTRAIL_CREDENTIALS_KEY;
  return v ? parseCredentialsKey(v) : undefined;
}

const VERSION = 'v1';

/**
 * AES-256-GCM, fresh 96-bit IV per write. The tenant id is authenticated
 * data, so a blob copied under another tenant's key fails to decrypt.
 */
export function aesGcmCodec(key: string | Buffer): TokenCodec {
  const k = parseCredentialsKey(key);
  const aad = (tenantId: string) => Buffer.from(`mcptrail-credentials:${VERSION}:${tenantId}`);
  return {
    encode(tenantId, plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', k, iv);
      cipher.setAAD(aad(tenantId));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    decode(tenantId, stored) {
      const [version, iv, tag, ct] = stored.split('.');
      if (version !== VERSION || !iv || !tag || ct === undefined) throw new Error('unknown credential format');
      const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(iv, 'base64url'));
      decipher.setAAD(aad(tenantId));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** How long a used refresh token still returns the pair its rotation produced. */
export const REFRESH_GRACE_MS = 10_000;

export interface IssuedPair {
  accessToken: string;
  refreshToken: string;
}

function keyFor(secret: string, tokenId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, tokenId, 'hitl refresh grace v1', 32));
}

/**
 * Encrypts the pair a rotation issued under a key derived from the presented token's secret:
 * the database holds only the secret's hash, so what is stored cannot be read without the token
 * the client already has. AES-256-GCM, `iv.tag.ciphertext` in base64url.
 */
export function sealPair(secret: string, tokenId: string, pair: IssuedPair): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(secret, tokenId), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(pair), 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

/** The pair sealed by sealPair, or undefined when the secret does not open it. */
export function openPair(secret: string, tokenId: string, sealed: string): IssuedPair | undefined {
  try {
    const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
    const decipher = createDecipheriv('aes-256-gcm', keyFor(secret, tokenId), iv);
    decipher.setAuthTag(tag);
    const text = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    const pair = JSON.parse(text) as Partial<IssuedPair>;
    return typeof pair.accessToken === 'string' && typeof pair.refreshToken === 'string'
      ? { accessToken: pair.accessToken, refreshToken: pair.refreshToken }
      : undefined;
  } catch {
    return undefined;
  }
}

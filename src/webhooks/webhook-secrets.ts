import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Endpoint secrets. The signature needs the secret itself (HMAC), so it cannot be stored hashed;
 * it is stored encrypted (AES-256-GCM) with a key derived (HKDF) from JWT_SECRET, which lives in
 * the environment or DATA_DIR, never in the database: a dump alone does not reveal it. Changing
 * JWT_SECRET therefore makes the stored secrets unreadable: those endpoints' deliveries fail
 * (`lastError` says so) until they are registered again.
 */
export class WebhookSecrets {
  private readonly key: Buffer;

  constructor(jwtSecret: string) {
    this.key = Buffer.from(
      hkdfSync('sha256', jwtSecret, 'hitl-webhooks', 'webhook endpoint secrets', 32),
    );
  }

  /** A new secret in the Standard Webhooks form: `whsec_` + base64 of 24 random bytes. */
  static generate(): string {
    return 'whsec_' + randomBytes(24).toString('base64');
  }

  /** `v1.` + base64url(iv | tag | ciphertext). */
  encrypt(secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return 'v1.' + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** Throws when the value was not encrypted with this key (JWT_SECRET changed). */
  decrypt(stored: string): string {
    if (!stored.startsWith('v1.')) throw new Error('unknown secret format');
    const raw = Buffer.from(stored.slice(3), 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

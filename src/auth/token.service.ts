import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { isUuid } from '../common/uuid.js';
import type { SqlExecutor } from '../database/sql-executor.js';
import type { Role } from '../users/user.types.js';
import { jwtKey } from './jwt-key.js';
import { RefreshTokensRepository } from './refresh-tokens.repository.js';

export interface AccessClaims {
  sub: string;
  role: Role;
  exp: number;
  iat: number;
}

const hash = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/**
 * Access tokens are HS* JWTs; refresh tokens are opaque `<id>.<secret>` strings of which only a
 * SHA-256 of the secret is stored.
 */
@Injectable()
export class TokenService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(JwtService) private readonly jwt: JwtService,
    @Inject(RefreshTokensRepository) private readonly refreshTokens: RefreshTokensRepository,
  ) {}

  get accessTtlS(): number {
    return this.config.jwt.accessTtlS;
  }

  signAccess(user: { id: string; role: Role }): Promise<string> {
    return this.jwt.signAsync(
      { role: user.role },
      {
        subject: user.id,
        privateKey: jwtKey(this.config.jwt.secret),
        algorithm: this.config.jwt.algorithm,
        expiresIn: this.config.jwt.accessTtlS,
      },
    );
  }

  /** Verifies signature, algorithm and expiry (which must be present); throws on any failure. */
  verifyAccess(token: string): AccessClaims {
    const claims = this.jwt.verify<AccessClaims>(token, {
      publicKey: jwtKey(this.config.jwt.secret) as unknown as Buffer,
      algorithms: [this.config.jwt.algorithm],
    });
    if (typeof claims.exp !== 'number' || typeof claims.sub !== 'string')
      throw new Error('the access token has no exp or sub');
    return claims;
  }

  async issueRefresh(userId: string, familyId: string, tx?: SqlExecutor): Promise<string> {
    const prepared = this.newRefresh();
    await this.storeRefresh(userId, familyId, prepared, tx);
    return prepared.token;
  }

  /** A fresh refresh token, not yet stored (a rotation seals it before storing it). */
  newRefresh(): { id: string; secret: string; token: string } {
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    return { id, secret, token: `${id}.${secret}` };
  }

  async storeRefresh(
    userId: string,
    familyId: string,
    { id, secret }: { id: string; secret: string },
    tx?: SqlExecutor,
  ): Promise<void> {
    await this.refreshTokens.insert(
      {
        id,
        userId,
        familyId,
        tokenHash: hash(secret),
        expiresAt: new Date(Date.now() + this.config.jwt.refreshTtlS * 1000),
      },
      tx,
    );
  }

  /** Splits a presented refresh token; undefined when it is not one this service could have made. */
  parseRefresh(token: string): { id: string; secret: string } | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const id = token.slice(0, dot);
    const secret = token.slice(dot + 1);
    return isUuid(id) && secret.length > 0 ? { id, secret } : undefined;
  }

  secretMatches(secret: string, storedHash: string): boolean {
    const a = Buffer.from(hash(secret), 'hex');
    const b = Buffer.from(storedHash, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import argon2 from 'argon2';
import { DomainError } from '../common/domain-error.js';
import { Database } from '../database/database.js';
import { UsersService } from '../users/users.service.js';
import type { User } from '../users/user.types.js';
import { toUserView, type UserView } from '../users/user.view.js';
import { openPair, REFRESH_GRACE_MS, sealPair } from './refresh-grace.js';
import { RefreshTokensRepository } from './refresh-tokens.repository.js';
import { TokenService } from './token.service.js';
import type { AuthResponse } from '../contracts/rest.js';

/** What register, login and refresh answer: the contract's `AuthResponse`. */
export type AuthResult = AuthResponse;

const BAD_CREDENTIALS = 'Wrong email or password';
const BAD_REFRESH = 'Invalid or expired refresh token';

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  /** Verified against when the email is unknown, so both failures take the same time. */
  private readonly dummyHash: Promise<string>;

  constructor(
    @Inject(Database) private readonly db: Database,
    @Inject(UsersService) private readonly users: UsersService,
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(RefreshTokensRepository) private readonly refreshTokens: RefreshTokensRepository,
  ) {
    this.dummyHash = argon2.hash(randomUUID());
  }

  hashPassword(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id });
  }

  async register(input: {
    email: string;
    password: string;
    displayName?: string;
  }): Promise<AuthResult> {
    const passwordHash = await this.hashPassword(input.password);
    const user = await this.users.create({
      email: input.email,
      passwordHash,
      displayName: input.displayName ?? null,
      role: 'user',
    });
    this.logger.log({ userId: user.id }, 'user registered');
    return this.startFamily(user);
  }

  async login(input: { email: string; password: string }): Promise<AuthResult> {
    const user = await this.users.findByEmail(input.email);
    const ok = await argon2.verify(user?.passwordHash ?? (await this.dummyHash), input.password);
    if (!user || !ok) throw DomainError.unauthorized(BAD_CREDENTIALS);
    if (user.disabled) throw DomainError.unauthorized('This account is disabled');
    return this.startFamily(user);
  }

  /**
   * Rotates a refresh token. The same token presented again within REFRESH_GRACE_MS of its first
   * use (two tabs racing) gets the pair that first use produced; any later reuse means it leaked:
   * its whole family is revoked, so neither the thief nor the owner can go on without signing in.
   * An expired token is refused before any of that: reuse is detected only until a token expires.
   * The new pair is made before the transaction (the user is read outside it: PGlite has one
   * connection), and stored sealed with the presented token's secret.
   */
  async refresh(presented: string): Promise<AuthResult> {
    const parsed = this.tokens.parseRefresh(presented);
    if (!parsed) throw DomainError.unauthorized(BAD_REFRESH);
    const current = await this.refreshTokens.find(parsed.id);
    if (!current || !this.tokens.secretMatches(parsed.secret, current.token_hash))
      throw DomainError.unauthorized(BAD_REFRESH);
    const user = await this.users.findById(current.user_id);
    if (!user || user.disabled) throw DomainError.unauthorized(BAD_REFRESH);
    const next = this.tokens.newRefresh();
    const pair = { accessToken: await this.tokens.signAccess(user), refreshToken: next.token };
    const outcome = await this.db.transaction(async (tx) => {
      const row = await this.refreshTokens.findForUpdate(parsed.id, REFRESH_GRACE_MS, tx);
      if (!row) return { kind: 'invalid' as const };
      // Expired first, whatever else is true of it: an expired token gets nothing and revokes
      // nothing, so retention deleting it later (past its expiry) changes no answer.
      if (new Date(row.expires_at).getTime() <= Date.now()) return { kind: 'invalid' as const };
      if (row.revoked_at === null && row.used_at !== null && row.in_grace && row.grace_pair) {
        const first = openPair(parsed.secret, row.id, row.grace_pair);
        if (first) return { kind: 'grace' as const, pair: first };
      }
      if (row.used_at !== null || row.revoked_at !== null) {
        await this.refreshTokens.revokeFamily(row.family_id, tx);
        return { kind: 'reused' as const };
      }
      const sealed = sealPair(parsed.secret, row.id, pair);
      if (!(await this.refreshTokens.markUsed(row.id, sealed, tx)))
        return { kind: 'invalid' as const };
      await this.tokens.storeRefresh(row.user_id, row.family_id, next, tx);
      return { kind: 'rotated' as const, pair };
    });
    switch (outcome.kind) {
      case 'invalid':
        throw DomainError.unauthorized(BAD_REFRESH);
      case 'reused':
        this.logger.warn({ userId: user.id }, 'refresh token reuse: family revoked');
        throw DomainError.unauthorized('Refresh token was already used; sign in again');
      case 'grace':
      case 'rotated':
        if (outcome.kind === 'grace')
          this.logger.log({ userId: user.id }, 'refresh token presented again within the grace');
        return { user: toUserView(user), ...outcome.pair, expiresIn: this.tokens.accessTtlS };
    }
  }

  /** Ends the refresh family of the given token when it belongs to the caller. */
  async logout(userId: string, presented: string): Promise<void> {
    const parsed = this.tokens.parseRefresh(presented);
    if (!parsed) return;
    await this.db.transaction(async (tx) => {
      const row = await this.refreshTokens.findForUpdate(parsed.id, 0, tx);
      if (
        row &&
        row.user_id === userId &&
        this.tokens.secretMatches(parsed.secret, row.token_hash)
      ) {
        await this.refreshTokens.revokeFamily(row.family_id, tx);
      }
    });
  }

  /** Signs the user out of every device (used when an admin disables the account). */
  revokeAllRefreshTokens(userId: string): Promise<void> {
    return this.refreshTokens.revokeAllOfUser(userId);
  }

  async me(userId: string): Promise<UserView> {
    return toUserView(await this.users.get(userId));
  }

  private async startFamily(user: User): Promise<AuthResult> {
    return {
      user: toUserView(user),
      accessToken: await this.tokens.signAccess(user),
      refreshToken: await this.tokens.issueRefresh(user.id, randomUUID()),
      expiresIn: this.tokens.accessTtlS,
    };
  }
}

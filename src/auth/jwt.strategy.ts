import type { IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { ExtractJwt, Strategy, type VerifiedCallback } from 'passport-jwt';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { jwtKey } from './jwt-key.js';
import { DomainError } from '../common/domain-error.js';
import {
  databaseUnavailableError,
  isDatabaseUnavailable,
} from '../database/database-unavailable.js';
import { UsersService } from '../users/users.service.js';
import type { AuthUser } from '../users/user.types.js';

type StrategyOutcome = { user: AuthUser } | { error: unknown } | { fail: true };

/**
 * Bearer JWTs through passport-jwt, signed with the configured HS* algorithm only (so `alg: none`
 * and algorithm confusion fail). The user is read on every request so that disabling takes effect
 * at once and a role change applies to the next request.
 *
 * The passport-jwt strategy is used as an object of this app rather than registered in passport's
 * process-wide registry: two app instances in one process (tests, tools) keep their own secrets.
 */
@Injectable()
export class JwtStrategy {
  private readonly strategy: Strategy;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(UsersService) private readonly users: UsersService,
  ) {
    this.strategy = new Strategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKey: jwtKey(config.jwt.secret) as unknown as Buffer,
        algorithms: [config.jwt.algorithm],
        ignoreExpiration: false,
      },
      (payload: { sub?: unknown; exp?: unknown }, done: VerifiedCallback) => {
        this.validate(payload).then(
          (user) => done(null, user),
          (err: unknown) => done(err, false),
        );
      },
    );
  }

  /** Runs the strategy on a request: the authenticated user, or a DomainError UNAUTHORIZED. */
  authenticate(req: IncomingMessage): Promise<AuthUser> {
    return new Promise<StrategyOutcome>((resolve) => {
      const run = Object.create(this.strategy) as Strategy & {
        success: (user: AuthUser) => void;
        fail: () => void;
        error: (err: unknown) => void;
      };
      run.success = (user: AuthUser) => resolve({ user });
      run.fail = () => resolve({ fail: true });
      run.error = (error) => resolve({ error });
      run.authenticate(req as never, {});
    }).then((outcome) => {
      if ('user' in outcome) return outcome.user;
      if ('error' in outcome && outcome.error instanceof DomainError) throw outcome.error;
      // A valid token whose user cannot be read now: the client must keep it and retry.
      if ('error' in outcome && isDatabaseUnavailable(outcome.error))
        throw databaseUnavailableError();
      throw DomainError.unauthorized('Missing, invalid or expired access token');
    });
  }

  private async validate(payload: { sub?: unknown; exp?: unknown }): Promise<AuthUser> {
    // jsonwebtoken checks `exp` only when present; a token that never expires is not one we issue.
    if (typeof payload.exp !== 'number') throw DomainError.unauthorized('Invalid access token');
    const user =
      typeof payload.sub === 'string' ? await this.users.findById(payload.sub) : undefined;
    if (!user) throw DomainError.unauthorized('Invalid access token');
    if (user.disabled) throw DomainError.unauthorized('This account is disabled');
    return { id: user.id, email: user.email, role: user.role };
  }
}

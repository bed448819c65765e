import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/domain-error.js';
import { UsersService } from '../users/users.service.js';
import type { AuthUser } from '../users/user.types.js';

/**
 * Bearer JWTs signed with the configured HS* algorithm only (so `alg: none` and algorithm
 * confusion fail). The user is read on every request so that disabling takes effect at once and
 * a role change applies to the next request.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(UsersService) private readonly users: UsersService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: config.jwt.secret,
      algorithms: [config.jwt.algorithm],
      ignoreExpiration: false,
    });
  }

  async validate(payload: { sub?: unknown }): Promise<AuthUser> {
    const user =
      typeof payload.sub === 'string' ? await this.users.findById(payload.sub) : undefined;
    if (!user) throw DomainError.unauthorized('Invalid access token');
    if (user.disabled) throw DomainError.unauthorized('This account is disabled');
    return { id: user.id, email: user.email, role: user.role };
  }
}

import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AuthThrottleService } from './auth-throttle.service.js';

const MAX_EMAIL_LENGTH = 320;

/**
 * Runs before validation and before the handler (so before any password hashing): every
 * register/login/refresh request counts, whatever its body.
 */
@Injectable()
export class AuthThrottleGuard implements CanActivate {
  constructor(@Inject(AuthThrottleService) private readonly throttle: AuthThrottleService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const body = req.body as { email?: unknown } | undefined;
    const email =
      typeof body?.email === 'string' && body.email.length <= MAX_EMAIL_LENGTH
        ? body.email.trim().toLowerCase()
        : undefined;
    await this.throttle.consumeAttempt(req.ip ?? req.socket.remoteAddress ?? 'unknown', email);
    return true;
  }
}

import { Logger } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { DomainError } from '../common/domain-error.js';
import { payloadProblems } from '../common/payload-guard.js';
import { fieldProblems } from '../common/validation.js';
import { classifyDatabaseError } from '../database/database-unavailable.js';
import type { AckFailure, SocketError } from '../contracts/socket.js';

const logger = new Logger('SocketExceptionFilter');

/**
 * The socket exception filter: any error a handler throws becomes `{code, message, details?}`.
 * Domain errors keep their code; anything unexpected is logged and answered INTERNAL.
 */
function toSocketError(thrown: unknown, context: Record<string, unknown> = {}): SocketError {
  const err = classifyDatabaseError(thrown);
  if (err instanceof DomainError) {
    return {
      code: err.code,
      message: err.message,
      ...(err.details !== undefined ? { details: err.details } : {}),
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    };
  }
  logger.error({ err, ...context }, 'socket handler failed');
  return { code: 'INTERNAL', message: 'Internal server error' };
}

export function failure(err: unknown, context?: Record<string, unknown>): AckFailure {
  return { ok: false, error: toSocketError(err, context) };
}

/**
 * Validates a socket payload against its DTO class with the REST rules: it must be an object,
 * types are checked without coercion, unknown fields are rejected by name.
 */
export async function validatePayload<T extends object>(
  cls: new () => T,
  payload: unknown,
): Promise<T> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw DomainError.validation('The payload must be a JSON object', [
      { field: '(payload)', problems: ['must be an object'] },
    ]);
  }
  const problems = payloadProblems(payload, '(payload)');
  if (problems.length > 0) throw DomainError.validation('Invalid payload', problems);
  const instance = plainToInstance(cls, payload);
  const errors = await validate(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
  });
  if (errors.length > 0) throw DomainError.validation('Invalid payload', fieldProblems(errors));
  return instance;
}

import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { Response } from 'express';
import type { ErrorBody, ErrorCode } from './contracts/error-codes.js';
import { classifyDatabaseError } from './database/database-unavailable.js';
import { DomainError } from './common/domain-error.js';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

/**
 * Maps any error to the REST body of docs/protocol.md "Errors"; unexpected ones become INTERNAL and
 * are logged.
 */
function toErrorBody(thrown: unknown, logger?: Logger): ErrorBody {
  const err = classifyDatabaseError(thrown);
  if (err instanceof DomainError) {
    return {
      statusCode: err.status,
      code: err.code,
      message: err.message,
      ...(err.details !== undefined ? { details: err.details } : {}),
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    };
  }
  const status =
    err instanceof HttpException
      ? err.getStatus()
      : typeof (err as { status?: unknown })?.status === 'number'
        ? (err as { status: number }).status
        : 500;
  if (status >= 500 || status < 400) {
    logger?.error({ err }, 'unhandled error');
    return { statusCode: 500, code: 'INTERNAL', message: 'Internal server error' };
  }
  const message =
    err instanceof HttpException
      ? describeHttpException(err)
      : ((err as { expose?: boolean; message?: string }).expose && (err as Error).message) ||
        'Bad request';
  return { statusCode: status, code: CODE_BY_STATUS[status] ?? 'VALIDATION_FAILED', message };
}

function describeHttpException(err: HttpException): string {
  const r = err.getResponse();
  if (typeof r === 'string') return r;
  const m = (r as { message?: unknown }).message;
  return Array.isArray(m) ? m.join('; ') : typeof m === 'string' ? m : err.message;
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(err: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw err;
    const res = host.switchToHttp().getResponse<Response>();
    // A readiness check that failed (terminus): its report is the useful body.
    if (err instanceof ServiceUnavailableException) {
      res.status(503).json(err.getResponse());
      return;
    }
    const body = toErrorBody(err, this.logger);
    if (res.headersSent) {
      res.end();
      return;
    }
    if (body.retryAfterMs !== undefined) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(body.retryAfterMs / 1000))));
    }
    res.status(body.statusCode).json(body);
  }
}

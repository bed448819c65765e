import { ERROR_STATUS, type ErrorCode } from '../contracts/error-codes.js';

/**
 * The one error type services throw. It knows nothing of HTTP or sockets: the REST and socket
 * exception filters turn it into the shapes of docs/protocol.md "Errors".
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  static notFound(what: string): DomainError {
    return new DomainError('NOT_FOUND', `${what} not found`);
  }

  static validation(message: string, details?: unknown): DomainError {
    return new DomainError('VALIDATION_FAILED', message, details);
  }

  static unauthorized(message = 'Authentication required'): DomainError {
    return new DomainError('UNAUTHORIZED', message);
  }
}

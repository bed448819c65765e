import express, { type NextFunction, type Request, type Response } from 'express';
import type { ErrorBody } from '../contracts/error-codes.js';

/**
 * JSON bodies only, at most `limit` bytes. Parser failures become PROTOCOL.md error bodies here,
 * because they happen before Nest's exception filters are in play.
 */
export function jsonBodyParser(limit: number): express.RequestHandler[] {
  const parse = express.json({
    limit,
    strict: true,
    type: ['application/json', 'application/*+json'],
  });
  const onError = (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    const e = err as { type?: string; status?: number };
    let body: ErrorBody | undefined;
    if (e.type === 'entity.too.large') {
      body = {
        statusCode: 413,
        code: 'PAYLOAD_TOO_LARGE',
        message: `The request body exceeds ${limit} bytes`,
      };
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      body = {
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        message:
          e.type === 'entity.parse.failed'
            ? 'The request body is not valid JSON'
            : 'Unreadable request body',
        details: [{ field: '(body)', problems: ['must be valid JSON'] }],
      };
    }
    if (!body) return next(err);
    res.status(body.statusCode).json(body);
  };
  return [parse, onError as unknown as express.RequestHandler];
}

import express, { type NextFunction, type Request, type Response } from 'express';
import type { ErrorBody } from '../contracts/error-codes.js';

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * JSON bodies only, at most `limit` bytes: a request that carries a body of any other type
 * (text/plain, a form, multipart, XML, or no Content-Type at all) is refused with 415
 * UNSUPPORTED_MEDIA_TYPE rather than read as an empty body. A request without a body (a bare
 * POST) is untouched. Parser failures become the error bodies of docs/protocol.md "Errors" here,
 * because they happen before Nest's exception filters are in play.
 */
export function jsonBodyParser(limit: number): express.RequestHandler[] {
  const onlyJson = (req: Request, res: Response, next: NextFunction): void => {
    if (!hasBody(req) || req.is(JSON_TYPES)) {
      next();
      return;
    }
    const body: ErrorBody = {
      statusCode: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'Request bodies must be JSON (Content-Type: application/json)',
    };
    // The body is not read: close the connection rather than leave it in the socket.
    res.setHeader('Connection', 'close');
    res.status(415).json(body);
  };
  const parse = express.json({
    limit,
    strict: true,
    type: JSON_TYPES,
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
  return [onlyJson, parse, onError as unknown as express.RequestHandler];
}

/** A body is announced by a non-zero Content-Length or by Transfer-Encoding. */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined) return true;
  return length !== undefined && length !== '0';
}

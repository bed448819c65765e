import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { AuthUser } from '../users/user.types.js';
import { PRETTY_TRANSPORT, wantsPrettyLogs } from './pretty-logs.js';
import { activeTraceIds } from './tracing.js';

const REQUEST_ID = /^[\w.-]{1,64}$/;

/**
 * pino for every log line: JSON on stdout, or readable lines when a developer watches a terminal. Each HTTP request gets an id (the caller's
 * X-Request-Id when it is sane) and, once authenticated, the user id. Credentials never reach a
 * log: auth headers and cookies are redacted and request bodies are not logged at all. With
 * tracing on, a line written inside a span carries its `trace_id` and `span_id`.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.logLevel,
          ...(config.tracing ? { mixin: () => activeTraceIds() ?? {} } : {}),
          ...(wantsPrettyLogs(config, process.stdout.isTTY === true)
            ? { transport: PRETTY_TRANSPORT }
            : {}),
          genReqId: (req: IncomingMessage) => {
            const given = req.headers['x-request-id'];
            return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
          },
          customProps: (req: IncomingMessage) => {
            const user = (req as IncomingMessage & { user?: AuthUser }).user;
            return user ? { userId: user.id } : {};
          },
          redact: {
            paths: [
              'req.headers.authorization',
              'req.headers.cookie',
              'res.headers["set-cookie"]',
              '*.password',
              '*.refreshToken',
              '*.accessToken',
              '*.token',
            ],
            censor: '[redacted]',
          },
          serializers: {
            req: (req: { id: unknown; method: string; url: string }) => ({
              id: req.id,
              method: req.method,
              // Query strings may carry cursors or resume points, never credentials; keep the path only.
              url: req.url.split('?')[0],
            }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
          customLogLevel: (_req: IncomingMessage, res: { statusCode: number }, err?: Error) =>
            err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
        },
      }),
    }),
  ],
})
export class LoggingModule {}

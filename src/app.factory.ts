import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { ChatIoAdapter } from './chat/chat-io.adapter.js';
import { RedisConnections } from './cluster/redis-connections.js';
import { jsonBodyParser } from './common/body-parsing.js';
import { HttpExceptionFilter } from './http-exception.filter.js';
import { StrictValidationPipe } from './common/validation.js';
import type { AppConfig } from './config/app-config.js';
import { mountOpenApi } from './docs/openapi.js';
import { HttpSpanRoute } from './observability/http-span-route.js';
import { MetricsService } from './observability/metrics.service.js';
import { mountWebClient } from './web/web-client.js';

/** Builds the whole application (not yet listening); shared by main.ts and the tests. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');
  const cspDirectives = {
    // Swagger UI and the AsyncAPI page use inline styles; scripts stay same-origin only.
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:'],
  };
  const strictHeaders = helmet({ contentSecurityPolicy: { directives: cspDirectives } });
  // The AsyncAPI renderer validates the document with AJV, which compiles schemas to functions.
  const asyncApiPageHeaders = helmet({
    contentSecurityPolicy: {
      directives: { ...cspDirectives, 'script-src': ["'self'", "'unsafe-eval'"] },
    },
  });
  // The web client may be opened over plain http on a LAN address: upgrading its requests to
  // https would break every script and the socket there.
  const webPageHeaders = helmet({
    contentSecurityPolicy: {
      directives: { ...cspDirectives, 'upgrade-insecure-requests': null },
    },
  });
  app.use((req: Request, res: Response, next: NextFunction) =>
    (req.path === '/asyncapi'
      ? asyncApiPageHeaders
      : req.path === '/'
        ? webPageHeaders
        : strictHeaders)(req, res, next),
  );
  app.enableCors({
    origin: [...config.http.corsOrigins],
    credentials: false,
    exposedHeaders: ['Retry-After', 'X-Request-Id'],
    maxAge: 600,
  });
  const metrics = app.get(MetricsService);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      end({
        method: req.method,
        route: route ? req.baseUrl + route : 'unmatched',
        status: String(res.statusCode),
      });
    });
    next();
  });
  mountWebClient(app);
  app.use(...jsonBodyParser(config.http.maxBodyBytes));
  app.useWebSocketAdapter(
    new ChatIoAdapter(app, config.http.corsOrigins, app.get(RedisConnections)),
  );
  app.useGlobalPipes(new StrictValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter());
  if (config.tracing) app.useGlobalInterceptors(new HttpSpanRoute());
  mountOpenApi(app);
  await app.init();
  return app;
}

/** Starts listening and returns the bound port (useful with port 0 in tests). */
export async function listen(
  app: NestExpressApplication,
  port: number,
  host: string,
): Promise<number> {
  await app.listen(port, host);
  const address = app.getHttpServer().address();
  return typeof address === 'object' && address ? address.port : port;
}

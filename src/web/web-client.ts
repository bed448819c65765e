import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { packageRoot } from '../common/package-root.js';

/** Where `npm run build` puts the web client (Vite's output). */
const WEB_DIST = join(packageRoot(), 'dist', 'web');

const YEAR_S = 365 * 24 * 3600;

/**
 * Serves the web client at `/`. Its assets carry a content hash in their names, so they are cached
 * for a year and never revalidated; index.html names the current ones and is revalidated on every
 * load, so a new build reaches browsers at once.
 */
export function mountWebClient(app: NestExpressApplication, dir = WEB_DIST): void {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    new Logger('WebClient').warn(`web client not built (${index} missing): run npm run build`);
    return;
  }
  app.use(
    '/assets',
    express.static(join(dir, 'assets'), {
      index: false,
      fallthrough: true,
      setHeaders: (res) => res.setHeader('Cache-Control', `public, max-age=${YEAR_S}, immutable`),
    }),
  );
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.path !== '/' || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index, (err?: Error) => {
      if (err && !res.headersSent) next(err);
    });
  });
}

import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, Res, StreamableFile } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/auth.decorators.js';
import { packageRoot } from '../common/package-root.js';
import { buildAsyncApiDocument } from './asyncapi.js';
import type { JsonSchema } from '../contracts/schemas.js';

const RENDERER = join('node_modules', '@asyncapi', 'react-component');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>HITL agent backend: realtime API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/asyncapi/assets/default.min.css">
</head>
<body>
<div id="asyncapi"></div>
<script src="/asyncapi/assets/index.js"></script>
<script src="/asyncapi/assets/init.js"></script>
</body>
</html>
`;

const INIT = `AsyncApiStandalone.render(
  { schema: { url: '/asyncapi.json', options: { method: 'GET', mode: 'same-origin' } }, config: { show: { sidebar: true } } },
  document.getElementById('asyncapi'),
);
`;

/**
 * The AsyncAPI document of the socket API and its rendering with @asyncapi/react-component's
 * standalone bundle, served from this service (no CDN).
 */
@ApiExcludeController()
@Public()
@Controller('asyncapi')
export class DocsController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return PAGE;
  }

  @Get('assets/init.js')
  @Header('Content-Type', 'application/javascript; charset=utf-8')
  init(): string {
    return INIT;
  }

  @Get('assets/index.js')
  @Header('Content-Type', 'application/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  bundle(): StreamableFile {
    return new StreamableFile(
      createReadStream(join(packageRoot(), RENDERER, 'browser', 'standalone', 'index.js')),
    );
  }

  @Get('assets/default.min.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  styles(): StreamableFile {
    return new StreamableFile(
      createReadStream(join(packageRoot(), RENDERER, 'styles', 'default.min.css')),
    );
  }
}

/** GET /asyncapi.json (a sibling path, so it is its own controller). */
@ApiExcludeController()
@Public()
@Controller()
export class AsyncApiJsonController {
  private readonly doc: JsonSchema = buildAsyncApiDocument();

  @Get('asyncapi.json')
  json(@Res({ passthrough: true }) res: Response): JsonSchema {
    res.type('application/json');
    return this.doc;
  }
}
